"""Failed secret checks and the lockout they earn, kept in the database so every worker
sees the same count."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select

from trialscout.contact.tables import AttemptRow

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


class Locked(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after} s")
        self.retry_after = retry_after


def check(conn: Connection, who: str, at: datetime) -> None:
    """Raise Locked once ``who`` failed MAX_FAILURES times within WINDOW."""
    count, first = conn.execute(select(func.count(), func.min(AttemptRow.at)).where(
        AttemptRow.who == who, AttemptRow.at > at - WINDOW)).one()
    if count >= MAX_FAILURES:
        raise Locked(max(1, int((first + WINDOW - at).total_seconds()) + 1))


def fail(conn: Connection, who: str, at: datetime) -> None:
    conn.execute(insert(AttemptRow).values(who=who[:120], at=at))
    conn.execute(delete(AttemptRow).where(AttemptRow.at < at - 4 * WINDOW))
