"""The ``sync_runs`` rows: where each sync is, so an interrupted one can pick up again.

A page's trials and the run's progress are written in the same transaction (see
:mod:`trialscout.registry.sync`), so the saved page token always points at the first page
that is *not* in the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from trialscout.registry.sync_errors import SyncError
from trialscout.store.tables import SyncRunRow

RUNNING = "running"
FAILED = "failed"
DONE = "done"
ABANDONED = "abandoned"
UNFINISHED = (RUNNING, FAILED)

_runs = SyncRunRow


@dataclass(frozen=True)
class RunState:
    id: int
    query_key: str
    since: str | None
    page_token: str | None
    pages_done: int
    studies_seen: int
    status: str
    started_at: datetime


def _state(row: object) -> RunState:
    return RunState(**{name: getattr(row, name) for name in RunState.__dataclass_fields__})


_COLUMNS = (_runs.id, _runs.query_key, _runs.since, _runs.page_token, _runs.pages_done,
            _runs.studies_seen, _runs.status, _runs.started_at)


def latest_run(conn: Connection, query_key: str) -> RunState | None:
    row = conn.execute(select(*_COLUMNS).where(_runs.query_key == query_key)
                       .order_by(_runs.id.desc()).limit(1)).first()
    return _state(row) if row else None


def latest_done(conn: Connection, query_key: str) -> RunState | None:
    row = conn.execute(select(*_COLUMNS).where(_runs.query_key == query_key, _runs.status == DONE)
                       .order_by(_runs.id.desc()).limit(1)).first()
    return _state(row) if row else None


def start_run(conn: Connection, query_key: str, params_json: str, since: str | None,
              now: datetime) -> RunState:
    run_id = conn.execute(insert(_runs).values(
        query_key=query_key, params=params_json, since=since, page_token=None, pages_done=0,
        studies_seen=0, status=RUNNING, last_error=None, started_at=now, finished_at=None,
    )).inserted_primary_key[0]  # type: ignore[index]
    return RunState(int(run_id), query_key, since, None, 0, 0, RUNNING, now)


def set_status(conn: Connection, run_id: int, status: str, error: str | None = None) -> None:
    conn.execute(update(_runs).where(_runs.id == run_id)
                 .values(status=status, last_error=error[:4000] if error else None))


def record_page(conn: Connection, run_id: int, *, pages_before: int, next_token: str | None,
                studies: int, now: datetime) -> None:
    """Advance the run by one page; a run that moved meanwhile means two syncs collide."""
    values: dict[str, object] = {
        "page_token": next_token, "pages_done": pages_before + 1,
        "studies_seen": _runs.studies_seen + studies}
    if next_token is None:
        values.update(status=DONE, finished_at=now, last_error=None)
    result = conn.execute(update(_runs).where(_runs.id == run_id,
                                              _runs.pages_done == pages_before).values(values))
    if result.rowcount != 1:
        raise SyncError(f"sync run {run_id} was advanced by another process; "
                        "run one sync per query at a time")
