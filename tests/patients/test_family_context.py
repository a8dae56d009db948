"""Family history in notes is the relatives' context, not the patient's own condition
(the note side of the context rules). Sentences written for these tests."""

from __future__ import annotations

from datetime import date

import pytest

from trialscout.matching.facts import PatientFacts
from trialscout.patients.notes import extract_note

REF = date(2024, 6, 1)


@pytest.mark.parametrize(("sentence", "concept", "relative"), [
    ("Her mother broke her hip at 78.", "hip_fracture", "mother"),
    ("Her father fractured his wrist last winter.", "wrist_fracture", "father"),
    ("Her mother, who had breast cancer, is alive and well.", "breast_cancer", "mother"),
    ("Mother: ovarian cancer.", "ovarian_cancer", "mother"),
    ("FH: type 2 diabetes.", "type_2_diabetes", None),
    ("Family history positive for colon cancer.", "colorectal_cancer", None),
    ("Family hx notable for stroke.", "stroke", None),
    ("Family history of breast cancer.", "breast_cancer", None),
    ("Her sister's osteoporosis was found on a screening scan.", "osteoporosis", "sister"),
    ("Her husband was diagnosed with prostate cancer.", "prostate_cancer", "husband"),
])
def test_a_relatives_condition_is_family_context(sentence: str, concept: str,
                                                 relative: str | None) -> None:
    profile = extract_note("A 63-year-old woman. " + sentence, reference_date=REF)
    assert concept not in {c.concept for c in profile.conditions}
    family = {f.concept: f for f in profile.family_history}
    assert concept in family and family[concept].relative == relative
    facts = PatientFacts(profile, REF)
    # matching reads the note again: any mention it finds there is a relative's too
    assert all(h.family for h in facts.note_hits([concept]))


def test_the_patients_own_condition_beside_a_relatives_stays_hers() -> None:
    profile = extract_note("A 63-year-old woman. She has osteoporosis, and her mother had "
                           "a hip fracture.", reference_date=REF)
    assert "osteoporosis" in {c.concept for c in profile.conditions}
    assert "hip_fracture" not in {c.concept for c in profile.conditions}
    assert "hip_fracture" in {f.concept for f in profile.family_history}


def test_a_denied_family_history_is_neither() -> None:
    profile = extract_note("A 63-year-old woman. No family history of osteoporosis.",
                           reference_date=REF)
    assert not profile.family_history
    assert "osteoporosis" not in {c.concept for c in profile.conditions}


@pytest.mark.parametrize("sentence", [
    "Her sister was treated for breast cancer at 41.",
    "Her father was hospitalized for a stroke last year.",
])
def test_a_relatives_treatment_for_a_condition_stays_the_relatives(sentence: str) -> None:
    profile = extract_note("A 45-year-old woman. " + sentence, reference_date=REF)
    assert not profile.conditions
    assert profile.family_history


def test_a_relative_bringing_the_patient_in_does_not_make_her_illness_theirs() -> None:
    profile = extract_note("A 3-year-old girl brought in by ambulance by her parents for "
                           "two days of fever.", reference_date=REF)
    assert "fever" in {c.concept for c in profile.conditions}


@pytest.mark.parametrize(("note", "absent"), [
    ("His first knee replacement is scheduled for next spring.", "knee_replacement"),
    ("She was scheduled for a lumpectomy.", "mastectomy"),
    ("His doctor may add insulin if his sugars rise.", "insulin"),
    ("Her dentist worries she could develop osteonecrosis of the jaw.",
     "osteonecrosis_of_the_jaw"),
])
def test_planned_or_feared_is_not_had(note: str, absent: str) -> None:
    profile = extract_note("A 70-year-old. " + note, reference_date=REF)
    had = {c.concept for c in profile.conditions} | {p.concept for p in profile.procedures} \
        | {m.concept for m in profile.medications}
    assert absent not in had
