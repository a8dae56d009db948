"""An exclusion read both ways for one concept: the negated reading is the misreading."""

from __future__ import annotations

from datetime import date

import pytest

from tests.matching.builders import constraint, item
from trialscout.matching.facts import PatientFacts
from trialscout.matching.item import evaluate_item
from trialscout.patients.notes import extract_note

REF = date(2025, 3, 1)
TEXT = "Known history of hepatitis B (defined as a reactive surface antigen test)"


def _exclusion(*, with_plain: bool = True):  # type: ignore[no-untyped-def]
    parts = [constraint("condition", polarity="must_not", cid="hepatitis_b", text=TEXT)] \
        if with_plain else []
    negated = constraint("condition", polarity="required", cid="hepatitis_b", text=TEXT)
    parts.append(negated.model_copy(update={"negated": True}))
    return item(parts, section="exclusion", text=TEXT)


def _facts(note: str) -> PatientFacts:
    return PatientFacts(extract_note(note, reference_date=REF), REF)


@pytest.mark.parametrize("note", [
    "62-year-old man with lung cancer. He has never had hepatitis B.",
    "Woman of 55 with osteoporosis; hepatitis serology negative, no liver disease.",
    "A 70-year-old with heart failure.",
])
def test_a_patient_without_the_condition_is_not_excluded(note: str) -> None:
    verdict = evaluate_item(_exclusion(), _facts(note))
    assert verdict.verdict != "NOT_MET", verdict.reason


def test_a_patient_with_the_condition_is_still_excluded() -> None:
    verdict = evaluate_item(_exclusion(), _facts(
        "58-year-old woman with chronic hepatitis B on tenofovir."))
    assert verdict.verdict == "NOT_MET", verdict.reason


def test_a_negated_exclusion_alone_keeps_its_reading() -> None:
    """Without a plain reading to contradict it, "excluded unless A" is kept as read (the
    parser may mean it: "patients without measurable disease")."""
    alone = _exclusion(with_plain=False)
    assert evaluate_item(alone, _facts(
        "58-year-old woman with chronic hepatitis B on tenofovir.")).verdict == "MET"
