"""Which account a web session is signed in to (read-only; the web asks on every request)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from trialscout.accounts.owners import owner_for
from trialscout.accounts.tables import AccountRow
from trialscout.sessions.tables import WebSessionRow


@dataclass(frozen=True)
class AccountInfo:
    """The signed-in account as routes see it. ``owner`` is its owner key."""

    id: int
    email: str
    role: str
    verified: bool

    @property
    def owner(self) -> str:
        return owner_for(None, self.id)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def session_account(conn: Connection, session_hash: str, max_age: timedelta
                    ) -> AccountInfo | None:
    """The enabled account this live session is signed in to, if any."""
    row = conn.execute(
        select(AccountRow.id, AccountRow.email, AccountRow.role, AccountRow.verified_at,
               WebSessionRow.last_seen)
        .join(AccountRow, AccountRow.id == WebSessionRow.account_id)
        .where(WebSessionRow.id_hash == session_hash, AccountRow.disabled.is_(False))
    ).first()
    if row is None or row.last_seen < _now() - max_age:
        return None
    return AccountInfo(int(row.id), row.email, row.role, row.verified_at is not None)
