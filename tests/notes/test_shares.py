"""Share links: hashed token and passcode, expiry, revocation, and the passcode lockout
(5 wrong -> 15 minutes, doubling after), counted in the database, on a frozen clock."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select

from trialscout.app import TrialScout, create_app
from trialscout.workspace import (
    NoteIn,
    NoteStore,
    ShareError,
    ShareIn,
    ShareLocked,
    ShareService,
    WrongPasscode,
)
from trialscout.workspace.shares import CreatedShare, SharedAnswer, lock_for, token_hash
from trialscout.workspace.tables import ShareAttemptRow, ShareRow

A, B = "session:" + "a" * 64, "session:" + "b" * 64
NCT = "NCT01234567"
PASS = "blue-heron-42"


def _share(app: TrialScout, hasher: PasswordHasher,
           **choice: Any) -> tuple[ShareService, CreatedShare]:
    notes = NoteStore(app.engine)
    notes.add(A, NCT, NoteIn(body="first <b>note</b>", quote="week 12"))
    notes.add(A, NCT, NoteIn(body="second note"))
    notes.add(A, "NCT07654321", NoteIn(body="on another trial"))
    service = ShareService(app.engine, hasher)
    created = service.create(A, NCT, "A trial", ShareIn(passcode=PASS, **choice),
                             notes.list(A), [SharedAnswer(question="Are you 18?",
                                                          answer="Yes")])
    return service, created


def test_only_hashes_are_stored_and_the_right_passcode_opens(app: TrialScout, clock) -> None:
    service, created = _share(app, PasswordHasher())
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", created.token)  # 256 bits
    with app.engine.connect() as conn:
        row = conn.execute(select(ShareRow)).one()
    assert row.token_hash == token_hash(created.token) != created.token
    assert row.passcode_hash.startswith("$argon2id$") and PASS not in row.passcode_hash
    assert created.expires_at == clock.now + timedelta(days=7)
    content = service.open(created.token, PASS)
    assert [n.body for n in content.notes or []] == ["first <b>note</b>", "second note"]
    assert content.answers is None  # answers were not chosen
    assert service.expiry(created.token) == created.expires_at


def test_the_link_shows_only_what_was_chosen(app: TrialScout, fast_hasher, clock) -> None:
    notes = NoteStore(app.engine)
    service, created = _share(app, fast_hasher, include_answers=True)
    assert service.open(created.token, PASS).answers == [
        SharedAnswer(question="Are you 18?", answer="Yes")]
    second = notes.list(A, NCT)[1]
    picked = service.create(A, NCT, "A trial", ShareIn(passcode=PASS, note_ids=[second.id]),
                            notes.list(A), None)
    assert [n.body for n in service.open(picked.token, PASS).notes or []] == ["second note"]
    bare = service.create(A, NCT, "A trial", ShareIn(passcode=PASS, include_notes=False),
                          notes.list(A), None)
    opened = service.open(bare.token, PASS)
    assert opened.notes is None and opened.answers is None


def test_lockout_after_five_wrong_passcodes_grows_and_is_recorded(
        backend_app: TrialScout, fast_hasher, clock) -> None:
    service, created = _share(backend_app, fast_hasher)
    remaining = []
    for _ in range(4):
        with pytest.raises(WrongPasscode) as wrong:
            service.open(created.token, "not-it-1")
        remaining.append(wrong.value.remaining)
    assert remaining == [4, 3, 2, 1]
    with pytest.raises(ShareLocked) as locked:
        service.open(created.token, "not-it-5")
    assert locked.value.until == clock.now + timedelta(minutes=15)
    assert locked.value.retry_after == 900
    with pytest.raises(ShareLocked):  # even the right passcode waits for the lock
        service.open(created.token, PASS)
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(ShareLocked):
        service.open(created.token, PASS)
    clock.advance(seconds=1)
    with pytest.raises(ShareLocked) as longer:  # a 6th wrong one: 30 minutes
        service.open(created.token, "not-it-6")
    assert longer.value.until == clock.now + timedelta(minutes=30)
    clock.advance(minutes=30)
    assert service.open(created.token, PASS).nct_id == NCT  # resets the count
    with pytest.raises(WrongPasscode) as again:
        service.open(created.token, "not-it-7")
    assert again.value.remaining == 4
    outcomes = [o for _, o in service.attempts(A, created.id)]
    assert outcomes == ["wrong"] * 5 + ["locked", "locked", "wrong", "opened", "wrong"]
    assert service.attempts(B, created.id) == []
    assert [lock_for(n) for n in (4, 5, 6, 7)] == [None, timedelta(minutes=15),
                                                   timedelta(minutes=30), timedelta(hours=1)]
    assert lock_for(40) == timedelta(hours=24)


def test_wrong_passcodes_count_across_processes(tmp_path: Path, fast_hasher, clock) -> None:
    """Two app objects (as two worker processes would) on one database share the count."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = create_app(database_url=url), create_app(database_url=url)
    try:
        service, created = _share(first, fast_hasher)
        other = ShareService(second.engine, fast_hasher)
        for worker in (service, other, service, other):
            with pytest.raises(WrongPasscode):
                worker.open(created.token, "guess-123")
        with pytest.raises(ShareLocked):
            other.open(created.token, "guess-456")
        with pytest.raises(ShareLocked):
            service.open(created.token, PASS)
    finally:
        first.close()
        second.close()


