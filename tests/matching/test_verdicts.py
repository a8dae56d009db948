"""Every kind of criterion verdict: met, not met, unknown, inverted exclusions, units, time."""

from __future__ import annotations

from datetime import date

import pytest

from tests.matching.builders import constraint, item
from trialscout.matching.facts import PatientFacts
from trialscout.matching.item import evaluate_item
from trialscout.patients.model import PatientProfile
from trialscout.patients.notes import extract_note

REF = date(2024, 6, 1)


def verdict(profile: dict | PatientProfile, it):  # type: ignore[no-untyped-def]
    if isinstance(profile, dict):
        profile = PatientProfile.model_validate(profile)
    return evaluate_item(it, PatientFacts(profile, REF))


AGE_18_65 = item([constraint("age", quantity={"comparator": "between", "value": 18,
                                                "value_high": 65, "unit": "year"})],
                 text="Aged 18 to 65 years")


@pytest.mark.parametrize(("age", "expected"), [(40, "MET"), (17, "NOT_MET"), (66, "NOT_MET")])
def test_age_range(age: float, expected: str) -> None:
    assert verdict({"age_years": age}, AGE_18_65).verdict == expected


def test_age_from_birth_date_at_reference_date() -> None:
    it = item([constraint("age", quantity={"comparator": "ge", "value": 50, "unit": "year"})])
    assert verdict({"birth_date": "1974-05-01"}, it).verdict == "MET"
    assert verdict({"birth_date": "1974-07-01"}, it).verdict == "NOT_MET"


def test_age_unknown_is_unknown_with_question() -> None:
    result = verdict({}, AGE_18_65)
    assert result.verdict == "UNKNOWN"
    assert result.question is not None and result.question.key == "q:Aged 18 to 65 years"


def test_sex() -> None:
    women = item([constraint("sex", value="female", text="Women")])
    assert verdict({"sex": "female"}, women).verdict == "MET"
    assert verdict({"sex": "male"}, women).verdict == "NOT_MET"
    assert verdict({}, women).verdict == "UNKNOWN"


def test_condition_inclusion_uses_is_a() -> None:
    it = item([constraint("condition", cid="diabetes", text="Diabetes mellitus")])
    result = verdict({"conditions": [{"name": "Type 2 diabetes mellitus",
                                      "concept": "type_2_diabetes"}]}, it)
    assert result.verdict == "MET"
    assert result.evidence[0].fact_id == "c1"


def test_broader_fact_leaves_specific_criterion_unknown() -> None:
    it = item([constraint("condition", cid="type_1_diabetes")])
    result = verdict({"conditions": [{"name": "diabetes", "concept": "diabetes"}]}, it)
    assert result.verdict == "UNKNOWN"


def test_denial_of_broader_concept_rules_out_specific() -> None:
    it = item([constraint("condition", cid="type_1_diabetes")])
    result = verdict({"denied": [{"name": "diabetes", "concept": "diabetes"}]}, it)
    assert result.verdict == "NOT_MET"


def test_exclusion_is_inverted() -> None:
    ckd = item([constraint("condition", polarity="must_not", cid="chronic_kidney_disease")],
               section="exclusion", text="Chronic kidney disease")
    present = verdict({"conditions": [{"name": "CKD stage 3",
                                       "concept": "chronic_kidney_disease"}]}, ckd)
    assert present.verdict == "NOT_MET" and present.holds is True
    assert present.reason.startswith("excluded")
    absent = verdict({"denied": [{"name": "chronic kidney disease",
                                  "concept": "chronic_kidney_disease"}]}, ckd)
    assert absent.verdict == "MET" and absent.holds is False
    assert verdict({}, ckd).verdict == "UNKNOWN"


