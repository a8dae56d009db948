"""The secure link in an inquiry email, unlocked only by proving control of the address.

Opening the link is not enough (emails are forwarded): the page asks for a one-time
6-digit code, which is emailed to the address the inquiry was sent to, valid 15 minutes.
A correct code unlocks the inquiry for that browser session only. Wrong codes count
against the link (5 per 15 minutes, then locked), and so do codes sent (at most 5 per
15 minutes), so the link cannot be used to flood the address. Link tokens and codes are stored as
SHA-256 hashes (the code's hash is keyed by the link, so a table of 10^6 codes does not
reverse it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from trialscout.contact import attempts
from trialscout.contact.audit import now
from trialscout.contact.tables import RecipientAccessRow

CODE_LIFETIME = timedelta(minutes=15)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def create(conn: Connection, inquiry_id: int, email: str, at: datetime | None = None) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(insert(RecipientAccessRow).values(
        inquiry_id=inquiry_id, token_hash=_hash(token), email=email, code_hash=None,
        code_expires_at=None, verified_session=None, created_at=at or now()))
    return token


def find(conn: Connection, token: str) -> Any:
    return conn.execute(select(RecipientAccessRow.__table__).where(
        RecipientAccessRow.token_hash == _hash(token[:200]))).first()


def new_code(conn: Connection, access: Any, at: datetime | None = None) -> str:
    """A fresh code for the link's address (replacing any earlier one)."""
    at = at or now()
    attempts.check(conn, f"recipient:{access.id}", at)
    attempts.check(conn, f"code-sent:{access.id}", at)
    attempts.fail(conn, f"code-sent:{access.id}", at)
    code = f"{secrets.randbelow(10**6):06d}"
    conn.execute(update(RecipientAccessRow).where(RecipientAccessRow.id == access.id).values(
        code_hash=_hash(f"{access.token_hash}:{code}"), code_expires_at=at + CODE_LIFETIME))
    return code


def verify(conn: Connection, access: Any, code: str, session_hash: str,
           at: datetime | None = None) -> bool:
    """Unlock the link for ``session_hash`` when ``code`` is right and fresh. Raises
    attempts.Locked after too many wrong codes."""
    at = at or now()
    who = f"recipient:{access.id}"
    attempts.check(conn, who, at)
    expected = access.code_hash or ""
    given = _hash(f"{access.token_hash}:{code.strip()[:12]}")
    fresh = access.code_expires_at is not None and access.code_expires_at > at
    if not (fresh and hmac.compare_digest(expected, given)):
        attempts.fail(conn, who, at)
        return False
    conn.execute(update(RecipientAccessRow).where(RecipientAccessRow.id == access.id).values(
        code_hash=None, code_expires_at=None, verified_session=session_hash))
    return True


def unlocked(access: Any, session_hash: str | None) -> bool:
    return bool(session_hash) and access.verified_session == session_hash
