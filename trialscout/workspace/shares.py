"""Passcode share links: a read-only snapshot of one trial with the sharer's notes and,
if they chose, their self-check answers.

The link token is 256 random bits (``secrets.token_urlsafe(32)``); only its SHA-256 is
stored, so the database alone cannot open a link. The passcode is hashed with argon2id.
Wrong passcodes are counted on the link, in the database (so every worker process sees
them; the count goes up before the slow passcode check, so parallel guesses cannot outrun
it): after ``LOCK_AFTER`` wrong ones in a row the link locks for ``BASE_LOCK``, and each
further wrong passcode after a lock doubles the lock, up to ``MAX_LOCK``. A right passcode
resets the count. Every attempt is recorded. Expired and revoked links open nothing, and
their snapshot is deleted.
"""

from __future__ import annotations

import builtins
import hashlib
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, delete, func, insert, select, update

from trialscout.utc import UtcDateTime
from trialscout.workspace.notes import Anchor, NoteView
from trialscout.workspace.ownership import utcnow
from trialscout.workspace.tables import ShareAttemptRow, ShareRow

MIN_HOURS, MAX_HOURS, DEFAULT_HOURS = 1, 30 * 24, 7 * 24
MIN_PASSCODE, MAX_PASSCODE = 6, 128
LOCK_AFTER = 5
BASE_LOCK = timedelta(minutes=15)
MAX_LOCK = timedelta(hours=24)
MAX_SHARES_PER_OWNER = 100
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
HASH_SLOTS = 2
HASH_WAIT_SECONDS = 10.0
_hash_slots = threading.BoundedSemaphore(HASH_SLOTS)


class ShareError(Exception):
    """A link that opens nothing: unknown, expired or revoked (callers answer 404)."""


class ShareBusy(Exception):
    """Every argon2id slot stayed busy for ``HASH_WAIT_SECONDS`` (callers answer 503)."""

    retry_after = 10


@contextmanager
def hash_slot() -> Iterator[None]:
    """One of ``HASH_SLOTS`` argon2id computations per process at a time: each takes tens
    of megabytes and most of a core, so a burst of share requests cannot exhaust memory
    or starve every other request."""
    if not _hash_slots.acquire(timeout=HASH_WAIT_SECONDS):
        raise ShareBusy()
    try:
        yield
    finally:
        _hash_slots.release()


class WrongPasscode(Exception):
    def __init__(self, remaining: int) -> None:
        super().__init__("wrong passcode")
        self.remaining = remaining


class ShareLocked(Exception):
    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__("locked")
        self.until = until
        self.retry_after = max(1, int((until - now).total_seconds() + 0.999))


