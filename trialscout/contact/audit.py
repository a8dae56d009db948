"""The audit log: every read of an inquiry by someone other than its patient.

Rows are written in the reader's own transaction, so a read that returns data is never
missing from the log. Only admins list it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select

from trialscout.contact.models import AuditEntry
from trialscout.contact.tables import AuditRow

MAX_DETAIL = 500


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record(conn: Connection, actor: str, action: str, *, inquiry_id: str | None = None,
           nct_id: str | None = None, detail: str | None = None) -> None:
    conn.execute(insert(AuditRow).values(actor=actor[:80], action=action[:40],
                                         inquiry_id=inquiry_id, nct_id=nct_id,
                                         detail=(detail or None) and detail[:MAX_DETAIL],
                                         at=now()))


def record_many(conn: Connection, actor: str, action: str,
                reads: list[tuple[str, str]]) -> None:
    """One row per (inquiry id, NCT id) read, in one statement."""
    if reads:
        at = now()
        conn.execute(insert(AuditRow), [
            {"actor": actor[:80], "action": action[:40], "inquiry_id": inquiry_id,
             "nct_id": nct_id, "detail": None, "at": at} for inquiry_id, nct_id in reads])


def entries(conn: Connection, *, limit: int = 100, offset: int = 0,
            inquiry_id: str | None = None) -> tuple[list[AuditEntry], int]:
    """Newest first, with the total."""
    query = select(AuditRow.__table__)
    counted = select(func.count()).select_from(AuditRow)
    if inquiry_id is not None:
        query = query.where(AuditRow.inquiry_id == inquiry_id)
        counted = counted.where(AuditRow.inquiry_id == inquiry_id)
    rows = conn.execute(query.order_by(AuditRow.at.desc(), AuditRow.id.desc())
                        .limit(limit).offset(offset))
    total = int(conn.execute(counted).scalar_one())
    return [AuditEntry(actor=r.actor, action=r.action, inquiry_id=r.inquiry_id,
                       nct_id=r.nct_id, detail=r.detail, at=r.at) for r in rows], total
