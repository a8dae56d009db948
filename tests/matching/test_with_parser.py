"""End to end with the real criteria parser: registry-style text in, verdicts out."""

from __future__ import annotations

from datetime import date

from tests.factories import study
from trialscout.criteria import parse_criteria
from trialscout.matching.facts import PatientFacts
from trialscout.matching.trial import trial_verdict
from trialscout.patients.model import PatientProfile
from trialscout.patients.notes import extract_note
from trialscout.registry.api_v2 import trial_from_api_v2

REF = date(2024, 6, 1)
CRITERIA = """Inclusion Criteria:
* Postmenopausal women aged 50-85 years
* Lumbar spine T-score < -2.5
* Serum creatinine < 1.5 mg/dL

Exclusion Criteria:
* Received denosumab within the past 6 months
* Pregnant or breastfeeding
* Known hypersensitivity to bisphosphonates
* Unable to give informed consent
"""


def _trial():  # type: ignore[no-untyped-def]
    return trial_from_api_v2(study(eligibilityModule={
        "eligibilityCriteria": CRITERIA, "sex": "FEMALE", "minimumAge": "50 Years"}))


def _verdicts(profile: PatientProfile):  # type: ignore[no-untyped-def]
    result = trial_verdict(_trial(), parse_criteria(CRITERIA), PatientFacts(profile, REF))
    return result, {v.text: v.verdict for v in result.criteria}


def test_structured_profile() -> None:
    profile = PatientProfile.model_validate({
        "age_years": 67, "sex": "female", "menopause": "postmenopausal",
        "measurements": [
            {"name": "T-score", "analyte": "bmd_t_score", "value": -2.9},
            {"name": "creatinine", "analyte": "creatinine", "value": 88, "unit": "umol/L"}],
        "medications": [{"name": "Prolia", "concept": "denosumab", "start": "2023-01-01",
                         "stop": "2023-06-01", "status": "stopped"}],
        "denied": [{"name": "any drug allergy", "kind": "allergy"}]})
    result, by_text = _verdicts(profile)
    assert by_text["Postmenopausal women aged 50-85 years"] == "MET"
    assert by_text["Lumbar spine T-score < -2.5"] == "MET"
    assert by_text["Serum creatinine < 1.5 mg/dL"] == "MET"
    assert by_text["Received denosumab within the past 6 months"] == "MET"
    assert by_text["Pregnant or breastfeeding"] == "MET"
    assert by_text["Known hypersensitivity to bisphosphonates"] == "MET"
    assert result.verdict == "eligible"


def test_recent_denosumab_excludes() -> None:
    profile = PatientProfile.model_validate({
        "age_years": 67, "sex": "female",
        "medications": [{"name": "denosumab", "concept": "denosumab", "start": "2024-03-01",
                         "status": "active"}]})
    result, by_text = _verdicts(profile)
    assert by_text["Received denosumab within the past 6 months"] == "NOT_MET"
    assert result.verdict == "not_eligible"
    assert "denosumab" in result.reason


def test_note_with_consent_sentence() -> None:
    note = ("A 70-year-old postmenopausal woman with osteoporosis, lumbar spine T-score of "
            "-3.1. She has never received denosumab. The patient will provide informed "
            "consent.")
    result, by_text = _verdicts(extract_note(note, reference_date=REF))
    assert by_text["Lumbar spine T-score < -2.5"] == "MET"
    assert by_text["Received denosumab within the past 6 months"] == "MET"
    # consent is checked by the study team, whatever the note promises
    assert by_text["Unable to give informed consent"] == "UNKNOWN"
    assert result.verdict == "possibly_eligible"
    keys = {q.key for q in result.open_questions}
    assert any("creatinine" in k for k in keys)