def test_expiry_with_a_frozen_clock(app: TrialScout, fast_hasher, clock) -> None:
    service, created = _share(app, fast_hasher, expires_in_hours=1)
    assert created.expires_at == clock.now + timedelta(hours=1)
    clock.advance(minutes=59, seconds=59)
    assert service.open(created.token, PASS).nct_id == NCT
    clock.advance(seconds=1)
    with pytest.raises(ShareError):
        service.open(created.token, PASS)
    with pytest.raises(ShareError):
        service.expiry(created.token)
    with app.engine.connect() as conn:
        assert conn.execute(select(ShareRow.payload)).scalar_one() is None  # snapshot gone
    [listed] = service.list(A)
    assert listed.active is False and listed.expires_at == created.expires_at


@pytest.mark.parametrize("hours", [0, 721, -5])
def test_expiry_outside_one_hour_to_thirty_days_is_refused(hours: int) -> None:
    with pytest.raises(ValidationError):
        ShareIn(passcode=PASS, expires_in_hours=hours)
    assert ShareIn(passcode=PASS, expires_in_hours=720).expires_in_hours == 720
    assert ShareIn(passcode=PASS).expires_in_hours == 168


def test_revoked_unknown_and_malformed_links_open_nothing(app: TrialScout, fast_hasher,
                                                          clock) -> None:
    service, created = _share(app, fast_hasher)
    assert service.revoke(B, created.id) is False
    assert service.open(created.token, PASS).nct_id == NCT
    assert service.revoke(A, created.id) is True
    for token in (created.token, "x" * 43, "../etc", ""):
        with pytest.raises(ShareError):
            service.open(token, PASS)
    assert service.list(B) == []
    with app.engine.connect() as conn:
        assert conn.execute(select(ShareAttemptRow.outcome)).scalars().all() == ["opened"]


@pytest.mark.parametrize("passcode", ["short", "x" * 129, "has\x00nul"])
def test_bad_passcodes_are_refused(passcode: str) -> None:
    with pytest.raises(ValidationError):
        ShareIn(passcode=passcode)


def test_parallel_guesses_cannot_outrun_the_lock(backend_app: TrialScout, fast_hasher,
                                                 clock) -> None:
    """Ten guesses at once: at most five get their passcode checked, the rest are locked."""
    from concurrent.futures import ThreadPoolExecutor

    service, created = _share(backend_app, fast_hasher)

    def guess(n: int) -> str:
        try:
            service.open(created.token, f"guess-{n:04d}")
        except WrongPasscode:
            return "wrong"
        except ShareLocked:
            return "locked"
        return "opened"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(guess, range(10)))
    assert results.count("wrong") == 4 and results.count("locked") == 6
    outcomes = [o for _, o in service.attempts(A, created.id)]
    assert outcomes.count("wrong") == 5 and outcomes.count("locked") == 5


@settings(max_examples=80, deadline=None)
@given(hours=st.integers(min_value=-10**6, max_value=10**6),
       passcode=st.text(max_size=200))
def test_expiry_and_passcode_limits_hold_for_any_input(hours: int, passcode: str) -> None:
    valid = 1 <= hours <= 720 and 6 <= len(passcode) <= 128 and "\x00" not in passcode
    try:
        choice = ShareIn(passcode=passcode, expires_in_hours=hours)
    except ValidationError:
        assert not valid
    else:
        assert valid and 1 <= choice.expires_in_hours <= 720