def test_exception_concepts_are_ignored() -> None:
    it = item([constraint("condition", polarity="must_not", cid="cancer"),
               constraint("condition", polarity="must_not", cid="skin_cancer",
                          exception=True)], section="exclusion",
              text="Malignancy except skin cancer")
    bcc = {"conditions": [{"name": "skin cancer", "concept": "skin_cancer"}]}
    breast = {"conditions": [{"name": "breast cancer", "concept": "breast_cancer"}]}
    assert verdict(breast, it).verdict == "NOT_MET"
    assert verdict(bcc, it).verdict == "UNKNOWN"
    no_exception = item([constraint("condition", polarity="must_not", cid="cancer")],
                        section="exclusion")
    assert verdict(bcc, no_exception).verdict == "NOT_MET"


def test_medication_class_within_window() -> None:
    it = item([constraint("medication", polarity="must_not", cid="bisphosphonate",
                          window={"relation": "within", "amount": 12, "unit": "month"})],
              section="exclusion", text="Bisphosphonate within the past 12 months")
    recent = {"medications": [{"name": "Alendronate", "concept": "alendronate",
                               "start": "2020-01-01", "stop": "2024-01-01",
                               "status": "completed"}]}
    old = {"medications": [{"name": "Alendronate", "concept": "alendronate",
                            "start": "2015-01-01", "stop": "2019-01-01",
                            "status": "completed"}]}
    assert verdict(recent, it).verdict == "NOT_MET"
    assert verdict(old, it).verdict == "MET"
    current = {"medications": [{"name": "Fosamax", "concept": "alendronate",
                                "status": "active"}]}
    assert verdict(current, it).verdict == "NOT_MET"


def test_event_time_window() -> None:
    it = item([constraint("condition", polarity="must_not", cid="myocardial_infarction",
                          window={"relation": "within", "amount": 6, "unit": "month"})],
              section="exclusion", text="Myocardial infarction within 6 months")
    recent = {"conditions": [{"name": "MI", "concept": "myocardial_infarction",
                              "onset": "2024-04-01"}]}
    old = {"conditions": [{"name": "MI", "concept": "myocardial_infarction",
                           "onset": "2021-04-01"}]}
    undated = {"conditions": [{"name": "MI", "concept": "myocardial_infarction"}]}
    assert verdict(recent, it).verdict == "NOT_MET"
    assert verdict(old, it).verdict == "MET"
    assert verdict(undated, it).verdict == "UNKNOWN"


def test_reference_date_moves_the_window() -> None:
    it = item([constraint("condition", polarity="must_not", cid="myocardial_infarction",
                          window={"relation": "within", "amount": 6, "unit": "month"})],
              section="exclusion")
    profile = PatientProfile.model_validate({"conditions": [
        {"name": "MI", "concept": "myocardial_infarction", "onset": "2024-04-01"}]})
    assert evaluate_item(it, PatientFacts(profile, date(2024, 6, 1))).verdict == "NOT_MET"
    assert evaluate_item(it, PatientFacts(profile, date(2025, 6, 1))).verdict == "MET"


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (97, "umol/L", "MET"), (150, "umol/L", "NOT_MET"), (1.2, "mg/dL", "MET")])
def test_measurement_converts_units(value: float, unit: str, expected: str) -> None:
    it = item([constraint("measurement", cid="creatinine",
                          quantity={"comparator": "lt", "value": 1.5, "unit": "mg/dL"})],
              text="Serum creatinine < 1.5 mg/dL")
    profile = {"measurements": [{"name": "creatinine", "analyte": "creatinine",
                                 "value": value, "unit": unit, "date": "2024-05-01"}]}
    result = verdict(profile, it)
    assert result.verdict == expected
    assert result.evidence and result.evidence[0].fact_id == "l1"


def test_hba1c_affine_conversion_and_latest_value() -> None:
    it = item([constraint("measurement", cid="hba1c",
                          quantity={"comparator": "ge", "value": 7, "unit": "%"})])
    profile = {"measurements": [
        {"name": "HbA1c", "analyte": "hba1c", "value": 48, "unit": "mmol/mol",
         "date": "2023-01-01"},
        {"name": "HbA1c", "analyte": "hba1c", "value": 62, "unit": "mmol/mol",
         "date": "2024-05-01"}]}
    result = verdict(profile, it)
    assert result.verdict == "MET"
    assert "62" in result.reason


