"""Matching honours whose a fact is and how the criterion speaks of it.

A relative's condition is checked against family history only; a planned procedure is
not satisfied by a past one; a contraindication needs the record to state one; a
supposition is never decided from the record.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.matching.builders import constraint, item
from trialscout.criteria import parse_criteria
from trialscout.criteria.model import Item
from trialscout.matching.facts import PatientFacts
from trialscout.matching.item import evaluate_item
from trialscout.matching.modality import modality_outcome
from trialscout.patients.model import PatientProfile
from trialscout.patients.notes import extract_note

REF = date(2024, 6, 1)


def _facts(note: str | None = None, **profile: Any) -> PatientFacts:
    if note is not None:
        return PatientFacts(extract_note(note, reference_date=REF), REF)
    return PatientFacts(PatientProfile.model_validate(profile), REF)


def _item(kind: str, cid: str, *, section: str = "inclusion", experiencer: str = "patient",
          modality: str = "actual", text: str = "criterion") -> Item:
    c = constraint(kind, cid=cid, text=text,
                   polarity="required" if section == "inclusion" else "must_not")
    c = c.model_copy(update={"experiencer": experiencer, "modality": modality})
    return item([c], section=section, text=text)


# ---------------------------------------------------------------- family

def test_the_patients_own_condition_is_not_family_history() -> None:
    it = _item("condition", "hip_fracture", experiencer="family",
               text="Parental history of hip fracture")
    facts = _facts(conditions=[{"name": "hip fracture", "concept": "hip_fracture"}])
    assert evaluate_item(it, facts).verdict == "UNKNOWN"


def test_a_recorded_family_history_meets_it() -> None:
    it = _item("condition", "hip_fracture", experiencer="family",
               text="Parental history of hip fracture")
    facts = _facts(family_history=[{"name": "hip fracture", "concept": "hip_fracture",
                                    "relative": "mother"}])
    assert evaluate_item(it, facts).verdict == "MET"


def test_a_family_history_exclusion_is_met_by_the_relatives_condition_only() -> None:
    it = _item("condition", "breast_cancer", section="exclusion", experiencer="family",
               text="Family history of breast cancer")
    relative = _facts(family_history=[{"name": "breast cancer", "concept": "breast_cancer"}])
    own = _facts(conditions=[{"name": "breast cancer", "concept": "breast_cancer"}])
    assert evaluate_item(it, relative).verdict == "NOT_MET"
    assert evaluate_item(it, own).verdict == "UNKNOWN"


def test_family_history_from_the_note() -> None:
    it = _item("condition", "hip_fracture", experiencer="family",
               text="Parental history of hip fracture")
    told = _facts("A 66-year-old woman. Her mother had a hip fracture at 70.")
    own = _facts("A 66-year-old woman who had a hip fracture last year.")
    assert evaluate_item(it, told).verdict == "MET"
    assert evaluate_item(it, own).verdict == "UNKNOWN"


def test_silence_about_the_family_stays_unknown_in_a_closed_world() -> None:
    it = _item("condition", "breast_cancer", section="exclusion", experiencer="family",
               text="Family history of breast cancer")
    facts = _facts("A 50-year-old woman with osteoporosis on alendronate.")
    assert evaluate_item(it, facts, closed_world=True).verdict == "UNKNOWN"


# ---------------------------------------------------------------- planned

def test_a_past_procedure_does_not_satisfy_a_planned_one() -> None:
    it = _item("procedure", "hip_replacement", section="exclusion", modality="planned",
               text="Hip replacement planned during the study")
    facts = _facts(procedures=[{"name": "hip replacement", "concept": "hip_replacement",
                                "date": "2019-03-01"}])
    result = evaluate_item(it, facts)
    assert result.verdict == "UNKNOWN"


def test_a_stated_plan_decides_it() -> None:
    it = _item("procedure", "hip_replacement", section="exclusion", modality="planned",
               text="Hip replacement planned during the study")
    planned = _facts("A 70-year-old man. A hip replacement is scheduled for next month.")
    none = _facts("A 70-year-old man. No hip replacement is planned.")
    assert evaluate_item(it, planned).verdict == "NOT_MET"
    assert evaluate_item(it, none).verdict == "MET"


def test_planned_absence_is_not_known_from_silence() -> None:
    it = _item("procedure", "dental_surgery", section="exclusion", modality="planned",
               text="Invasive dental procedure planned during the study")
    facts = _facts("A 64-year-old woman with osteoporosis. She had a tooth extraction in "
                   "2019.")
    assert evaluate_item(it, facts).verdict == "UNKNOWN"
    # a note read as complete for exclusions mentions no plan: none is taken to exist
    assert evaluate_item(it, facts, closed_world=True).verdict == "MET"


def test_an_unplanned_inclusion_stays_unknown_in_a_closed_world() -> None:
    it = _item("procedure", "hip_replacement", modality="planned",
               text="Scheduled for hip replacement")
    facts = _facts("A 70-year-old man with hip osteoarthritis.")
    assert evaluate_item(it, facts, closed_world=True).verdict == "UNKNOWN"


# ---------------------------------------------------------------- contraindication

def test_having_had_an_mri_is_not_a_contraindication() -> None:
    it = _item("procedure", "mri", section="exclusion", modality="contraindication",
               text="Contraindication to MRI")
    facts = _facts(procedures=[{"name": "MRI", "concept": "mri", "date": "2023-01-01"}])
    assert evaluate_item(it, facts).verdict == "UNKNOWN"


def test_a_stated_contraindication_excludes() -> None:
    it = _item("procedure", "mri", section="exclusion", modality="contraindication",
               text="Contraindication to MRI")
    stated = _facts("A 60-year-old man with a pacemaker; MRI is contraindicated.")
    assert evaluate_item(it, stated).verdict == "NOT_MET"


def test_an_allergy_to_the_drug_is_a_contraindication() -> None:
    it = _item("medication", "denosumab", section="exclusion", modality="contraindication",
               text="Contraindication to denosumab")
    allergic = _facts(allergies=[{"substance": "denosumab", "concept": "denosumab"}])
    taking = _facts(medications=[{"name": "denosumab", "concept": "denosumab",
                                  "status": "active"}])
    assert evaluate_item(it, allergic).verdict == "NOT_MET"
    assert evaluate_item(it, taking).verdict == "UNKNOWN"


# ---------------------------------------------------------------- hypothetical and actual

def test_a_supposition_is_never_decided_from_the_record() -> None:
    it = _item("pregnancy", "pregnancy", section="exclusion", modality="hypothetical",
               text="If pregnancy occurs during the study")
    outcome = modality_outcome(_facts(pregnant=True, sex="female"), it.constraints[0])
    assert outcome is not None and outcome.holds is None


def test_actual_patient_facts_are_left_to_the_usual_checks() -> None:
    c = constraint("condition", cid="hip_fracture", text="hip fracture")
    assert modality_outcome(_facts(), c) is None


# ---------------------------------------------------------------- with the parser

@pytest.mark.parametrize("criterion,profile,verdict", [
    ("Parental history of hip fracture",
     {"conditions": [{"name": "hip fracture", "concept": "hip_fracture"}]}, "UNKNOWN"),
    ("Parental history of hip fracture",
     {"family_history": [{"name": "hip fracture", "concept": "hip_fracture",
                          "relative": "father"}]}, "MET"),
])
def test_inclusion_with_the_parser(criterion: str, profile: dict[str, Any], verdict: str
                                   ) -> None:
    parsed = parse_criteria(f"Inclusion Criteria:\n\n* {criterion}")
    assert evaluate_item(parsed.items[0], _facts(**profile)).verdict == verdict


@pytest.mark.parametrize("criterion,profile,verdict", [
    ("Invasive dental procedure planned during the study",
     {"procedures": [{"name": "dental surgery", "concept": "dental_surgery",
                      "date": "2020-01-01"}]}, "UNKNOWN"),
    ("Contraindication to MRI",
     {"procedures": [{"name": "MRI", "concept": "mri", "date": "2023-01-01"}]}, "UNKNOWN"),
    ("No history of MI within 6 months",
     {"conditions": [{"name": "myocardial infarction", "concept": "myocardial_infarction",
                      "onset": "2024-04-01"}]}, "NOT_MET"),
])
def test_exclusion_with_the_parser(criterion: str, profile: dict[str, Any], verdict: str
                                   ) -> None:
    parsed = parse_criteria(f"Exclusion Criteria:\n\n* {criterion}")
    assert evaluate_item(parsed.items[0], _facts(**profile)).verdict == verdict


def test_a_booked_procedure_is_a_plan() -> None:
    it = _item("procedure", "dental_surgery", section="exclusion", modality="planned",
               text="Invasive dental procedure planned during the study")
    booked = _facts("A 73-year-old woman. A tooth extraction is booked for next month.")
    assert evaluate_item(it, booked).verdict == "NOT_MET"


def test_a_stated_plan_decides_a_criterion_that_opens_with_planned() -> None:
    parsed = parse_criteria("Exclusion Criteria:\n\n* Planned hip replacement")
    c = parsed.items[0].constraints[0]
    assert c.modality == "planned"
    booked = _facts("A 70-year-old man. A hip replacement is scheduled for next month.")
    assert evaluate_item(parsed.items[0], booked).verdict == "NOT_MET"
