"""Note readings that criterion matching depends on (issue 13): what the reader records
for told events, resolved conditions, allergies and values given by their unit.

The notes are fictional and written for these tests."""

from __future__ import annotations

from datetime import date

import pytest

from trialscout.criteria import parse_criteria
from trialscout.matching.facts import PatientFacts
from trialscout.matching.item import evaluate_item
from trialscout.patients.notes import extract_note

REF = date(2025, 6, 1)


def test_a_told_fracture_takes_the_concept_of_its_head_word() -> None:
    profile = extract_note("A 40-year-old man who fractured his ankle playing football.",
                           reference_date=REF)
    assert [(c.name, c.concept) for c in profile.conditions] == [("ankle fracture",
                                                                   "fracture")]


def test_a_cause_between_an_event_and_its_date_does_not_take_the_date() -> None:
    profile = extract_note("She broke her wrist in a fall on the ice in January 2025.",
                           reference_date=REF)
    wrist = next(c for c in profile.conditions if c.concept == "wrist_fracture")
    assert wrist.onset == date(2025, 1, 1)


def test_surgery_for_a_condition_still_leaves_the_date_to_the_surgery() -> None:
    profile = extract_note("He had surgery for a hip fracture in 2019.", reference_date=REF)
    assert all(c.onset is None for c in profile.conditions if c.concept == "hip_fracture")


@pytest.mark.parametrize("note", [
    "His hepatitis C was cured with antiviral tablets in 2018.",
    "She was treated for pneumonia in March and has been well since.",
    "Her Graves disease is in remission.",
])
def test_a_condition_said_to_be_over_is_resolved(note: str) -> None:
    profile = extract_note(note, reference_date=REF)
    assert profile.conditions and all(c.status == "resolved" for c in profile.conditions)


@pytest.mark.parametrize("note", [
    "Her asthma, which has never been cured, flares every winter.",
    "He has hepatitis C and his brother's hepatitis was cured.",
])
def test_a_resolution_of_something_else_leaves_the_condition_active(note: str) -> None:
    profile = extract_note(note, reference_date=REF)
    first = profile.conditions[0]
    assert first.status == "active"


def test_allergic_as_an_adjective_names_no_allergen() -> None:
    profile = extract_note("She has allergic rhinitis and allergic conjunctivitis; she is "
                           "allergic to latex.", reference_date=REF)
    assert [a.substance for a in profile.allergies] == ["latex"]


def test_a_value_with_the_egfr_unit_is_an_egfr_once_egfr_is_named() -> None:
    profile = extract_note("Her eGFR keeps falling; last week it was down to 24 "
                           "mL/min/1.73 m2.", reference_date=REF)
    assert [(m.analyte, m.value) for m in profile.measurements] == [("egfr", 24.0)]


@pytest.mark.parametrize("note", [
    "His eGFR has stayed between 35 and 45 mL/min/1.73m2.",
    "Her eGFR is known to be below 60 mL/min/1.73m2.",
    "Renal function: 52 mL/min/1.73m2 on the last check.",
])
def test_bounds_ranges_and_unnamed_values_give_no_egfr(note: str) -> None:
    profile = extract_note(note, reference_date=REF)
    assert not profile.measurements


def _verdict(criterion: str, section: str, note: str) -> tuple[str, bool]:
    heading = "Inclusion Criteria" if section == "inclusion" else "Exclusion Criteria"
    parsed = parse_criteria(f"{heading}:\n* {criterion}")
    profile = extract_note(note, reference_date=REF)
    verdict = evaluate_item(parsed.items[0], PatientFacts(profile, REF))
    return verdict.verdict, verdict.applicable


def test_a_pregnancy_exclusion_does_not_apply_after_menopause() -> None:
    assert _verdict("Pregnancy", "exclusion", "A 68-year-old woman with gout.") == (
        "MET", False)
    assert _verdict("Pregnancy", "exclusion", "A 30-year-old woman with gout.")[0] == \
        "UNKNOWN"


def test_a_pregnancy_inclusion_still_fails_after_menopause() -> None:
    assert _verdict("Pregnant women in the first trimester", "inclusion",
                    "A 68-year-old woman with gout.") == ("NOT_MET", True)
