"""One context reading for notes and criteria, with its cues in one rules file."""

from __future__ import annotations

import pytest

from trialscout import textcontext
from trialscout.patients import context as note_context
from trialscout.patients.rules import load_rules

CUES = textcontext.criterion_cues()


def test_notes_and_criteria_read_one_rules_file() -> None:
    data = load_rules("context")
    assert set(data) >= {"cues", "criteria"}
    assert textcontext.default_context is note_context.default_context
    # the criterion patterns are the file's lists: a cue added there is read
    lists = {key: list(values) for key, values in data["criteria"].items()}
    assert not textcontext.CriterionCues(lists).negation.search("sans fever")
    lists["negation"].append("sans")
    assert textcontext.CriterionCues(lists).negation.search("sans fever")


@pytest.mark.parametrize(("before", "negated"), [
    ("Patients must not have undergone ", True),
    ("Subjects who are free of ", True),
    ("Has never received ", True),
    ("Prior ", False),
    ("History of ", False),
])
def test_a_negation_in_the_clause_before_a_concept(before: str, negated: bool) -> None:
    assert bool(CUES.negation.search(before)) is negated


@pytest.mark.parametrize(("before", "to_come"), [
    ("Considered fit to receive ", True),
    ("The patient will undergo ", True),
    ("Must be willing to start ", True),
    ("Received ", False),
])
def test_what_is_to_come(before: str, to_come: bool) -> None:
    assert bool(CUES.prospective.search(before)) is to_come


@pytest.mark.parametrize(("before", "after", "occasion"), [
    ("Heart failure that developed while receiving ", "", True),
    ("Within 4 weeks before the first dose of ", "", True),
    ("", "-induced lung injury", True),
    ("", " allergy in the past", True),
    ("Prior treatment with ", " within 6 months", False),
])
def test_a_drug_that_only_says_when_or_why(before: str, after: str, occasion: bool) -> None:
    found = bool(CUES.event_before.search(before)) or bool(CUES.effect.match(after))
    assert found is occasion


def test_rationale_inability_and_inclusions_that_exclude() -> None:
    assert CUES.rationale.search("Brain metastases, as these may bleed")
    assert not CUES.rationale.search("Brain metastases that bled")
    assert CUES.inability.search("Refuses to stop ")
    assert CUES.says_excluded.search("Patients on dialysis are not eligible")
    assert not CUES.says_excluded.search("Patients on dialysis are eligible")
