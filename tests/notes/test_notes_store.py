"""Notes: owner-scoped CRUD, anchors, and size limits (property tests at the boundary)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trialscout.app import TrialScout
from trialscout.workspace import NoteError, NoteIn, NoteStore
from trialscout.workspace.notes import MAX_BODY, MAX_QUOTE

A, B = "session:" + "a" * 64, "session:" + "b" * 64
NCT = "NCT01234567"


def test_a_note_on_a_selection_round_trips_and_stays_its_owners(backend_app: TrialScout,
                                                                 clock) -> None:
    store = NoteStore(backend_app.engine)
    note = store.add(A, NCT, NoteIn.model_validate(
        {"body": "  Ask about the 12-week visit  ", "quote": "visit at week 12",
         "anchor": {"section": "summary", "start": 40, "end": 56}}))
    assert note.body == "Ask about the 12-week visit"
    assert note.anchor is not None and (note.anchor.start, note.anchor.end) == (40, 56)
    assert note.created_at == clock.now
    assert store.get(B, note.id) is None
    assert store.list(B) == [] and store.list(B, NCT) == []
    assert store.update(B, note.id, NoteIn(body="mine now")) is None
    assert store.delete(B, note.id) is False
    assert store.get(A, note.id) == note

    clock.advance(minutes=5)
    edited = store.update(A, note.id, NoteIn(body="Ask about visits"))
    assert edited is not None and edited.body == "Ask about visits"
    assert edited.quote is None and edited.updated_at > edited.created_at
    assert [n.id for n in store.list(A, NCT)] == [note.id]
    assert store.delete(A, note.id) is True
    assert store.list(A) == []


def test_a_note_without_a_selection_and_the_per_owner_limit(app: TrialScout) -> None:
    store = NoteStore(app.engine, max_per_owner=3)
    for i in range(3):
        store.add(A, NCT, NoteIn(body=f"note {i}"))
    with pytest.raises(NoteError, match="3 notes"):
        store.add(A, NCT, NoteIn(body="one too many"))
    assert store.add(B, NCT, NoteIn(body="another visitor is not limited by A")).quote is None
    with pytest.raises(NoteError, match="NCT number"):
        store.add(A, "NCT123", NoteIn(body="x"))


@pytest.mark.parametrize("data", [
    {"body": ""}, {"body": "   \n "}, {"body": "x" * (MAX_BODY + 1)},
    {"body": "nul \x00 inside"}, {"body": "ok", "quote": "q" * (MAX_QUOTE + 1)},
    {"body": "ok", "anchor": {"section": "summary", "start": 1, "end": 2}},
    {"body": "ok", "quote": "q", "anchor": {"section": "summary", "start": 9, "end": 2}},
    {"body": "ok", "quote": "q", "anchor": {"section": "<script>", "start": 1, "end": 2}},
    {"body": "ok", "unknown": 1},
])
def test_bad_notes_are_refused_with_a_reason(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        NoteIn.model_validate(data)


@settings(max_examples=60, deadline=None)
@given(body=st.text(min_size=0, max_size=MAX_BODY + 50),
       quote=st.none() | st.text(max_size=MAX_QUOTE + 50))
def test_limits_hold_for_any_text(body: str, quote: str | None) -> None:
    valid = (0 < len(body) <= MAX_BODY and bool(body.strip()) and "\x00" not in body
             and (quote is None or (len(quote) <= MAX_QUOTE and "\x00" not in quote)))
    try:
        note = NoteIn(body=body, quote=quote)
    except ValidationError:
        assert not valid
    else:
        assert valid
        assert 0 < len(note.body) <= MAX_BODY
        assert note.quote is None or len(note.quote) <= MAX_QUOTE