def test_measurement_in_incompatible_unit_is_unknown() -> None:
    it = item([constraint("measurement", cid="creatinine",
                          quantity={"comparator": "lt", "value": 1.5, "unit": "mg/dL"})])
    profile = {"measurements": [{"name": "creatinine", "analyte": "creatinine", "value": 3,
                                 "unit": "kg"}]}
    assert verdict(profile, it).verdict == "UNKNOWN"


def test_uln_multiple() -> None:
    it = item([constraint("measurement", polarity="must_not", cid="alt",
                          quantity={"comparator": "gt", "value": 3, "unit": "x ULN"})],
              section="exclusion", text="ALT > 3 x ULN")
    high = {"measurements": [{"name": "ALT", "analyte": "alt", "value": 200, "unit": "U/L"}]}
    normal = {"measurements": [{"name": "ALT", "analyte": "alt", "value": 30, "unit": "U/L"}]}
    assert verdict(high, it).verdict == "NOT_MET"
    assert verdict(normal, it).verdict == "MET"


def test_disease_duration() -> None:
    it = item([constraint("disease_duration", cid="type_2_diabetes",
                          window={"relation": "duration", "amount": 10, "unit": "year",
                                  "comparator": "gt"})], text="Diabetes for > 10 years")
    long = {"conditions": [{"name": "T2DM", "concept": "type_2_diabetes",
                            "onset": "2010-01-01"}]}
    short = {"conditions": [{"name": "T2DM", "concept": "type_2_diabetes",
                             "onset": "2020-01-01"}]}
    assert verdict(long, it).verdict == "MET"
    assert verdict(short, it).verdict == "NOT_MET"
    assert verdict({"conditions": [{"name": "T2DM", "concept": "type_2_diabetes"}]},
                   it).verdict == "UNKNOWN"


def test_performance_status_across_scales() -> None:
    it = item([constraint("performance_status", cid="ecog",
                          quantity={"comparator": "le", "value": 1}, text="ECOG 0-1")])
    assert verdict({"karnofsky": 90}, it).verdict == "MET"
    assert verdict({"ecog": 2}, it).verdict == "NOT_MET"
    assert verdict({}, it).verdict == "UNKNOWN"


def test_pregnancy_exclusion_for_male_is_met_and_not_applicable() -> None:
    it = item([constraint("pregnancy", polarity="must_not", text="Pregnant")],
              section="exclusion", text="Pregnant women")
    male = verdict({"sex": "male"}, it)
    assert male.verdict == "MET" and male.applicable is False
    assert verdict({"sex": "female", "pregnant": True}, it).verdict == "NOT_MET"
    assert verdict({"sex": "female", "pregnant": False}, it).verdict == "MET"
    assert verdict({"sex": "female"}, it).verdict == "UNKNOWN"


def test_postmenopausal_duration() -> None:
    it = item([constraint("menopause", value="postmenopausal",
                          window={"relation": "duration", "amount": 2, "unit": "year",
                                  "comparator": "gt"})],
              text="Postmenopausal for more than 2 years")
    ok = {"sex": "female", "menopause": "postmenopausal", "menopause_date": "2015-01-01"}
    recent = {"sex": "female", "menopause": "postmenopausal", "menopause_date": "2023-09-01"}
    assert verdict(ok, it).verdict == "MET"
    assert verdict(recent, it).verdict == "NOT_MET"
    assert verdict({"sex": "female", "menopause": "premenopausal"}, it).verdict == "NOT_MET"


def test_allergy() -> None:
    it = item([constraint("allergy", polarity="must_not", cid="denosumab",
                          text="Hypersensitivity to denosumab")], section="exclusion")
    allergic = {"allergies": [{"substance": "Prolia", "concept": "denosumab"}]}
    assert verdict(allergic, it).verdict == "NOT_MET"
    assert verdict({"denied": [{"name": "any drug allergy", "kind": "allergy"}]},
                   it).verdict == "MET"
    taking = {"medications": [{"name": "Prolia", "concept": "denosumab"}]}
    assert verdict(taking, it).verdict == "UNKNOWN"


