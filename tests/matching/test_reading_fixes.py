"""Readings that used to give false NOT_MET verdicts (found in the target-trial failures)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.matching.builders import constraint, item
from trialscout.matching.facts import PatientFacts
from trialscout.matching.item import evaluate_item
from trialscout.patients.model import PatientProfile
from trialscout.patients.notes import extract_note

REF = date(2024, 6, 1)


def note_verdict(text: str, it):  # type: ignore[no-untyped-def]
    return evaluate_item(it, PatientFacts(extract_note(text, reference_date=REF), REF))


def test_denying_a_generic_target_does_not_settle_a_criterion() -> None:
    # "Specimens collected within 10 days before the start of study treatment": the
    # parser sees a required "treatment"; "no prior treatment" must not fail it.
    it = item([constraint("procedure", cid="treatment", text="study treatment")],
              text="Specimens must be collected within 10 days prior to study treatment")
    result = note_verdict("A 50-year-old woman. She had not received any prior treatment.", it)
    assert result.verdict == "UNKNOWN"


def test_a_denial_of_something_narrower_does_not_deny_the_criterion() -> None:
    metastatic = item([constraint("condition", cid="metastatic_disease",
                                  text="metastatic disease")],
                      text="Previously treated for locally advanced or metastatic disease")
    note = "A 55-year-old woman. Brain MRI showed no evidence of CNS metastases."
    assert note_verdict(note, metastatic).verdict == "UNKNOWN"
    # when the criterion names the same narrowing, the denial does count
    cns = item([constraint("condition", polarity="must_not", cid="metastatic_disease",
                           text="CNS metastases")], section="exclusion",
               text="Active CNS metastases")
    assert note_verdict(note, cns).verdict == "MET"
    # "no other malignancies" does not deny the cancer the patient has
    cancer = item([constraint("condition", cid="cancer", text="tumor cells")],
                  text="HER2 3+ on immunohistochemistry of invasive tumor cells")
    assert note_verdict("She had no history of other malignancies.", cancer).verdict != \
        "NOT_MET"


@pytest.mark.parametrize(("section", "polarity", "text", "note", "expected"), [
    # absent neuropathy is below any grade bound ...
    ("inclusion", "required", "Neuropathy grade < 2", "She has no neuropathy.", "MET"),
    # ... and a grade the constraint did not capture leaves a mention open
    ("exclusion", "must_not", "Peripheral neuropathy > grade 1",
     "She has grade 1 peripheral neuropathy from prior chemotherapy.", "UNKNOWN"),
    ("exclusion", "must_not", "Peripheral neuropathy > grade 1", "She has no neuropathy.",
     "MET"),
])
def test_a_grade_bound_the_parser_missed(section: str, polarity: str, text: str, note: str,
                                         expected: str) -> None:
    it = item([constraint("condition", polarity=polarity, cid="neuropathy",
                          text="neuropathy")], section=section, text=text)
    assert note_verdict(f"A 60-year-old woman. {note}", it).verdict == expected


def test_an_inclusion_that_lets_a_group_in_cannot_fail() -> None:
    tamoxifen = [constraint("medication", cid="tamoxifen", text="tamoxifen")]
    note = "A 50-year-old woman with no prior use of tamoxifen."
    allowed = item(tamoxifen, text="Patients with prior tamoxifen use are eligible but "
                   "should stop it 2 weeks before")
    result = note_verdict(note, allowed)
    assert result.verdict == "MET" and not result.applicable
    required = item(tamoxifen, text="Prior tamoxifen for at least 2 years")
    assert note_verdict(note, required).verdict == "NOT_MET"
    # an exclusion that is only a note
    parp = item([constraint("medication", polarity="required", cid="tamoxifen",
                            text="tamoxifen")], section="exclusion",
                text="Note: patients with or without prior tamoxifen may be included.")
    assert note_verdict(note, parp).verdict == "MET"


def test_a_drug_that_only_says_when_an_event_happened_is_not_an_alternative() -> None:
    it = item([constraint("condition", polarity="must_not", cid="heart_failure",
                          text="heart failure"),
               constraint("medication", polarity="must_not", cid="trastuzumab",
                          text="trastuzumab")],
              section="exclusion",
              text="Heart failure during prior treatment with trastuzumab")
    treated = "A 55-year-old woman. She received trastuzumab for two years."
    assert note_verdict(treated, it).verdict == "UNKNOWN"
    failed = treated + " She developed congestive heart failure."
    assert note_verdict(failed, it).verdict == "NOT_MET"
    # "<drug> intolerance": the drug is what the intolerance is to
    intolerance = item([constraint("medication", polarity="must_not", cid="trastuzumab",
                                   text="trastuzumab"),
                        constraint("allergy", polarity="must_not", cid="trastuzumab",
                                   text="hypersensitivity")],
                       section="exclusion",
                       text="History of trastuzumab intolerance or hypersensitivity")
    assert note_verdict(treated, intolerance).verdict != "NOT_MET"


def test_a_non_adjective_is_not_a_negation() -> None:
    # The parser reads "(non-infectious)" as a negation: an exclusion of *not* having
    # pneumonitis, so that a patient without pneumonitis would be excluded.
    negated = constraint("condition", polarity="required", cid="interstitial_lung_disease",
                         text="pneumonitis").model_copy(update={"negated": True})
    it = item([negated], section="exclusion",
              text="Has a history of (non-infectious) pneumonitis")
    assert note_verdict("A 60-year-old woman. No history of pneumonitis.", it).verdict == \
        "MET"
    assert note_verdict("A 60-year-old woman with pneumonitis.", it).verdict == "NOT_MET"


def test_childbearing_potential_is_a_scope_for_a_woman_after_menopause() -> None:
    it = item([constraint("pregnancy", cid="childbearing_potential",
                          text="child bearing potential")],
              text="In case of patients of child bearing potential:")
    p = PatientProfile.model_validate({"sex": "female", "age_years": 60,
                                       "menopause": "postmenopausal"})
    result = evaluate_item(it, PatientFacts(p, REF))
    assert result.verdict == "MET" and not result.applicable


@pytest.mark.parametrize(("age", "expected"), [(65, "MET"), (30, "NOT_MET"), (50, "UNKNOWN")])
def test_menopause_follows_from_age_when_not_recorded(age: float, expected: str) -> None:
    it = item([constraint("menopause", value="postmenopausal", text="Postmenopausal")],
              text="Postmenopausal women")
    p = PatientProfile.model_validate({"sex": "female", "age_years": age})
    assert evaluate_item(it, PatientFacts(p, REF)).verdict == expected


def test_a_window_the_parser_did_not_attach_is_the_criterions() -> None:
    it = item([constraint("procedure", polarity="must_not", cid="chemotherapy",
                          text="Systemic chemotherapy")], section="exclusion",
              text="Systemic chemotherapy within 3 weeks of start of study treatment")
    long_ago = "A 54-year-old woman. Her last chemotherapy was more than three weeks ago."
    assert note_verdict(long_ago, it).verdict == "MET"
    recent = "A 54-year-old woman. She received chemotherapy 5 days ago."
    assert note_verdict(recent, it).verdict == "NOT_MET"


def test_what_explains_a_criterion_does_not_add_to_it() -> None:
    it = item([constraint("condition", polarity="must_not", cid="brain_tumor",
                          text="brain metastases"),
               constraint("condition", polarity="must_not", cid="heart_failure",
                          text="heart failure")],
              section="exclusion", text="Known brain metastases, because heart failure may "
              "confound the evaluation")
    result = note_verdict("A 60-year-old man with heart failure.", it)
    assert result.verdict != "NOT_MET"


def test_an_inclusion_that_says_it_excludes_is_read_as_an_exclusion() -> None:
    it = item([constraint("condition", cid="brain_tumor", text="brain metastasis")],
              text="Subjects with brain metastasis should be excluded.")
    assert note_verdict("A 50-year-old woman with brain metastases.", it).verdict == "NOT_MET"
    assert note_verdict("A 50-year-old woman. MRI showed no brain metastases.", it
                        ).verdict == "MET"


@pytest.mark.parametrize(("bounds", "age", "expected"), [
    # two lower bounds: a main one and a sub-cohort's
    ([{"comparator": "ge", "value": 18}, {"comparator": "ge", "value": 70}], 48, "MET"),
    # bounds no age meets together: a misread clarification
    ([{"comparator": "between", "value": 18, "value_high": 70},
      {"comparator": "ge", "value": 71}], 68, "MET"),
    ([{"comparator": "between", "value": 18, "value_high": 70},
      {"comparator": "ge", "value": 71}], 15, "NOT_MET"),
    # a lower and an upper bound make a range: both apply
    ([{"comparator": "ge", "value": 18}, {"comparator": "le", "value": 65}], 70, "NOT_MET"),
])
def test_age_bounds_that_cannot_all_be_meant_are_alternatives(
        bounds: list[dict[str, float | str]], age: float, expected: str) -> None:
    it = item([constraint("age", quantity={**b, "unit": "year"}) for b in bounds],
              text="Aged 18 and above (70 and above for the elderly cohort)")
    p = PatientProfile.model_validate({"age_years": age})
    assert evaluate_item(it, PatientFacts(p, REF)).verdict == expected


def test_a_lab_bound_without_its_direction_is_open() -> None:
    it = item([constraint("measurement", cid="creatinine", text="Serum creatinine",
                          quantity={"comparator": "eq", "value": 1.5, "unit": "mg/dL"})],
              text="Serum creatinine 1.5 x ULN")
    p = PatientProfile.model_validate({"measurements": [
        {"name": "creatinine", "analyte": "creatinine", "value": 0.9, "unit": "mg/dL"}]})
    assert evaluate_item(it, PatientFacts(p, REF)).verdict == "UNKNOWN"


def test_a_treatment_to_come_is_not_settled_by_the_record() -> None:
    it = item([constraint("procedure", cid="chemotherapy", text="cytotoxic chemotherapy")],
              text="Metastatic breast cancer fit to receive cytotoxic chemotherapy")
    note = "A 52-year-old woman. She had not received any previous cytotoxic chemotherapy."
    assert note_verdict(note, it).verdict == "UNKNOWN"


def test_a_treatment_only_talked_about_in_the_note_is_not_taken() -> None:
    it = item([constraint("medication", polarity="must_not", cid="paclitaxel",
                          text="Paclitaxel")], section="exclusion",
              text="Previous paclitaxel chemotherapy")
    note = ("A 52-year-old woman. Her oncologist discussed a clinical trial comparing "
            "cabazitaxel and paclitaxel.")
    assert note_verdict(note, it).verdict != "NOT_MET"
    assert note_verdict("A 52-year-old woman treated with paclitaxel.", it).verdict == \
        "NOT_MET"


def test_a_broader_denial_does_not_outweigh_a_record_of_the_concept_itself() -> None:
    # "No chemotherapy for her metastatic disease" must not deny a taxane the note records.
    text = ("Subjects who administrated the last dose of taxane class drug ≥12months ago as "
            "from the first administration day.")
    taxane = item([constraint("medication", cid="taxane", text="taxane class drug",
                              window={"relation": "before", "amount": 12, "unit": "month",
                                      "comparator": "ge"})], text=text)
    recorded = ("A 54-year-old woman with metastatic breast cancer. She had not received any "
                "chemotherapy for her metastatic disease. Her last taxane treatment was over "
                "18 months ago as part of her initial therapy.")
    assert note_verdict(recorded, taxane).verdict != "NOT_MET"
    denied_only = ("A 54-year-old woman with metastatic breast cancer. She had never "
                   "received any chemotherapy.")
    assert note_verdict(denied_only, taxane).verdict == "NOT_MET"