class ShareIn(BaseModel):
    """What the sharer chooses: the passcode, how long the link lives, and what it shows."""

    model_config = ConfigDict(extra="forbid")

    passcode: str = Field(min_length=MIN_PASSCODE, max_length=MAX_PASSCODE)
    expires_in_hours: int = Field(default=DEFAULT_HOURS, ge=MIN_HOURS, le=MAX_HOURS)
    include_notes: bool = True
    note_ids: list[int] | None = Field(default=None, max_length=500,
                                       description="Only these notes (default: all notes "
                                       "on the trial).")
    include_answers: bool = False

    @field_validator("passcode")
    @classmethod
    def _passcode(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class SharedNote(BaseModel):
    body: str
    quote: str | None = None
    anchor: Anchor | None = None


class SharedAnswer(BaseModel):
    question: str
    answer: str


class SharedContent(BaseModel):
    """Exactly what the recipient sees, fixed when the link was made."""

    nct_id: str
    title: str
    notes: list[SharedNote] | None = None
    answers: list[SharedAnswer] | None = None
    expires_at: UtcDateTime


class ShareView(BaseModel):
    """A link as its owner sees it in their list (never the token)."""

    id: int
    nct_id: str
    created_at: UtcDateTime
    expires_at: UtcDateTime
    revoked_at: UtcDateTime | None = None
    active: bool
    notes: int
    answers: bool
    locked_until: UtcDateTime | None = None
    wrong_attempts: int = Field(default=0, description="Wrong passcodes tried on it so far.")


class CreatedShare(ShareView):
    token: str = Field(description="Shown once: only its hash is kept.")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def lock_for(failures: int) -> timedelta | None:
    """How long the link locks after its ``failures``-th wrong passcode in a row."""
    if failures < LOCK_AFTER:
        return None
    return min(MAX_LOCK, BASE_LOCK * (2 ** min(failures - LOCK_AFTER, 16)))


def _view(row: Any, now: datetime, wrong: int = 0) -> ShareView:
    content = SharedContent.model_validate_json(row.payload) if row.payload else None
    return ShareView(id=row.id, nct_id=row.nct_id, created_at=row.created_at,
                     expires_at=row.expires_at, revoked_at=row.revoked_at,
                     active=row.revoked_at is None and row.expires_at > now,
                     notes=len(content.notes or []) if content else 0,
                     answers=bool(content and content.answers is not None),
                     locked_until=row.locked_until if row.locked_until
                     and row.locked_until > now else None, wrong_attempts=wrong)


class ShareService:
    def __init__(self, engine: Engine, hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()

    def create(self, owner: str, nct_id: str, title: str, choice: ShareIn,
               notes: list[NoteView], answers: list[SharedAnswer] | None) -> CreatedShare:
        """Make a link for ``owner``'s ``notes`` (already theirs, on this trial) and, if
        ``choice.include_answers``, ``answers``."""
        now = utcnow()
        chosen = None
        if choice.include_notes:
            wanted = set(choice.note_ids) if choice.note_ids is not None else None
            chosen = [SharedNote(body=n.body, quote=n.quote, anchor=n.anchor) for n in notes
                      if n.nct_id == nct_id and (wanted is None or n.id in wanted)]
        expires = now + timedelta(hours=choice.expires_in_hours)
        content = SharedContent(nct_id=nct_id, title=title, notes=chosen,
                                answers=answers if choice.include_answers else None,
                                expires_at=expires)
        token = secrets.token_urlsafe(32)
        with hash_slot():
            digest = self.hasher.hash(choice.passcode)
        with self.engine.begin() as conn:
            self._purge(conn, now)
            count = len(conn.execute(select(ShareRow.id).where(ShareRow.owner == owner))
                        .all())
            if count >= MAX_SHARES_PER_OWNER:
                raise ValueError(f"You have {count} share links; revoke some first.")
            new_id = conn.execute(insert(ShareRow).values(
                token_hash=token_hash(token), owner=owner, nct_id=nct_id,
                passcode_hash=digest, payload=content.model_dump_json(), created_at=now,
                expires_at=expires, revoked_at=None, failures=0, locked_until=None)
                .returning(ShareRow.id)).scalar_one()
            row = conn.execute(select(ShareRow).where(ShareRow.id == new_id)).one()
        return CreatedShare(token=token, **_view(row, now).model_dump())

    def list(self, owner: str, nct_id: str | None = None) -> list[ShareView]:
        now = utcnow()
        query = select(ShareRow).where(ShareRow.owner == owner)
        if nct_id is not None:
            query = query.where(ShareRow.nct_id == nct_id)
        wrong = (select(ShareAttemptRow.share_id, func.count().label("n"))
                 .where(ShareAttemptRow.outcome == "wrong")
                 .group_by(ShareAttemptRow.share_id).subquery())
        query = query.add_columns(func.coalesce(wrong.c.n, 0).label("wrong")).outerjoin(
            wrong, wrong.c.share_id == ShareRow.id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(ShareRow.created_at.desc(), ShareRow.id.desc()))
            return [_view(row, now, int(row.wrong)) for row in rows]

    def revoke(self, owner: str, share_id: int) -> bool:
        """Revoke the owner's link (its snapshot is deleted); False if they have no such."""
        with self.engine.begin() as conn:
            return bool(conn.execute(update(ShareRow).where(
                ShareRow.id == share_id, ShareRow.owner == owner).values(
                revoked_at=utcnow(), payload=None)).rowcount)

    def expiry(self, token: str) -> datetime:
        """When a live link expires (raises ShareError for a link that opens nothing)."""
        if not TOKEN_SHAPE.match(token):
            raise ShareError("no such link")
        now = utcnow()
        with self.engine.connect() as conn:
            row = conn.execute(select(ShareRow.expires_at, ShareRow.revoked_at).where(
                ShareRow.token_hash == token_hash(token))).one_or_none()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise ShareError("no such link")
        return row.expires_at

    def open(self, token: str, passcode: str) -> SharedContent:
        """The shared content, if ``passcode`` is right and the link is live and unlocked.

        Raises ShareError (unknown, expired, revoked), ShareLocked or WrongPasscode. The
        attempt is counted as wrong *before* the passcode is checked, in a short
        transaction with the link's row locked, so parallel guesses are counted one by
        one and never outrun the lock; the slow argon2id check runs outside any
        transaction, and a right passcode then resets the count.
        """
        if not TOKEN_SHAPE.match(token):
            raise ShareError("no such link")
        with hash_slot():
            return self._open(token_hash(token), passcode)

    def _open(self, digest: str, passcode: str) -> SharedContent:
        with self.engine.begin() as conn:
            conn.execute(update(ShareRow).where(ShareRow.token_hash == digest)
                         .values(failures=ShareRow.failures))
            row = conn.execute(select(ShareRow).where(ShareRow.token_hash == digest)
                               ).one_or_none()
            now = utcnow()
            refusal: Exception | None = None
            if row is None or row.revoked_at is not None or row.payload is None:
                refusal = ShareError("no such link")
            elif row.expires_at <= now:
                conn.execute(update(ShareRow).where(ShareRow.id == row.id).values(payload=None))
                refusal = ShareError("no such link")
            elif row.locked_until is not None and row.locked_until > now:
                self._attempt(conn, row.id, now, "locked")
                refusal = ShareLocked(row.locked_until, now)
            else:
                failures = row.failures + 1
                lock = lock_for(failures)
                conn.execute(update(ShareRow).where(ShareRow.id == row.id).values(
                    failures=failures, locked_until=now + lock if lock else None))
        if refusal is not None:
            raise refusal
        assert row is not None
        right = len(passcode) <= MAX_PASSCODE and self._verify(row.passcode_hash, passcode)
        with self.engine.begin() as conn:
            if right:
                conn.execute(update(ShareRow).where(ShareRow.id == row.id)
                             .values(failures=0, locked_until=None))
            self._attempt(conn, row.id, now, "opened" if right else "wrong")
        if right:
            return SharedContent.model_validate_json(row.payload)
        if lock is not None:
            raise ShareLocked(now + lock, now)
        raise WrongPasscode(LOCK_AFTER - failures)

    def attempts(self, owner: str, share_id: int) -> builtins.list[tuple[datetime, str]]:
        """The recorded attempts on the owner's link, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(ShareAttemptRow.at, ShareAttemptRow.outcome)
                                .join(ShareRow, ShareRow.id == ShareAttemptRow.share_id)
                                .where(ShareRow.id == share_id, ShareRow.owner == owner)
                                .order_by(ShareAttemptRow.id))
            return [(r.at, r.outcome) for r in rows]

    def _verify(self, stored: str, passcode: str) -> bool:
        try:
            return self.hasher.verify(stored, passcode)
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def _attempt(conn: Any, share_id: int, now: datetime, outcome: str) -> None:
        conn.execute(insert(ShareAttemptRow).values(share_id=share_id, at=now,
                                                    succeeded=outcome == "opened",
                                                    outcome=outcome))

    @staticmethod
    def _purge(conn: Any, now: datetime) -> None:
        """Expired links keep their row (the owner sees it expired) but not the snapshot."""
        conn.execute(update(ShareRow).where(ShareRow.expires_at <= now,
                                            ShareRow.payload.is_not(None)).values(payload=None))
        stale = now - timedelta(days=30)
        old = select(ShareRow.id).where(ShareRow.expires_at <= stale)
        conn.execute(delete(ShareAttemptRow).where(ShareAttemptRow.share_id.in_(old)))
        conn.execute(delete(ShareRow).where(ShareRow.expires_at <= stale))

