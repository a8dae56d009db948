"""Shortlist: saved once per trial, bounded, owner-scoped; owner moves keep one of each."""

from __future__ import annotations

import pytest

from trialscout.accounts.owners import delete_owner, move_owned_rows
from trialscout.app import TrialScout
from trialscout.workspace import NoteIn, NoteStore, Shortlist, ShortlistError

A, B = "session:" + "a" * 64, "account:7"


def test_saving_removing_and_the_limit(backend_app: TrialScout, clock) -> None:
    shortlist = Shortlist(backend_app.engine, limit=2)
    assert shortlist.add(A, "NCT00000001") is True
    assert shortlist.add(A, "NCT00000001") is False
    clock.advance(seconds=1)
    assert shortlist.add(A, "NCT00000002") is True
    with pytest.raises(ShortlistError, match="2 trials"):
        shortlist.add(A, "NCT00000003")
    with pytest.raises(ShortlistError):
        shortlist.add(A, "nct-1")
    assert [s.nct_id for s in shortlist.list(A)] == ["NCT00000001", "NCT00000002"]
    assert shortlist.list(B) == [] and not shortlist.contains(B, "NCT00000001")
    assert shortlist.remove(B, "NCT00000001") is False
    assert shortlist.remove(A, "NCT00000001") is True
    assert [s.nct_id for s in shortlist.list(A)] == ["NCT00000002"]


def test_signing_in_moves_notes_and_shortlist_into_the_account(backend_app: TrialScout,
                                                               clock) -> None:
    app = backend_app
    shortlist, notes = Shortlist(app.engine), NoteStore(app.engine)
    shortlist.add(A, "NCT00000001")
    shortlist.add(B, "NCT00000001")
    shortlist.add(A, "NCT00000002")
    notes.add(A, "NCT00000001", NoteIn(body="from the session"))
    with app.engine.begin() as conn:
        move_owned_rows(conn, A, B)
    assert [s.nct_id for s in shortlist.list(B)] == ["NCT00000001", "NCT00000002"]
    assert [n.body for n in notes.list(B)] == ["from the session"]
    assert shortlist.list(A) == [] and notes.list(A) == []
    with app.engine.begin() as conn:
        delete_owner(conn, [B])
    assert shortlist.list(B) == [] and notes.list(B) == []
