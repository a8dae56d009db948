"""Owner keys for the workspace's rows, and the clock its rows are stamped with.

Moving rows into an account on sign-in and deleting them with their owner is done by
``trialscout.accounts.owners`` for every table registered there (see ``tables.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from trialscout.accounts.owners import owner_for
from trialscout.sessions.tokens import hash_session_token


def utcnow() -> datetime:
    """Naive UTC now (the store's convention); tests replace it to freeze the clock."""
    return datetime.now(UTC).replace(tzinfo=None)


def session_owner(token: str) -> str:
    """The owner key of an anonymous visitor's rows."""
    return owner_for(hash_session_token(token), None)
