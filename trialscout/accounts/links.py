"""One-time links sent by email: verify an address, reset a password, sign in.

The token (256 random bits) goes into the link only; the table keeps its SHA-256, so a copy
of the database cannot be used to follow a link. A token is consumed in the same statement
that checks it (``UPDATE ... WHERE used_at IS NULL AND expires_at > now``), so two clicks
racing each other cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from trialscout.accounts.tables import TOKEN_PURPOSES, AuthTokenRow

TOKEN_MAX = 100
RESEND_AFTER = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def issue_link_token(conn: Connection, account_id: int, purpose: str, now: datetime,
                     lifetime: timedelta) -> str:
    """A new token for ``purpose``; earlier tokens of that purpose stop working. Tokens
    that expired more than a week ago are deleted on the way, so the table stays small."""
    if purpose not in TOKEN_PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    conn.execute(delete(AuthTokenRow).where(
        (AuthTokenRow.account_id == account_id) & (AuthTokenRow.purpose == purpose)
        | (AuthTokenRow.expires_at < now - timedelta(days=7))))
    token = secrets.token_urlsafe(32)
    conn.execute(insert(AuthTokenRow).values(
        token_hash=token_hash(token), account_id=account_id, purpose=purpose,
        created_at=now, expires_at=now + lifetime, used_at=None))
    return token


def recently_issued(conn: Connection, account_id: int, purpose: str, now: datetime,
                    within: timedelta = RESEND_AFTER) -> bool:
    """Whether a link for ``purpose`` went out less than ``within`` ago: asking again sends
    nothing, so nobody can flood an address with links."""
    return conn.execute(select(AuthTokenRow.token_hash).where(
        AuthTokenRow.account_id == account_id, AuthTokenRow.purpose == purpose,
        AuthTokenRow.created_at > now - within)).first() is not None


def consume_link_token(conn: Connection, token: str, purpose: str, now: datetime
                       ) -> int | None:
    """The account id of a valid, unused, unexpired token (which is used up now), else None."""
    if not token or len(token) > TOKEN_MAX:
        return None
    digest = token_hash(token)
    result = conn.execute(update(AuthTokenRow).where(
        AuthTokenRow.token_hash == digest, AuthTokenRow.purpose == purpose,
        AuthTokenRow.used_at.is_(None), AuthTokenRow.expires_at > now).values(used_at=now))
    if not result.rowcount:
        return None
    return conn.execute(select(AuthTokenRow.account_id).where(
        AuthTokenRow.token_hash == digest)).scalar_one()
