"""Free-text note extraction: negation, family history, demographics, labs, status flags."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscout.patients.context import default_context
from trialscout.patients.notes import NoteError, extract_note
from trialscout.patients.sentences import split_sentences

REF = date(2024, 6, 1)


def concepts(items: list) -> set[str | None]:
    return {i.concept for i in items}


def test_denies_and_no_history_of_do_not_give_the_condition() -> None:
    p = extract_note("A 61-year-old man. He denies diabetes. No history of stroke or "
                     "hypertension.", reference_date=REF)
    assert "diabetes" not in concepts(p.conditions)
    assert {"diabetes", "stroke", "hypertension"} <= concepts(p.denied)
    assert p.denied[0].source is not None and p.denied[0].source.sentence == 1


def test_family_history_is_not_the_patients_condition() -> None:
    p = extract_note("58-year-old woman. Her mother had breast cancer. Family history of "
                     "colon cancer in her father.", reference_date=REF)
    assert not {"breast_cancer", "colorectal_cancer"} & concepts(p.conditions)
    assert "breast_cancer" in concepts(p.family_history)


def test_negated_list_and_family_history_inside_it() -> None:
    p = extract_note("She denies smoking, diabetes, hypercholesterolemia, or a family "
                     "history of heart disease. She is known to have hypertension.",
                     reference_date=REF)
    assert {"diabetes", "dyslipidemia"} <= concepts(p.denied)
    assert "hypertension" in concepts(p.conditions)
    assert p.smoking == "never"


@pytest.mark.parametrize(("text", "age", "sex"), [
    ("A 58-year-old woman presents with chest pain.", 58, "female"),
    ("48 M with a h/o HTN.", 48, "male"),
    ("Patient is a 45 yo gentleman.", 45, "male"),
    ("An 8-month-old girl with fever.", 0.67, "female"),
    ("The patient, aged 70, reports that she fell.", 70, "female"),
])
def test_age_and_sex(text: str, age: float, sex: str) -> None:
    p = extract_note(text, reference_date=REF)
    assert p.age_years == pytest.approx(age, abs=0.01)
    assert p.sex == sex


def test_labs_with_values_and_units() -> None:
    p = extract_note("Labs: HbA1c 8.2%, creatinine of 1.4 mg/dL, eGFR 52 mL/min/1.73m2, "
                     "platelets 90,000/mm3, T-score -2.8. BP 150/95.", reference_date=REF)
    got = {m.analyte: (m.value, m.unit) for m in p.measurements}
    assert got["hba1c"] == (8.2, "%")
    assert got["creatinine"] == (1.4, "mg/dL")
    assert got["egfr"] == (52, "mL/min/1.73m2")
    assert got["platelets"] == (90000, "/uL")
    assert got["bmd_t_score"][0] == -2.8
    assert got["systolic_bp"][0] == 150 and got["diastolic_bp"][0] == 95


def test_medications_procedures_and_negated_medication() -> None:
    p = extract_note("She takes metformin and was started on denosumab 2 years ago. "
                     "No prior use of tamoxifen. She is s/p total knee replacement.",
                     reference_date=REF)
    meds = {m.concept: m for m in p.medications}
    assert "metformin" in meds
    assert meds["denosumab"].start is not None and meds["denosumab"].start.year == 2022
    assert "tamoxifen" in concepts(p.denied)
    assert "knee_replacement" in concepts(p.procedures)


def test_pregnancy_menopause_smoking_and_performance() -> None:
    p = extract_note("A 55-year-old postmenopausal woman, menopause at age 50. Not pregnant "
                     "or breastfeeding. Former smoker, 20 pack-years. ECOG performance status "
                     "of 1.", reference_date=REF)
    assert p.menopause == "postmenopausal" and p.menopause_date is not None
    assert p.menopause_date.year == 2019
    assert p.pregnant is False and p.lactating is False
    assert p.smoking == "former" and p.pack_years == 20
    assert p.ecog == 1
    pregnant = extract_note("32 year old woman, 12 weeks pregnant.", reference_date=REF)
    assert pregnant.pregnant is True


def test_onset_from_relative_time() -> None:
    p = extract_note("He has a 10-year history of type 2 diabetes.", reference_date=REF)
    t2d = next(c for c in p.conditions if c.concept == "type_2_diabetes")
    assert t2d.onset is not None and t2d.onset.year == 2014


def test_numbered_sentences_keep_their_numbers() -> None:
    sentences = split_sentences("0. First one.\n1. Second one.\n2. Third.")
    assert [s.index for s in sentences] == [0, 1, 2]
    assert sentences[1].text == "Second one."
    plain = split_sentences("Dr. Smith saw her. She has diabetes.")
    assert [s.text for s in plain] == ["Dr. Smith saw her.", "She has diabetes."]


def test_context_scopes() -> None:
    ctx = default_context()
    text = "Negative for HIV, positive for hepatitis B."
    assert "negated" in ctx.categories(text, 13, 16)
    assert "negated" not in ctx.categories(text, 31, 42)
    gram = "Gram negative rods; pneumonia."
    assert ctx.categories(gram, 20, 29) == set()


def test_bad_input_gives_clear_error() -> None:
    with pytest.raises(NoteError, match="empty"):
        extract_note("   \n ")
    with pytest.raises(NoteError, match="binary"):
        extract_note("abc\x00def")
    with pytest.raises(NoteError, match="too long"):
        extract_note("a" * 200_001)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_extractor_never_crashes(text: str) -> None:
    try:
        profile = extract_note(text, reference_date=REF)
    except NoteError as exc:
        assert str(exc)
    else:
        assert profile.free_text is not None


clinical_words = st.sampled_from([
    "no", "denies", "mother", "had", "diabetes", "58-year-old", "woman", "HbA1c", "7.5%",
    "creatinine", "of", "1.2", "mg/dL", "pregnant", "not", "ECOG", "2", "smoker", "s/p",
    "mastectomy", ",", ".", "family", "history", "taking", "metformin", "since", "2015",
    "years", "ago", "3", "KPS", "90", "postmenopausal", "allergic", "to", "penicillin"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(clinical_words, max_size=40).map(" ".join))
def test_extractor_on_clinical_word_salad(text: str) -> None:
    try:
        profile = extract_note(text, reference_date=REF)
    except NoteError:
        assert not text.strip()
    else:
        ids = [c.id for c in profile.conditions]
        assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("text", "pregnant"), [
    ("A 38-year-old woman. Past history of an ectopic pregnancy at age 26.", None),
    ("A 40-year-old woman with a history of pregnancy loss.", None),
    ("A 30-year-old woman. She was pregnant 3 years ago.", None),
    ("A 28-year-old woman, 12 weeks pregnant, presents with nausea.", True),
    ("A 30-year-old pregnant woman with fever.", True),
    ("She denies pregnancy.", False),
])
def test_a_past_pregnancy_is_not_a_current_one(text: str, pregnant: bool | None) -> None:
    assert extract_note(text, reference_date=REF).pregnant is pregnant


@pytest.mark.parametrize(("sentence", "mention", "negated"), [
    # a cue governs a coordinated list, not just the next few words
    ("She had not received any investigational agents or live vaccines in the past month.",
     "live vaccines", True),
    ("Sarah had not received any preoperative anticancer drugs.", "drugs", True),
    ("Her history was negative for HIV, active hepatitis B or C, and she had no asthma.",
     "hepatitis B", True),
    # ... and a new clause ends it
    ("She was not pregnant or breastfeeding and agreed to use contraception.",
     "contraception", False),
    ("She was not pregnant or breastfeeding and agreed to use contraception.",
     "breastfeeding", True),
])
def test_negation_scope_covers_lists_and_stops_at_a_new_clause(sentence: str, mention: str,
                                                               negated: bool) -> None:
    start = sentence.index(mention)
    cats = default_context().categories(sentence, start, start + len(mention))
    assert ("negated" in cats) is negated
