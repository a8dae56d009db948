"""Self-check questions come from the stored parse when it is current, else a fresh parse."""

from __future__ import annotations

import pytest

from trialscout.app import TrialScout
from trialscout.criteria import PARSER_VERSION
from trialscout.sample import sample_path
from trialscout.sessions import questions
from trialscout.sessions.questions import display_text, questions_for
from trialscout.sessions.selfcheck import build_checklist


@pytest.fixture
def sample_app(app: TrialScout) -> TrialScout:
    app.import_paths([sample_path()])
    questions._cache.clear()
    return app


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> None:
        raise AssertionError("parsed again although a current stored parse exists")

    monkeypatch.setattr(questions, "parse_criteria", refuse)


def test_the_stored_parse_is_used_when_current(sample_app: TrialScout,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    trial = sample_app.trial("NCT09000001")
    assert trial is not None
    stored = sample_app.parsed_criteria(trial.nct_id)
    assert stored is not None and stored.parser_version == PARSER_VERSION
    _no_parsing(monkeypatch)
    found, parser = questions_for(trial, lambda: sample_app.parsed_criteria(trial.nct_id))
    assert parser.endswith(PARSER_VERSION)
    assert [q.question_key for q in found] == [i.question.key for i in stored.items]
    assert any(q.askable for q in found) and any(not q.askable for q in found)


def test_an_outdated_stored_parse_is_replaced(sample_app: TrialScout) -> None:
    trial = sample_app.trial("NCT09000002")
    assert trial is not None
    stored = sample_app.parsed_criteria(trial.nct_id)
    assert stored is not None
    old = stored.model_copy(update={"parser_version": "0.0.1", "items": []})
    found, _ = questions_for(trial, lambda: old)
    assert found, "parsed afresh instead of trusting an old parser's empty result"


def test_markdown_escapes_are_removed_for_reading() -> None:
    assert display_text("eGFR \\< 35 and HbA1c \\>= 7\\%") == "eGFR < 35 and HbA1c >= 7\\%"
    assert display_text("  plain  ") == "plain"


def test_a_lead_in_becomes_the_heading_of_its_group(sample_app: TrialScout) -> None:
    """NCT09000001: "At least one of the following additional risk factors:" is not asked;
    its three sub-items form a group one fitting answer satisfies."""
    trial = sample_app.trial("NCT09000001")
    assert trial is not None
    found, _ = questions_for(trial, lambda: sample_app.parsed_criteria(trial.nct_id))
    lead = next(q for q in found if q.text.startswith("At least one of the following"))
    assert lead.label is not None and lead.label.op == "any" and not lead.askable
    members = [q for q in found if lead.label in q.groups]
    assert len(members) == 3 and all(q.askable for q in members)
    outside = [q for q in found if q is not lead and lead.label not in q.groups]
    assert all(q.label is None for q in outside)
    answers = {q.question_key or "": ("yes" if n == 1 else "no") for n, q in enumerate(members)}
    verdict = build_checklist(trial.nct_id, found, answers).verdict  # type: ignore[arg-type]
    assert verdict.status != "not_eligible" and verdict.failing == []
