"""The rule files for patient import and matching load, compile and name known concepts."""

from __future__ import annotations

import re

import pytest

from trialscout.matching.rules import load_rules as matching_rules
from trialscout.patients.concepts import concept_index
from trialscout.patients.rules import load_rules as patient_rules
from trialscout.vocabulary import vocabulary

LOINC = re.compile(r"^\d{1,6}-\d$")


def test_loinc_map() -> None:
    data = patient_rules("loinc")
    index = concept_index()
    for code, spec in data["analytes"].items():
        assert LOINC.match(code), code
        assert spec["unit"], code
        analyte = index.analyte(spec["name"])
        concept = vocabulary().concept(analyte)
        assert concept is None or concept.kind in {"lab", "observation"}, code
    special = {c for codes in data["special"].values() for c in codes}
    assert not special & set(data["analytes"])
    assert set(data["smoking_values"].values()) <= {"current", "former", "never"}


def test_note_patterns_compile_and_analytes_are_vocabulary_labs() -> None:
    data = patient_rules("notes")
    for key in ("value_link", "value", "unit", "blood_pressure", "condition_heads",
                "drug_suffixes", "procedure_heads", "ago", "for_duration", "allergy"):
        re.compile(data[key])
    for group in ("pregnancy", "smoking"):
        for value in data[group].values():
            for pattern in value if isinstance(value, list) else [value]:
                re.compile(pattern)
    labs = {c.id for c in vocabulary().concepts("lab")}
    index = concept_index()
    known = [name for name in data["analytes"] if index.analyte(name) in labs]
    assert len(known) >= 0.8 * len(data["analytes"])


def test_context_cues() -> None:
    data = patient_rules("context")
    assert set(data["cues"]) == {"negated", "family", "hypothetical", "historical"}
    for directions in data["cues"].values():
        assert set(directions) <= {"forward", "backward"}
    assert all(isinstance(v, int) and v > 0 for v in data["windows"].values())


@pytest.mark.parametrize("name", ["analytes", "ranking", "items"])
def test_matching_rules(name: str) -> None:
    data = matching_rules(name)
    assert data["version"] >= 1
    if name == "analytes":
        for analyte, patterns in data["normal_cues"].items():
            assert vocabulary().concept(analyte) is not None, analyte
            for pattern in patterns:
                re.compile(pattern)
    if name == "ranking":
        assert data["bands"]["verdicts"] == ["eligible", "possibly_eligible", "not_eligible"]
        assert data["bands"]["main_condition"] == ["recorded", "not_recorded"]
        confidence = data["confidence"]
        # What decided a failing verdict: the patient's answer is the surest, the
        # closed-world absence the least sure; each doubt lowers the confidence.
        assert 1 >= confidence["answer"] >= confidence["fact"] >= confidence["note_fact"] \
            >= confidence["note"] >= confidence["absence"] > 0
        for doubt in ("weak_parse", "double_negation", "polarity_unsure", "registry_disagrees",
                      "section_unsure"):
            assert 0 < confidence[doubt] < 1
        assert 0 < confidence["min_coverage"] < 1
    if name == "items":
        for rule in data["note_rules"]:
            re.compile(rule["when"])
            re.compile(rule["note"])
        re.compile(data["unparsed_threshold"])