def test_note_negation_and_family_history() -> None:
    profile = extract_note("A 50-year-old woman. She denies diabetes. Her mother had breast "
                           "cancer.", reference_date=REF)
    diabetes = item([constraint("condition", cid="diabetes")], text="Diabetes")
    cancer = item([constraint("condition", polarity="must_not", cid="breast_cancer")],
                  section="exclusion", text="History of breast cancer")
    result = verdict(profile, diabetes)
    assert result.verdict == "NOT_MET"
    assert result.evidence and result.evidence[0].sentence == 1
    assert verdict(profile, cancer).verdict == "UNKNOWN"


def test_note_mention_is_evidence() -> None:
    profile = extract_note("58 yo F with long-standing hypertension and osteoporosis.",
                           reference_date=REF)
    it = item([constraint("condition", cid="osteoporosis")])
    result = verdict(profile, it)
    assert result.verdict == "MET"
    assert any(e.kind in {"note", "fact"} for e in result.evidence)


def test_unanswerable_item_is_not_checkable() -> None:
    it = item([constraint("consent", text="Able to give informed consent")], kind="consent",
              answerable=False, text="Able to give informed consent")
    result = verdict({}, it)
    assert result.verdict == "UNKNOWN" and result.checkable is False


def test_closed_world_only_for_notes() -> None:
    it = item([constraint("condition", polarity="must_not", cid="hepatitis_b")],
              section="exclusion")
    note = extract_note("A 40-year-old man with asthma.", reference_date=REF)
    facts = PatientFacts(note, REF)
    assert evaluate_item(it, facts).verdict == "UNKNOWN"
    assert evaluate_item(it, facts, closed_world=True).verdict == "MET"
    form = PatientProfile(age_years=40)
    assert evaluate_item(it, PatientFacts(form, REF), closed_world=True).verdict == "UNKNOWN"


def test_procedure_with_window() -> None:
    it = item([constraint("procedure", polarity="must_not", cid="knee_replacement",
                          window={"relation": "within", "amount": 12, "unit": "month"})],
              section="exclusion", text="Knee replacement in the past 12 months")
    recent = {"procedures": [{"name": "Total knee replacement", "concept": "knee_replacement",
                              "date": "2024-02-01"}]}
    old = {"procedures": [{"name": "Total knee replacement", "concept": "knee_replacement",
                           "date": "2019-02-01"}]}
    assert verdict(recent, it).verdict == "NOT_MET"
    assert verdict(old, it).verdict == "MET"
    broader = item([constraint("procedure", cid="joint_replacement")], text="Joint replacement")
    assert verdict(recent, broader).verdict == "MET"


def test_lactation() -> None:
    it = item([constraint("lactation", polarity="must_not", text="Breastfeeding")],
              section="exclusion", text="Breastfeeding")
    assert verdict({"sex": "female", "lactating": True}, it).verdict == "NOT_MET"
    assert verdict({"sex": "female", "lactating": False}, it).verdict == "MET"
    assert verdict({"sex": "female"}, it).verdict == "UNKNOWN"


def test_other_short_text_is_looked_up_in_the_note() -> None:
    it = item([constraint("other", text="Claudication")], text="Claudication")
    with_it = extract_note("A 70-year-old man with intermittent claudication.",
                           reference_date=REF)
    without = extract_note("A 70-year-old man. He denies claudication.", reference_date=REF)
    assert verdict(with_it, it).verdict == "MET"
    assert verdict(without, it).verdict == "NOT_MET"
    assert verdict({"age_years": 70}, it).verdict == "UNKNOWN"


def test_qualifier_in_criterion_leaves_plain_record_open() -> None:
    it = item([constraint("condition", polarity="must_not", cid="hypertension",
                          text="Uncontrolled hypertension")], section="exclusion",
              text="Uncontrolled hypertension")
    plain = {"conditions": [{"name": "hypertension", "concept": "hypertension"}]}
    severe = {"conditions": [{"name": "uncontrolled hypertension",
                              "concept": "hypertension"}]}
    assert verdict(plain, it).verdict == "UNKNOWN"
    assert verdict(severe, it).verdict == "NOT_MET"
