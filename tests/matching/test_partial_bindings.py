"""Criteria that bind only some patients, or exclude only something *other* than the
trial's own disease: a failure read from the record must not turn the patient away."""

from __future__ import annotations

from datetime import date

from tests.factories import study
from trialscout.criteria import parse_criteria
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import TrialMatch
from trialscout.matching.trial import trial_concepts, trial_verdict
from trialscout.patients.loader import load_patient_text
from trialscout.registry.api_v2 import trial_from_api_v2

REF = date(2025, 6, 1)
BREAST = ("Two taxanes for HER2-negative breast cancer that has spread",
          ["HER2-negative metastatic breast cancer"])


def _match(title: str, conditions: list[str], criteria: str, note: str) -> TrialMatch:
    trial = trial_from_api_v2(study(
        "NCT09990778", title=title, conditionsModule={"conditions": conditions},
        eligibilityModule={"eligibilityCriteria": criteria, "sex": "ALL"}))
    profile = load_patient_text(note, reference_date=REF).profile
    return trial_verdict(trial, parse_criteria(criteria), PatientFacts(profile, REF))


def _verdict_of(match: TrialMatch, start: str) -> str:
    return next(v.verdict for v in match.criteria if v.text.startswith(start))


OTHER = "Inclusion Criteria:\n* Metastatic breast cancer\n\nExclusion Criteria:\n" \
        "* History of other malignancy\n"


def test_the_spread_of_the_trials_own_cancer_is_not_another_cancer() -> None:
    match = _match(*BREAST, OTHER,
                   "Woman of 51 with breast cancer that has spread to the bones. She has "
                   "had no chemotherapy for her metastatic disease yet.")
    assert _verdict_of(match, "History of other") != "NOT_MET"
    assert match.verdict != "not_eligible"


def test_a_denial_of_other_cancers_clears_the_exclusion() -> None:
    match = _match(*BREAST, OTHER,
                   "Woman of 51 with metastatic breast cancer, treated for metastatic disease "
                   "since March. She has never had any other malignancy.")
    assert _verdict_of(match, "History of other") == "MET"


def test_a_named_different_cancer_still_excludes() -> None:
    match = _match(*BREAST, OTHER,
                   "Woman of 51 with metastatic breast cancer. A melanoma was removed from "
                   "her back in 2021.")
    assert _verdict_of(match, "History of other") == "NOT_MET"
    assert match.verdict == "not_eligible"


def test_other_cancer_without_the_word_other_still_reads_the_record() -> None:
    match = _match("Bone health after stroke", ["Stroke"],
                   "Exclusion Criteria:\n* History of malignancy\n",
                   "A 70-year-old man who had a stroke last year and colon cancer in 2019.")
    assert _verdict_of(match, "History of malignancy") == "NOT_MET"


def test_a_conditional_permission_does_not_require_the_thing_it_permits() -> None:
    criteria = ("Inclusion Criteria:\n* Metastatic breast cancer\n"
                "* Prior pertuzumab is allowed if it ended at least 12 months before "
                "enrolment\n")
    match = _match(*BREAST, criteria,
                   "Woman of 60 with metastatic breast cancer. She has never received "
                   "pertuzumab.")
    assert _verdict_of(match, "Prior pertuzumab") != "NOT_MET"
    assert match.verdict != "not_eligible"


def test_a_plain_requirement_still_fails() -> None:
    criteria = ("Inclusion Criteria:\n* Metastatic breast cancer\n"
                "* Prior treatment with pertuzumab\n")
    match = _match(*BREAST, criteria,
                   "Woman of 60 with metastatic breast cancer. She has never received "
                   "pertuzumab.")
    assert _verdict_of(match, "Prior treatment with pertuzumab") == "NOT_MET"


def test_an_item_for_a_subgroup_is_a_question_not_a_failure() -> None:
    criteria = ("Inclusion Criteria:\n* Metastatic breast cancer\n"
                "* Only for patients in cohort B: prior treatment with capecitabine\n")
    match = _match(*BREAST, criteria,
                   "Woman of 60 with metastatic breast cancer. She has never taken "
                   "capecitabine.")
    assert _verdict_of(match, "Only for patients") == "UNKNOWN"
    assert match.verdict != "not_eligible"


def test_a_condition_the_title_rules_out_is_not_studied() -> None:
    trial = trial_from_api_v2(study(
        "NCT09990779", title="Metformin for adults with prediabetes and without diabetes",
        conditionsModule={"conditions": ["Prediabetes"]}))
    concepts = trial_concepts(trial)
    assert "prediabetes" in concepts
    assert not any("diabetes" in c and c != "prediabetes" for c in concepts)


def test_a_title_negated_condition_is_still_checked_as_an_exclusion() -> None:
    match = _match("Metformin for adults with prediabetes and without diabetes",
                   ["Prediabetes"],
                   "Inclusion Criteria:\n* Prediabetes\n\nExclusion Criteria:\n"
                   "* Diabetes mellitus\n",
                   "A 50-year-old man with type 2 diabetes mellitus diagnosed in 2020, on "
                   "metformin since then.")
    assert _verdict_of(match, "Diabetes mellitus") == "NOT_MET"


def _band(match: TrialMatch) -> str:
    from trialscout.matching.rank import band_verdict

    return band_verdict(match)


OSTEO = ("Bone-building drug after a fracture", ["Osteoporosis"])


def test_a_denial_fails_a_team_judgement_only_unsurely() -> None:
    match = _match(*OSTEO, "Inclusion Criteria:\n* Osteoporosis\n* Eligible for a bone "
                   "marrow biopsy as judged by the study haematologist\n",
                   "A 70-year-old woman with osteoporosis. She has never had a bone marrow "
                   "biopsy.")
    assert _band(match) != "not_eligible"


def test_a_denial_that_covers_every_way_in_fails_surely() -> None:
    match = _match(*OSTEO, "Inclusion Criteria:\n* Osteoporosis\n* A vertebral fracture, "
                   "or a hip fracture after the age of 50\n",
                   "A 70-year-old woman with osteoporosis. No fractures.")
    assert match.verdict == "not_eligible"
    assert _band(match) == "not_eligible"


def test_a_denial_of_one_way_in_leaves_the_others_to_confirm() -> None:
    match = _match(*OSTEO, "Inclusion Criteria:\n* Osteoporosis\n* Prior hip fracture or "
                   "prior bilateral oophorectomy\n",
                   "A 70-year-old woman with osteoporosis. She has never had a hip fracture.")
    assert _band(match) != "not_eligible"
