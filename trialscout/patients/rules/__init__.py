"""Rule files for patient import (LOINC map, context cues, note patterns, times), each read
through its schema (:mod:`trialscout.rulefiles`) and handed back as the mapping the code
reads by key. A new key in a file needs its field here, and the code that reads it."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from trialscout.rulefiles import RuleFile, RulesError, Strict, load_mapping

RULES_DIR = Path(__file__).parent

__all__ = ["RULES_DIR", "SCHEMAS", "RulesError", "load_rules"]


# ------------------------------------------------------------------ loinc.yaml
class LoincAnalyte(Strict):
    name: str
    unit: str


class LoincRules(RuleFile):
    analytes: dict[str, LoincAnalyte]
    panels: list[str]
    special: dict[str, list[str]]
    smoking_values: dict[str | int, str]
    yes_no_values: dict[str | int, bool]
    menopause_values: dict[str | int, str]


# ------------------------------------------------------------------ context.yaml
class CriterionCueLists(Strict):
    """The criterion cues (read by ``trialscout.textcontext``)."""

    negation: list[str]
    inability: list[str]
    prospective: list[str]
    prospective_verbs: list[str]
    occasion: list[str]
    anchor: list[str]
    effect: list[str]
    rationale: list[str]
    says_excluded: list[str]


class ContextRules(RuleFile):
    cues: dict[str, dict[Literal["forward", "backward"], list[str]]]
    pseudo: list[str]
    terminators: list[str]
    windows: dict[str, int]
    scope_passes: dict[str, list[str]] = Field(default_factory=dict)
    criteria: CriterionCueLists


# ------------------------------------------------------------------ notes.yaml
class NoteSex(Strict):
    female: list[str]
    male: list[str]
    female_pronouns: list[str]
    male_pronouns: list[str]


class NoteAnalyte(Strict):
    aliases: list[str]
    unit: str


class NotePregnancy(Strict):
    pregnant: list[str]
    lactating: list[str]
    postmenopausal: list[str]
    premenopausal: list[str]
    perimenopausal: list[str]
    menopause_age: str
    menopause_ago: str


class NoteSmoking(Strict):
    never: list[str]
    former: list[str]
    current: list[str]
    pack_years: str


class NotePerformance(Strict):
    ecog: str
    karnofsky: str


class EventPhrase(Strict):
    pattern: str
    name: str
    parts: dict[str, str] = Field(default_factory=dict)


class NoteRules(RuleFile):
    age: list[str]
    sex: NoteSex
    analytes: dict[str, NoteAnalyte]
    value_link: str
    value: str
    unit: str
    blood_pressure: str
    pregnancy: NotePregnancy
    smoking: NoteSmoking
    performance: NotePerformance
    condition_heads: str
    condition_stop_words: list[str]
    drug_suffixes: str
    drug_names: list[str]
    no_medications: list[str]
    procedure_heads: str
    ago: str
    for_duration: str
    history_duration: str
    since_year: str
    number_words: dict[str, float]
    allergy: str
    no_allergies: list[str]
    event_phrases: list[EventPhrase]


# ------------------------------------------------------------------ times.yaml
class TimeRules(RuleFile):
    number_words: dict[str, float]
    months: dict[str, int]
    amount: str
    expressions: dict[str, str]
    date_shapes: dict[str, str]
    cues: dict[str, str]
    clause_break: str
    reach: int


SCHEMAS: dict[str, type[RuleFile]] = {
    "loinc": LoincRules,
    "context": ContextRules,
    "notes": NoteRules,
    "times": TimeRules,
}


@cache
def load_rules(name: str) -> dict[str, Any]:
    """``rules/<name>.yaml``, validated by its schema, read once per process."""
    return load_mapping(RULES_DIR / f"{name}.yaml", SCHEMAS[name])
