"""Visitor questions: validation, plain-text storage, rate limits, admin answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from trialscout.app import TrialScout, create_app
from trialscout.guides.questions import (
    MAX_TEXT,
    QuestionError,
    RateLimited,
    clean_email,
    clean_text,
)
from trialscout.guides.tables import GuideQuestionRow

NOW = datetime(2026, 5, 1, 12, 0, 0)


@pytest.fixture
def qapp() -> Iterator[TrialScout]:
    app = create_app(database_url="sqlite://", question_rate_limit=2,
                     question_rate_window=600, question_daily_limit=5, secret_key="k")
    yield app
    app.close()


def test_a_question_is_stored_as_plain_text(qapp: TrialScout) -> None:
    q = qapp.guides.ask(text="  Is <b>Prolia</b> safe\r\nwith kidney disease?\x00 ",
                        client_key="10.0.0.1", email=" me@example.org ",
                        guide_slug="denosumab", now=NOW)
    assert q.text == "Is <b>Prolia</b> safe\nwith kidney disease?"
    assert q.email == "me@example.org" and q.status == "open" and q.guide_slug == "denosumab"
    assert qapp.guides.question(q.id) == q


def test_the_visitor_key_is_stored_only_as_a_salted_hash(qapp: TrialScout) -> None:
    qapp.guides.ask(text="What is a T-score, please?", client_key="10.0.0.1", now=NOW)
    with qapp.engine.connect() as conn:
        stored = conn.execute(select(GuideQuestionRow.client_hash)).scalar_one()
    assert "10.0.0.1" not in stored and len(stored) == 64


@pytest.mark.parametrize(("fields", "field"), [
    ({"text": "short"}, "text"),
    ({"text": "x" * (MAX_TEXT + 1)}, "text"),
    ({"text": "A fine question here?", "email": "not-an-email"}, "email"),
    ({"text": "A fine question here?", "email": "a@b"}, "email"),
    ({"text": "A fine question here?", "email": "<script>@x.org"}, "email"),
    ({"text": "A fine question here?", "guide_slug": "no-such-guide"}, "guide_slug"),
    ({"text": "A fine question here?", "nct_id": "NCT1"}, "nct_id"),
    ({"text": "A fine question here?", "client_key": ""}, "client_key"),
])
def test_invalid_input_names_the_field(qapp: TrialScout, fields: dict[str, str],
                                       field: str) -> None:
    args = {"client_key": "10.0.0.1", **fields}
    with pytest.raises(QuestionError) as info:
        qapp.guides.ask(now=NOW, **args)  # type: ignore[arg-type]
    assert info.value.field == field
    assert qapp.guides.questions("all") == []


def test_each_visitor_is_rate_limited_within_the_window(qapp: TrialScout) -> None:
    for minute in range(2):
        qapp.guides.ask(text="Question number one?", client_key="a",
                        now=NOW + timedelta(minutes=minute))
    with pytest.raises(RateLimited) as info:
        qapp.guides.ask(text="Question number three?", client_key="a",
                        now=NOW + timedelta(minutes=2))
    assert info.value.scope == "visitor"
    assert 0 < info.value.retry_after <= 600 - 120 + 1
    qapp.guides.ask(text="Another visitor asks?", client_key="b",
                    now=NOW + timedelta(minutes=2))
    qapp.guides.ask(text="Later on, allowed again?", client_key="a",
                    now=NOW + timedelta(minutes=11))


def test_the_whole_site_has_a_daily_cap(qapp: TrialScout) -> None:
    for n in range(5):
        qapp.guides.ask(text=f"Visitor {n} asks a question?", client_key=f"v{n}",
                        now=NOW + timedelta(seconds=n))
    with pytest.raises(RateLimited) as info:
        qapp.guides.ask(text="One too many questions?", client_key="v9", now=NOW)
    assert info.value.scope == "site"
    qapp.guides.ask(text="Next day it is fine?", client_key="v9",
                    now=NOW + timedelta(days=1, seconds=5))


def test_one_address_with_a_new_session_each_time_is_limited() -> None:
    """A fresh session per request evades the per-session limit; the address limits
    catch it, per window and per day, and no single address can use up the site cap."""
    app = create_app(database_url="sqlite://", question_rate_limit=2,
                     question_rate_window=600, question_daily_limit=50,
                     question_address_limit=3, question_address_daily_limit=5,
                     secret_key="k")
    try:
        for n in range(3):
            app.guides.ask(text=f"Fresh session {n} asks?", client_key=f"s{n}",
                           address="192.0.2.7", now=NOW + timedelta(seconds=n))
        with pytest.raises(RateLimited) as info:
            app.guides.ask(text="Yet another fresh session?", client_key="s9",
                           address="192.0.2.7", now=NOW + timedelta(seconds=5))
        assert info.value.scope == "visitor"
        app.guides.ask(text="Someone elsewhere asks?", client_key="t1",
                       address="198.51.100.4", now=NOW + timedelta(seconds=6))
        for n in range(2):
            app.guides.ask(text=f"Back after the window {n}?", client_key=f"u{n}",
                           address="192.0.2.7", now=NOW + timedelta(minutes=11, seconds=n))
        with pytest.raises(RateLimited) as daily:
            app.guides.ask(text="Beyond the daily share?", client_key="u9",
                           address="192.0.2.7", now=NOW + timedelta(minutes=30))
        assert daily.value.scope == "visitor"
        assert 0 < daily.value.retry_after <= 24 * 3600
        app.guides.ask(text="The site still takes others?", client_key="t2",
                       address="198.51.100.4", now=NOW + timedelta(minutes=30))
        with app.engine.connect() as conn:
            stored = conn.execute(select(GuideQuestionRow.address_hash)).scalars().all()
        assert stored and all(h and "192.0.2.7" not in h for h in stored)
    finally:
        app.close()


def test_admin_lists_answers_publishes_and_deletes(qapp: TrialScout) -> None:
    first = qapp.guides.ask(text="How long is denosumab taken?", client_key="a",
                            email="x@example.org", guide_slug="denosumab", now=NOW)
    second = qapp.guides.ask(text="Is osteopenia a disease?", client_key="b",
                             guide_slug="osteopenia", now=NOW + timedelta(minutes=1))
    assert [q.id for q in qapp.guides.questions("open")] == [first.id, second.id]
    answered = qapp.guides.answer(first.id, "There is no set end date.", publish=True)
    assert answered.status == "answered" and answered.answered_at is not None
    assert [q.id for q in qapp.guides.questions("open")] == [second.id]
    assert [q.id for q in qapp.guides.questions("answered")] == [first.id]
    assert [q.id for q in qapp.guides.questions("all", guide_slug="osteopenia")] == [second.id]
    public = qapp.guides.published("denosumab")
    assert [p.question for p in public] == [first.text]
    assert "x@example.org" not in public[0].model_dump_json()
    qapp.guides.answer(second.id, "Not exactly.")
    assert qapp.guides.published("osteopenia") == []
    with pytest.raises(QuestionError):
        qapp.guides.answer(999, "Nobody asked.")
    assert qapp.guides.delete_question(first.id)
    assert not qapp.guides.delete_question(first.id)
    assert qapp.guides.question(first.id) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_clean_text_never_keeps_control_characters(text: str) -> None:
    try:
        cleaned = clean_text(text, "text", 10, MAX_TEXT)
    except QuestionError as exc:
        assert exc.field == "text"
        return
    assert 10 <= len(cleaned) <= MAX_TEXT
    assert cleaned == cleaned.strip()
    assert not any(ord(c) < 32 and c not in "\n\t" for c in cleaned)
    assert "\r" not in cleaned


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=300), st.emails()))
def test_clean_email_accepts_or_rejects_cleanly(email: str | None) -> None:
    try:
        cleaned = clean_email(email)
    except QuestionError as exc:
        assert exc.field == "email"
        return
    if cleaned is not None:
        assert "@" in cleaned and len(cleaned) <= 254 and cleaned == cleaned.strip()
        assert not any(c in cleaned for c in "<> \"")
