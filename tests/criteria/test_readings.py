"""Parser readings: negation scope, whose a fact is, how it is spoken of, and ranges.

Each defect of issue 13's "parser misreadings" has a case here, plus varied phrasings of
each reading written for these tests.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.criteria.helpers import constraints, only
from trialscout.criteria.model import Constraint

EXC = "Exclusion Criteria:"


def _by_concept(text: str, concept: str, section: str = "Inclusion Criteria:") -> Constraint:
    found = [c for c in constraints(text, section=section)
             if c.concept is not None and (c.concept.id == concept
                                           or concept in {a.id for a in c.any_of})]
    assert len(found) == 1, [(c.kind, c.concept and c.concept.id) for c in
                             constraints(text, section=section)]
    return found[0]


def _ids(text: str, section: str = "Inclusion Criteria:") -> set[str]:
    out: set[str] = set()
    for c in constraints(text, section=section):
        if c.concept is not None:
            out.add(c.concept.id)
        out.update(a.id for a in c.any_of)
    return out


# ---------------------------------------------------------------- the defects

def test_oophorectomy_is_a_way_to_qualify_not_a_negated_procedure() -> None:
    text = ("Postmenopausal for at least 5 years (no spontaneous menses for ≥ 5 years, or "
            "bilateral oophorectomy ≥ 5 years before screening)")
    c = _by_concept(text, "oophorectomy")
    assert (c.kind, c.polarity, c.negated) == ("procedure", "required", False)
    assert c.window is not None and c.window.relation == "before"


def test_parathyroidectomy_is_not_thyroidectomy() -> None:
    c = only("Prior parathyroidectomy", "procedure")
    assert c.concept is not None and c.concept.id == "parathyroidectomy"
    assert "thyroidectomy" not in _ids("Prior parathyroidectomy")
    assert _ids("Prior total thyroidectomy") == {"thyroidectomy"}


@pytest.mark.parametrize("text,concept", [
    ("No history of MI within 6 months", "myocardial_infarction"),
    ("No stroke in the past 3 months", "stroke"),
    ("No known hypersensitivity reaction requiring hospitalization", None),
    ("No prior treatment with denosumab", "denosumab"),
])
def test_an_exclusion_opening_with_no_excludes_the_event(text: str, concept: str | None
                                                          ) -> None:
    cs = [c for c in constraints(text, section=EXC)
          if concept is None or (c.concept is not None and c.concept.id == concept)]
    assert cs
    assert all(c.polarity == "must_not" for c in cs if c.kind != "other")


def test_no_history_of_mi_keeps_its_window() -> None:
    c = only("No history of MI within 6 months", "condition", section=EXC)
    assert c.polarity == "must_not" and c.negated is False
    assert c.window is not None and (c.window.relation, c.window.amount) == ("within", 6)


def test_no_measurable_disease_in_an_exclusion_is_a_real_negation() -> None:
    c = _by_concept("No measurable disease", "measurable_disease", section=EXC)
    assert c.polarity == "required" and c.negated is True


def test_a_negation_that_is_not_the_opening_word_still_flips_an_exclusion() -> None:
    c = _by_concept("Patients without measurable disease", "measurable_disease", section=EXC)
    assert c.polarity == "required" and c.negated is True


@pytest.mark.parametrize("text", [
    "eGFR ≥15 and <30 mL/min/1.73m2",
    "eGFR ≥ 15 but < 30 mL/min/1.73 m²",
    "eGFR \\>= 15 and \\< 30 mL/min/1.73m2",
    "estimated GFR of at least 15 and less than 30 mL/min/1.73m2",
])
def test_egfr_band_keeps_both_bounds(text: str) -> None:
    cs = constraints(text, "measurement")
    assert cs and all(c.concept is not None and c.concept.id == "egfr" for c in cs)
    bounds = sorted((c.quantity.comparator, c.quantity.value) for c in cs
                    if c.quantity is not None)
    assert bounds == [("ge", 15), ("lt", 30)]
    assert all(c.polarity == "required" for c in cs)


@pytest.mark.parametrize("text", ["eGFR 15-29 mL/min/1.73m2",
                                  "eGFR between 15 and 29 mL/min/1.73m2"])
def test_egfr_band_written_as_a_range(text: str) -> None:
    c = only(text, "measurement")
    assert c.quantity is not None
    assert (c.quantity.comparator, c.quantity.value, c.quantity.value_high) == (
        "between", 15, 29)


@pytest.mark.parametrize("text,low,high", [
    ("HbA1c ≥ 7.0% and ≤ 10.0%", 7, 10),
    ("Body mass index \\>= 25 \\<= 35 kg/m2", 25, 35),
])
def test_inclusive_bounds_make_one_range(text: str, low: float, high: float) -> None:
    c = only(text, "measurement")
    assert c.quantity is not None
    assert (c.quantity.comparator, c.quantity.value, c.quantity.value_high) == (
        "between", low, high)


def test_two_lower_bounds_for_different_groups_are_not_a_range() -> None:
    cs = constraints("Hemoglobin ≥ 9 g/dL and platelets ≥ 100,000/mm3", "measurement")
    assert {c.concept.id for c in cs if c.concept} == {"hemoglobin", "platelets"}
    assert all(c.quantity is not None and c.quantity.comparator == "ge" for c in cs)


# ---------------------------------------------------------------- negation scope

@pytest.mark.parametrize("text,concept", [
    ("Has never taken osteoporosis medication", "osteoporosis_medication"),
    ("Has never taken any medication for osteoporosis", "osteoporosis_medication"),
    ("Never treated with bisphosphonates for osteoporosis", "bisphosphonate"),
])
def test_never_taken_negates_the_medication_not_the_disease(text: str, concept: str) -> None:
    cs = constraints(text)
    assert "osteoporosis" not in _ids(text)
    c = _by_concept(text, concept)
    assert (c.kind, c.negated, c.polarity) == ("medication", True, "must_not")
    assert all(c.kind != "condition" for c in cs)


def test_an_indication_is_not_an_exclusion_of_the_disease() -> None:
    text = "Previous chemotherapy for metastatic breast cancer"
    cs = constraints(text, section=EXC)
    assert "breast_cancer" not in _ids(text, EXC)
    assert any(c.concept is not None and c.concept.id == "chemotherapy" for c in cs)


def test_a_generic_treatment_for_a_disease_is_not_read_as_the_disease() -> None:
    text = "No prior treatment for pancreatic cancer"
    cs = constraints(text)
    assert all(not (c.kind == "condition" and c.polarity == "must_not") for c in cs)


@pytest.mark.parametrize("text", ["No history of cancer or IBD",
                                  "No history of cancer, or inflammatory bowel disease",
                                  "Without cancer or IBD"])
def test_a_negation_covers_every_listed_condition(text: str) -> None:
    c = only(text, "condition")
    assert c.negated is True and c.polarity == "must_not"
    assert {a.id for a in c.any_of} == {"cancer", "inflammatory_bowel_disease"}


@pytest.mark.parametrize("text,concept", [
    ("No known or suspected brain metastasis", "brain_tumor"),
    ("No prior or concurrent radiotherapy", "radiotherapy"),
    ("No evidence, or history of, stroke", "stroke"),
])
def test_coordinated_adjectives_do_not_end_a_negation(text: str, concept: str) -> None:
    c = _by_concept(text, concept)
    assert c.negated is True and c.polarity == "must_not"


@pytest.mark.parametrize("text,concept", [
    ("Non-infectious pneumonitis", "interstitial_lung_disease"),
    ("Non-healing fracture", "fracture"),
    ("Non-valvular atrial fibrillation", "atrial_fibrillation"),
    ("Non-ischemic cardiomyopathy", "cardiomyopathy"),
])
def test_a_non_adjective_stays_inside_the_concept(text: str, concept: str) -> None:
    c = _by_concept(text, concept)
    assert c.negated is False and c.polarity == "required"


@pytest.mark.parametrize("text,concept", [("Non-smoker", "smoking"),
                                          ("Non-diabetic adults", "diabetes")])
def test_non_before_the_concept_itself_still_negates(text: str, concept: str) -> None:
    c = _by_concept(text, concept)
    assert c.negated is True and c.polarity == "must_not"


# ---------------------------------------------------------------- person

@pytest.mark.parametrize("text", [
    "Parental history of hip fracture",
    "Family history of hip fracture",
    "Mother or father with hip fracture",
    "A first-degree relative who had a hip fracture",
    "Hip fracture in a first-degree relative",
])
def test_a_relatives_condition_is_family_history(text: str) -> None:
    c = _by_concept(text, "hip_fracture")
    assert c.experiencer == "family"
    assert c.polarity == "required" and c.negated is False


def test_family_cue_does_not_reach_the_patients_own_history() -> None:
    text = "Parental history of hip fracture, or prior vertebral fracture"
    assert _by_concept(text, "hip_fracture").experiencer == "family"
    assert _by_concept(text, "vertebral_fracture").experiencer == "patient"


@pytest.mark.parametrize("text", ["Personal or family history of breast cancer",
                                  "History or family history of breast cancer"])
def test_personal_or_family_history_keeps_the_patient(text: str) -> None:
    assert _by_concept(text, "breast_cancer", EXC).experiencer == "patient"


def test_relatives_of_study_staff_are_not_family_history() -> None:
    cs = constraints("Relatives of study staff with diabetes", section=EXC)
    assert all(c.experiencer == "patient" for c in cs)


def test_own_condition_is_the_patients() -> None:
    assert only("History of hip fracture", "condition").experiencer == "patient"


# ---------------------------------------------------------------- modality

@pytest.mark.parametrize("text,concept", [
    ("Invasive dental procedure planned during the study", "dental_surgery"),
    ("Planned hip replacement", "hip_replacement"),
    ("Hip replacement scheduled within the next 3 months", "hip_replacement"),
    ("Expected to undergo dialysis during the trial", "dialysis"),
    ("Subjects awaiting organ transplant", "organ_transplant"),
])
def test_planned_procedures(text: str, concept: str) -> None:
    c = _by_concept(text, concept, EXC)
    assert c.modality == "planned" and c.polarity == "must_not"


def test_planning_pregnancy_is_planned() -> None:
    cs = constraints("Women planning to become pregnant during the study", section=EXC)
    assert [c.modality for c in cs if c.kind == "pregnancy"] == ["planned"]


def test_a_past_use_next_to_a_planned_one_stays_actual() -> None:
    text = "Use of denosumab within 6 months before screening, or planned use during the study"
    c = _by_concept(text, "denosumab", EXC)
    assert c.modality == "actual"


def test_received_or_will_require_stays_actual() -> None:
    c = _by_concept("Receiving or will require warfarin", "warfarin", EXC)
    assert c.modality == "actual"


@pytest.mark.parametrize("text,concept,kind", [
    ("Contraindication to MRI", "mri", "procedure"),
    ("Contraindications for MRI or PET", "mri", "procedure"),
    ("Unable to undergo MRI", "mri", "procedure"),
    ("Known contraindication to denosumab", "denosumab", "medication"),
    ("MRI is contraindicated", "mri", "procedure"),
])
def test_contraindications(text: str, concept: str, kind: str) -> None:
    c = _by_concept(text, concept, EXC)
    assert (c.kind, c.modality, c.polarity, c.negated) == (
        kind, "contraindication", "must_not", False)


def test_cannot_have_received_is_a_negation_not_a_contraindication() -> None:
    c = _by_concept("Cannot have received denosumab within 30 days", "denosumab", EXC)
    assert c.modality == "actual"


def test_allergy_is_still_an_allergy() -> None:
    c = only("Known hypersensitivity to denosumab", "allergy", section=EXC)
    assert c.modality == "actual"


@pytest.mark.parametrize("text,concept", [
    ("Patients who would require surgery during the study", "surgery"),
    ("Withdrawn if pregnancy occurs", "pregnancy"),
    ("Bilirubin ≤ 3 x ULN in case of liver metastases", None),
])
def test_hypothetical(text: str, concept: str | None) -> None:
    cs = [c for c in constraints(text, section=EXC)
          if c.kind in {"condition", "procedure", "pregnancy"}
          and (concept is None or (c.concept is not None and c.concept.id == concept))]
    assert cs and all(c.modality == "hypothetical" for c in cs)


# ---------------------------------------------------------------- currency

@pytest.mark.parametrize("text,concept", [
    ("Currently receiving chemotherapy", "chemotherapy"),
    ("Receiving chemotherapy", "chemotherapy"),
    ("Patients on maintenance dialysis", "dialysis"),
    ("Undergoing hemodialysis", "dialysis"),
])
def test_a_treatment_under_way_is_current(text: str, concept: str) -> None:
    c = _by_concept(text, concept)
    assert c.window is not None and c.window.relation == "current"


def test_a_past_treatment_is_not_current() -> None:
    c = _by_concept("Received chemotherapy in the past", "chemotherapy")
    assert c.window is None or c.window.relation != "current"


# ---------------------------------------------------------------- properties

_CONDITIONS = ["stroke", "diabetes", "hip fracture", "cancer", "heart failure"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_CONDITIONS), st.sampled_from(["No history of", "No known", "No prior"]))
def test_an_inclusion_no_and_an_exclusion_no_agree(condition: str, cue: str) -> None:
    """"No X" as an inclusion and "No X" as an exclusion both keep X out."""
    text = f"{cue} {condition}"
    inc = [c for c in constraints(text) if c.kind == "condition"]
    exc = [c for c in constraints(text, section=EXC) if c.kind == "condition"]
    assert inc and exc
    assert all(c.polarity == "must_not" for c in inc + exc)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_CONDITIONS),
       st.sampled_from(["Family history of", "Parental history of", "Sister with",
                        "Mother diagnosed with"]))
def test_family_cues_mark_the_family(condition: str, cue: str) -> None:
    cs = [c for c in constraints(f"{cue} {condition}") if c.kind == "condition"]
    assert cs and all(c.experiencer == "family" for c in cs)
    own = [c for c in constraints(f"History of {condition}") if c.kind == "condition"]
    assert own and all(c.experiencer == "patient" for c in own)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=80), st.integers(min_value=1, max_value=80),
       st.sampled_from(["and", "but", ","]))
def test_a_lower_and_an_upper_bound_both_survive(low: int, width: int, joint: str) -> None:
    high = low + width
    text = f"eGFR ≥ {low} {joint} < {high} mL/min/1.73m2".replace(" ,", ",")
    cs = constraints(text, "measurement")
    bounds = sorted((c.quantity.comparator, c.quantity.value) for c in cs
                    if c.quantity is not None)
    assert bounds == [("ge", low), ("lt", high)]


# ---------------------------------------------------------------- windows

def test_a_spacing_between_measurements_is_not_a_window() -> None:
    text = "Chronic kidney disease on two measurements at least 90 days apart"
    c = _by_concept(text, "chronic_kidney_disease")
    assert c.kind == "condition" and c.window is None


def test_a_window_after_a_negated_phrase_is_not_an_earlier_concepts() -> None:
    text = ("Osteoporosis and chronic kidney disease with eGFR between 15 and 29 "
            "mL/min/1.73m², not receiving dialysis and not expected to start dialysis within "
            "12 months")
    assert _by_concept(text, "osteoporosis").window is None
    assert _by_concept(text, "chronic_kidney_disease").window is None
    planned = [c for c in constraints(text) if c.concept is not None
               and c.concept.id == "dialysis" and c.modality == "planned"]
    assert planned and planned[0].window is not None


def test_a_listed_event_keeps_the_lists_window() -> None:
    text = "Myocardial infarction, stroke, or coronary bypass in the 6 months before enrolment"
    c = _by_concept(text, "myocardial_infarction", EXC)
    assert c.window is not None and (c.window.relation, c.window.amount) == ("within", 6)
