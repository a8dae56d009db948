"""A visitor's shortlist of trials, at most ``MAX_SHORTLIST`` of them."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from trialscout.utc import UtcDateTime
from trialscout.workspace.notes import NCT_ID
from trialscout.workspace.ownership import utcnow
from trialscout.workspace.tables import ShortlistRow

MAX_SHORTLIST = 50
COMPARE_MIN, COMPARE_MAX = 2, 4


class ShortlistError(ValueError):
    """A trial that cannot be added (full shortlist, not an NCT number)."""


class SavedTrial(BaseModel):
    nct_id: str
    added_at: UtcDateTime


class Shortlist:
    def __init__(self, engine: Engine, limit: int = MAX_SHORTLIST) -> None:
        self.engine = engine
        self.limit = limit

    def add(self, owner: str, nct_id: str) -> bool:
        """Save the trial; False if it was saved already."""
        if not NCT_ID.match(nct_id):
            raise ShortlistError(f"{nct_id!r} is not an NCT number")
        with self.engine.begin() as conn:
            present = conn.execute(select(ShortlistRow.nct_id).where(
                ShortlistRow.owner == owner, ShortlistRow.nct_id == nct_id)).first()
            if present is not None:
                return False
            count = conn.execute(select(func.count()).select_from(ShortlistRow)
                                 .where(ShortlistRow.owner == owner)).scalar_one()
            if count >= self.limit:
                raise ShortlistError(f"Your shortlist holds {count} trials, the most it can; "
                                     "remove some first.")
            try:
                with conn.begin_nested():
                    conn.execute(insert(ShortlistRow).values(owner=owner, nct_id=nct_id,
                                                             added_at=utcnow()))
            except IntegrityError:
                return False
        return True

    def remove(self, owner: str, nct_id: str) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(delete(ShortlistRow).where(
                ShortlistRow.owner == owner, ShortlistRow.nct_id == nct_id)).rowcount)

    def list(self, owner: str) -> list[SavedTrial]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ShortlistRow.nct_id, ShortlistRow.added_at)
                                .where(ShortlistRow.owner == owner)
                                .order_by(ShortlistRow.added_at, ShortlistRow.nct_id))
            return [SavedTrial(nct_id=r.nct_id, added_at=r.added_at) for r in rows]

    def contains(self, owner: str, nct_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(ShortlistRow.nct_id).where(
                ShortlistRow.owner == owner, ShortlistRow.nct_id == nct_id)).first() is not None
