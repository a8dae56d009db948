"""Questions: plain language, the satisfying answer, and keys shared across phrasings."""

from __future__ import annotations

import pytest

from tests.criteria.helpers import one
from trialscout.criteria import parse_criteria
from trialscout.criteria.questions import number

EXC = "Exclusion Criteria:"


@pytest.mark.parametrize("phrasings,key", [
    (["HbA1c ≥ 7%", "HbA1c of 7% or higher", "Glycated hemoglobin \\>= 7.0 %",
      "HbA1c at least 53 mmol/mol", "A1c >=7"], "lab:hba1c:ge:7:%"),
    (["Received denosumab within the past 6 months", "Prolia in the last 6 months",
      "Treatment with Xgeva within 6 months prior to screening",
      "AMG 162 within the previous 6 months"], "drug:denosumab:within:6mo"),
    (["Type 2 diabetes", "T2DM", "Diagnosis of NIDDM", "diabetes mellitus type 2"],
     "condition:type_2_diabetes"),
    (["Oral bisphosphonate within the past 1 year", "oral bisphosphonates in the last year",
      "Oral bisphosphonate within 12 months"], "drug:oral_bisphosphonate:within:1y"),
    (["25-hydroxyvitamin D < 20 ng/mL", "Serum 25(OH)D below 50 nmol/L",
      "25-OH vitamin D < 20 ng/ml"], "lab:vitamin_d_25oh:lt:20:ng/mL"),
    (["eGFR < 30 mL/min/1.73m²", "eGFR below 30 ml/min/1.73 m2", "eGFR < 30 mL/min"],
     "lab:egfr:lt:30:mL/min/1.73m²"),
    (["ALT > 3 x ULN", "ALT more than 3 times the upper limit of normal",
      "alanine aminotransferase \\> 3xULN"], "lab:alt:gt:3:×ULN"),
    (["ECOG 0-1", "ECOG performance status of 0 or 1", "ECOG PS ≤ 1"], "performance:ecog:le:1"),
])
def test_same_meaning_same_key(phrasings: list[str], key: str) -> None:
    keys = {one(text, EXC).question.key for text in phrasings}
    assert keys == {key}


def test_keys_differ_when_meaning_differs() -> None:
    assert one("HbA1c ≥ 7%").question.key != one("HbA1c ≥ 8%").question.key
    assert one("Denosumab within 6 months", EXC).question.key != \
        one("Denosumab within 12 months", EXC).question.key


def test_question_text_and_answer() -> None:
    item = one("Received denosumab within the past 6 months", EXC)
    assert item.question.text == "Have you taken denosumab in the past 6 months?"
    assert (item.question.meets, item.question.answerable) == ("no", True)
    item = one("Type 2 diabetes for more than 10 years")
    assert item.question.text == "Have you had type 2 diabetes for more than 10 years?"
    assert item.question.meets == "yes"


def test_every_item_has_a_question() -> None:
    text = ("Inclusion Criteria:\n* Women aged 50-80\n* Signed informed consent\n"
            "* Something nobody can parse\nExclusion Criteria:\n* Pregnancy\n* Prior hip fracture")
    for item in parse_criteria(text).items:
        assert item.question.text and item.question.key
        assert item.question.meets in {"yes", "no"}
    assert [i.question.answerable for i in parse_criteria(text).items] == [
        True, False, True, True, True]


def test_questions_dedupe_across_items() -> None:
    parsed = parse_criteria("* Type 2 diabetes\n* T2DM\n* Hypertension")
    assert [q.key for q in parsed.questions()] == ["condition:type_2_diabetes",
                                                   "condition:hypertension"]


@pytest.mark.parametrize("value,text", [(7.0, "7"), (20.032, "20"), (-2.5, "-2.5"),
                                        (0.0, "0"), (126.109, "126"), (1.504, "1.5")])
def test_number_rendering(value: float, text: str) -> None:
    assert number(value) == text


def test_allergy_with_nothing_named_asks_about_allergies() -> None:
    item = one("No known allergy to E. coli protein or IL-10.", "Exclusion Criteria:")
    assert item.question.text == "Do you have any allergies?"
    assert item.question.key == "allergy:allergy"
    named = one("Known allergy to amoxicillin", "Exclusion Criteria:")
    assert named.question.text == "Are you allergic to Amoxicillin?"


def test_hip_surgery_is_asked_about_not_only_the_scan() -> None:
    item = one("Conditions that preclude bone mineral density measurement (lumbar spine/bilateral "
               "hip surgery with hardware in place, abdominal clips, umbilical ring [not willing "
               "to remove] or weight that exceeds the DEXA machine limitation)",
               "Exclusion Criteria:")
    concepts = [c.concept.id for c in item.constraints if c.concept is not None]
    assert "hip_surgery" in concepts
    assert item.question.text != "Have you ever had DXA scan?"
    assert one("Prior hip surgery", "Exclusion Criteria:").question.text == \
        "Have you ever had hip surgery?"
