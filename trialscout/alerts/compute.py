"""Turning recorded changes into alerts: once per (saved search, change).

One pass takes the unprocessed changes (at most ``max_changes``), builds the changed
trials' masks (``matcher.ChangedTrials``), streams the saved searches in id order in
chunks, and inserts an alert for every (search, change) that matches; the unique pair makes
a rerun after a crash insert nothing twice. The changes are marked processed at the end.
Memory holds the changed trials and one chunk of saved searches, whatever their number.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, func, select, update

from trialscout.alerts.matcher import (
    ChangedTrials,
    CompiledSearch,
    Origin,
    compile_search,
    site_inside,
    site_ok,
    trial_mask,
)
from trialscout.alerts.tables import AlertRow, SavedSearchRow, TrialChangeRow
from trialscout.mail.outbox import utcnow
from trialscout.search.documents import SiteDoc, canonical_country, search_doc
from trialscout.search.errors import SearchQueryError
from trialscout.search.models import SearchRequest
from trialscout.store.tables import TrialRow

SEARCH_CHUNK = 2_000
COMPILED_CACHE = 4_096


@dataclass
class ComputeReport:
    changes: int = 0
    searches: int = 0
    alerts: int = 0
    skipped_searches: int = 0


@dataclass(frozen=True)
class _Change:
    id: int
    nct_id: str
    kind: str
    sites: tuple[SiteDoc, ...]
    created_at: datetime


def _new_sites(detail: str | None) -> tuple[SiteDoc, ...]:
    if not detail:
        return ()
    out = []
    for i, s in enumerate(orjson.loads(detail)):
        country = canonical_country(s.get("country"))
        out.append(SiteDoc(position=i, status=None, country=country, state=s.get("state"),
                           city=s.get("city"), lat=s.get("lat"), lon=s.get("lon")))
    return tuple(out)


@functools.lru_cache(maxsize=COMPILED_CACHE)
def _compiled(request_json: str, lat: float | None, lon: float | None,
              radius: float | None) -> CompiledSearch:
    origin = Origin(lat, lon, radius) if lat is not None and lon is not None else None
    return compile_search(SearchRequest.model_validate_json(request_json), origin)


_INSERT_SQL = {
    "sqlite": "INSERT OR IGNORE INTO alerts (saved_search_id, change_id, nct_id, kind, "
              "created_at, message_id, emailed) VALUES (?, ?, ?, ?, ?, NULL, 0)",
}


_PG_STAGE = ("CREATE TEMPORARY TABLE IF NOT EXISTS alerts_incoming (saved_search_id integer, "
             "change_id integer, nct_id varchar(11), kind varchar(12), created_at timestamp) "
             "ON COMMIT DELETE ROWS")
_PG_MOVE = ("INSERT INTO alerts (saved_search_id, change_id, nct_id, kind, created_at, "
            "message_id, emailed) SELECT saved_search_id, change_id, nct_id, kind, created_at, "
            "NULL, false FROM alerts_incoming ON CONFLICT (saved_search_id, change_id) "
            "DO NOTHING")


def _insert_alerts(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Many alert rows at once: SQLite through the driver's executemany, PostgreSQL by COPY
    into a temporary table (emptied at commit: one call per transaction) and one
    INSERT ... SELECT (row by row it spent most of the pass in round trips); a pair
    already there is skipped."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(_INSERT_SQL[conn.dialect.name], rows)
        return
    raw: Any = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        cur.execute(_PG_STAGE)
        with cur.copy("COPY alerts_incoming FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(_PG_MOVE)


def _stamp(conn: Connection, when: datetime) -> Any:
    """The driver's value for a DateTime column: SQLite stores SQLAlchemy's text form."""
    return when.strftime("%Y-%m-%d %H:%M:%S.%f") if conn.dialect.name == "sqlite" else when


def compute_alerts(engine: Engine, *, max_changes: int = 5_000) -> ComputeReport:
    """One pass over the unprocessed changes (see the module docstring)."""
    report = ComputeReport()
    with engine.connect() as conn:
        rows = conn.execute(select(TrialChangeRow.id, TrialChangeRow.nct_id,
                                   TrialChangeRow.kind, TrialChangeRow.detail,
                                   TrialChangeRow.created_at)
                            .where(TrialChangeRow.processed.is_(False))
                            .order_by(TrialChangeRow.id).limit(max_changes)).all()
        if not rows:
            return report
        changes = [_Change(r.id, r.nct_id, r.kind, _new_sites(r.detail), r.created_at)
                   for r in rows]
        ids = sorted({c.nct_id for c in changes})
        docs = []
        for start in range(0, len(ids), 900):
            docs += [search_doc(d) for d in conn.execute(
                select(TrialRow.document).where(TrialRow.nct_id.in_(ids[start:start + 900]))
            ).scalars()]
    trials = ChangedTrials(docs)
    by_trial: dict[int, list[_Change]] = {}
    for change in changes:
        position = trials.index.get(change.nct_id)
        if position is not None:
            by_trial.setdefault(position, []).append(change)
    report.changes = len(changes)
    with engine.connect() as conn:
        now = _stamp(conn, utcnow())
    last_id = 0
    while True:
        with engine.connect() as conn:
            chunk = conn.execute(
                select(SavedSearchRow.id, SavedSearchRow.request, SavedSearchRow.origin_lat,
                       SavedSearchRow.origin_lon, SavedSearchRow.radius_km,
                       SavedSearchRow.created_at)
                .where(SavedSearchRow.id > last_id).order_by(SavedSearchRow.id)
                .limit(SEARCH_CHUNK)).all()
        if not chunk:
            break
        last_id = chunk[-1].id
        pending: list[tuple[Any, ...]] = []
        for row in chunk:
            report.searches += 1
            try:
                search = _compiled(row.request, row.origin_lat, row.origin_lon, row.radius_km)
            except (SearchQueryError, ValueError):
                report.skipped_searches += 1
                continue
            for position in trials.bits(trial_mask(trials, search)):
                for change in by_trial.get(position, ()):
                    if change.created_at >= row.created_at and _change_applies(search, change):
                        pending.append((row.id, change.id, change.nct_id, change.kind, now))
        with engine.begin() as conn:
            _insert_alerts(conn, pending)
    with engine.begin() as conn:
        done = [c.id for c in changes]
        for start in range(0, len(done), 900):
            chunk_ids = done[start:start + 900]
            report.alerts += int(conn.execute(select(func.count()).select_from(AlertRow)
                                              .where(AlertRow.change_id.in_(chunk_ids))
                                              ).scalar_one())
            conn.execute(update(TrialChangeRow).where(
                TrialChangeRow.id.in_(chunk_ids)).values(processed=True))
    return report


def _change_applies(search: CompiledSearch, change: _Change) -> bool:
    """A new site matters only to a search with a place and radius, and only when one of
    the new sites itself is inside the radius."""
    if change.kind != "new_site":
        return True
    origin = search.origin
    if origin is None or origin.radius_km is None:
        return False
    return any(site_ok(search, s) and site_inside(origin, s.lat, s.lon) for s in change.sites)


def prune(conn: Connection, *, now: datetime | None = None, alert_days: int = 180,
          change_days: int = 30) -> int:
    """Forget old alerts (the feed shows the latest 100) and the processed changes no alert
    refers to any more, so neither table grows without end."""
    from datetime import timedelta

    from sqlalchemy import delete, exists

    now = now or utcnow()
    removed = conn.execute(delete(AlertRow).where(
        AlertRow.created_at < now - timedelta(days=alert_days))).rowcount or 0
    removed += conn.execute(delete(TrialChangeRow).where(
        TrialChangeRow.processed.is_(True),
        TrialChangeRow.created_at < now - timedelta(days=change_days),
        ~exists().where(AlertRow.change_id == TrialChangeRow.id))).rowcount or 0
    return int(removed)
