"""The note reader's patterns, compiled once from ``rules/notes.yaml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from trialscout.patients.concepts import concept_index
from trialscout.patients.rules import load_rules

_I = re.IGNORECASE


@dataclass(frozen=True)
class Analyte:
    name: str
    unit: str
    pattern: re.Pattern[str]
    aliases: tuple[str, ...] = ()


def _unit_pattern(unit: str) -> str:
    """A per-body-surface unit as notes write it: any case, "m2" also as "m²" or "m^2"."""
    return re.escape(unit).replace("m2", r"\s*m(?:2|²|\^2)").replace("/", r"\s*/\s*")


class NoteRules:
    def __init__(self, data: dict[str, Any]) -> None:
        self.age = [re.compile(p, _I) for p in data["age"]]
        sex = data["sex"]
        self.female = re.compile(r"\b(?:" + "|".join(sex["female"]) + r")\b", _I)
        self.male = re.compile(r"\b(?:" + "|".join(sex["male"]) + r")\b", _I)
        self.female_pronouns = re.compile(
            r"\b(?:" + "|".join(sex["female_pronouns"]) + r")\b", _I)
        self.male_pronouns = re.compile(r"\b(?:" + "|".join(sex["male_pronouns"]) + r")\b", _I)
        tail = data["value_link"] + data["value"] + r"\s*" + data["unit"]
        self.analytes = []
        for name, spec in data["analytes"].items():
            aliases = sorted(spec["aliases"], key=len, reverse=True)
            body = "|".join(re.escape(a) for a in aliases)
            self.analytes.append(Analyte(concept_index().analyte(str(name)), str(spec["unit"]),
                                          re.compile(
                rf"(?<![\w-])(?P<alias>{body})(?![\w-]){tail}", _I),
                tuple(a.lower() for a in aliases)))
        # a value written with a unit only one analyte uses ("22 mL/min/1.73m2" is an
        # eGFR) belongs to that analyte when the sentence names it elsewhere
        units = [a.unit for a in self.analytes]
        self.unit_values = [(a, re.compile(
            r"(?<![\w.-])(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>" + _unit_pattern(a.unit)
            + r")(?![\w/])", _I))
            for a in self.analytes if units.count(a.unit) == 1 and a.unit.endswith("/1.73m2")]
        self.blood_pressure = re.compile(data["blood_pressure"], _I)
        preg = data["pregnancy"]
        self.pregnancy = {key: [re.compile(p, _I) for p in preg[key]]
                          for key in ("pregnant", "lactating", "postmenopausal",
                                      "premenopausal", "perimenopausal")}
        self.menopause_age = re.compile(preg["menopause_age"], _I)
        self.menopause_ago = re.compile(preg["menopause_ago"], _I)
        smoking = data["smoking"]
        self.smoking = {key: [re.compile(p, _I) for p in smoking[key]]
                        for key in ("never", "former", "current")}
        self.pack_years = re.compile(smoking["pack_years"], _I)
        self.ecog = re.compile(data["performance"]["ecog"], _I)
        self.karnofsky = re.compile(data["performance"]["karnofsky"], _I)
        self.condition_head = re.compile(rf"(?<![\w-]){data['condition_heads']}(?![\w-])", _I)
        self.stop_words = frozenset(w.lower() for w in data["condition_stop_words"])
        self.drug_suffix = re.compile(rf"(?<![\w-]){data['drug_suffixes']}(?![\w-])", _I)
        names = sorted(data["drug_names"], key=len, reverse=True)
        self.drug_names = re.compile(
            r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])", _I)
        self.no_medications = [re.compile(p, _I) for p in data["no_medications"]]
        self.procedure_head = re.compile(rf"(?<![\w-]){data['procedure_heads']}(?![\w-])", _I)
        self.ago = re.compile(data["ago"], _I)
        self.for_duration = re.compile(data["for_duration"], _I)
        self.history_duration = re.compile(data["history_duration"], _I)
        self.since_year = re.compile(data["since_year"], _I)
        self.number_words = {str(k): float(v) for k, v in data["number_words"].items()}
        self.event_phrases = [(re.compile(str(e["pattern"]), _I), str(e["name"]),
                               {str(k): str(v) for k, v in (e.get("parts") or {}).items()})
                              for e in data.get("event_phrases") or []]
        self.allergy = re.compile(data["allergy"], _I)
        self.no_allergies = [re.compile(p, _I) for p in data["no_allergies"]]


@lru_cache(maxsize=1)
def note_rules() -> NoteRules:
    return NoteRules(load_rules("notes"))
