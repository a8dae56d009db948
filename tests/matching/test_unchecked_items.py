"""Consent and compliance are the study team's to check: a note that promises them settles
nothing (no rule may read a benchmark's closing sentence as evidence)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.matching.builders import constraint, item
from trialscout.matching.facts import PatientFacts
from trialscout.matching.item import evaluate_item
from trialscout.patients.notes import extract_note

REF = date(2024, 6, 1)
NOTE = ("Retired teacher, 66, with knee osteoarthritis. She says she is happy to sign the "
        "consent form and will keep to every visit and procedure the study asks of her. "
        "She is not participating in any other clinical trial.")


def _facts() -> PatientFacts:
    return PatientFacts(extract_note(NOTE, reference_date=REF), REF)


@pytest.mark.parametrize(("kind", "text", "section"), [
    ("consent", "Able and willing to give written informed consent", "inclusion"),
    ("consent", "Unable to provide informed consent", "exclusion"),
    ("administrative", "Willing to comply with all study procedures and visits", "inclusion"),
    ("administrative", "Unlikely to comply with the protocol", "exclusion"),
])
def test_consent_and_compliance_stay_unknown(kind: str, text: str, section: str) -> None:
    it = item([constraint(kind, text=text,
                          polarity="required" if section == "inclusion" else "must_not")],
              kind=kind, answerable=False, text=text, section=section)
    result = evaluate_item(it, _facts())
    assert result.verdict == "UNKNOWN", (text, result.reason)
    assert result.checkable is False
    # the closed world may read silence as absence, but never the note's promise as proof
    closed = evaluate_item(it, _facts(), closed_world=True)
    assert all(e.kind != "note" for e in closed.evidence), closed.evidence


def test_other_trials_are_still_read_from_a_note() -> None:
    text = "Participation in another clinical study within 30 days"
    it = item([constraint("other", polarity="must_not", text=text)], text=text,
              section="exclusion")
    result = evaluate_item(it, _facts())
    assert result.verdict == "MET"
