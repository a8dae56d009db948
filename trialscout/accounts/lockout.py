"""Lockout after failed sign-ins, per account (email address) and per client address.

Counters live in the database (``login_failures``), so every worker process and every restart
sees them. Keys are SHA-256 hashes of ``email:<address>`` and ``client:<address>``: the same
whether or not an account exists, so a lockout never tells whether an address has an account.
After ``after`` consecutive failures each further failure locks the key for twice as long as
the one before (1 s, 2 s, 4 s, ... up to ``max_seconds``). A client address gets four times
the allowance, since many people can share one. A failure older than ``max_seconds`` starts
the count again; a success clears the account's counter (never the client address's, or one
account of an attacker's own would reset it).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from trialscout.accounts.tables import LoginFailureRow

CLIENT_FACTOR = 4


@dataclass(frozen=True)
class LockoutPolicy:
    after: int = 5
    max_seconds: int = 900


def email_key(email: str) -> str:
    return hashlib.sha256(b"email:" + email.encode("utf-8")).hexdigest()


def client_key(address: str) -> str:
    return hashlib.sha256(b"client:" + address.encode("utf-8", "replace")).hexdigest()


def locked_for(conn: Connection, keys: list[str], now: datetime) -> int:
    """Seconds until every one of ``keys`` may try again (0: not locked)."""
    rows = conn.execute(select(LoginFailureRow.locked_until).where(
        LoginFailureRow.key_hash.in_(keys))).scalars()
    waits = [(until - now).total_seconds() for until in rows if until is not None]
    longest = max(waits, default=0.0)
    return math.ceil(longest) if longest > 0 else 0


def _delay(failures: int, allowance: int, policy: LockoutPolicy) -> timedelta | None:
    if failures < allowance:
        return None
    return timedelta(seconds=min(2 ** min(failures - allowance, 30), policy.max_seconds))


def record_failure(conn: Connection, key: str, kind: str, now: datetime,
                   policy: LockoutPolicy) -> None:
    allowance = policy.after * (CLIENT_FACTOR if kind == "client" else 1)
    purge_stale(conn, now, policy)
    row = conn.execute(select(LoginFailureRow.failures, LoginFailureRow.last_failed_at).where(
        LoginFailureRow.key_hash == key)).first()
    if row is None:
        try:
            with conn.begin_nested():
                delay = _delay(1, allowance, policy)
                conn.execute(insert(LoginFailureRow).values(
                    key_hash=key, kind=kind, failures=1, last_failed_at=now,
                    locked_until=now + delay if delay else None))
            return
        except IntegrityError:
            row = conn.execute(select(LoginFailureRow.failures, LoginFailureRow.last_failed_at)
                               .where(LoginFailureRow.key_hash == key)).one()
    stale = row.last_failed_at < now - timedelta(seconds=policy.max_seconds)
    failures = 1 if stale else int(row.failures) + 1
    delay = _delay(failures, allowance, policy)
    conn.execute(update(LoginFailureRow).where(LoginFailureRow.key_hash == key).values(
        failures=failures, last_failed_at=now, locked_until=now + delay if delay else None))


def clear(conn: Connection, key: str) -> None:
    conn.execute(delete(LoginFailureRow).where(LoginFailureRow.key_hash == key))


def purge_stale(conn: Connection, now: datetime, policy: LockoutPolicy) -> int:
    """Forget counters whose last failure is older than twice the longest lock (run with
    every failure, on the ``last_failed_at`` index, so the table stays small)."""
    cutoff = now - timedelta(seconds=policy.max_seconds) * 2
    result = conn.execute(delete(LoginFailureRow).where(LoginFailureRow.last_failed_at < cutoff))
    return int(result.rowcount or 0)
