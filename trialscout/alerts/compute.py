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
from sqlalchemy import Connection, Engine, select, update

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
from trialscout.alerts.writer import AlertWriter
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


class _Plan:
    """Which changes a saved search gets, from the changed trials it would list.

    Saved searches that list the same changed trials get the same changes (but for a new
    site, which must be inside the search's own radius, and changes older than the search),
    so the change ids of a trial mask are worked out once per mask; the caches are emptied
    when full, which keeps memory independent of the number of saved searches."""

    def __init__(self, trials: ChangedTrials, changes: list[_Change]) -> None:
        self.trials = trials
        self.by_trial: dict[int, list[_Change]] = {}
        for change in changes:
            position = trials.index.get(change.nct_id)
            if position is not None:
                self.by_trial.setdefault(position, []).append(change)
        self.created = {c.id: c.created_at for c in changes}
        self.oldest = min((c.created_at for c in changes), default=None)
        self._masks: dict[tuple[Any, ...], int] = {}
        self._by_mask: dict[int, tuple[tuple[int, ...], tuple[_Change, ...]]] = {}

    def mask(self, key: tuple[Any, ...], search: CompiledSearch) -> int:
        found = self._masks.get(key)
        if found is None:
            found = trial_mask(self.trials, search)
            if len(self._masks) >= COMPILED_CACHE:
                self._masks.clear()
            self._masks[key] = found
        return found

    def _split(self, mask: int) -> tuple[tuple[int, ...], tuple[_Change, ...]]:
        found = self._by_mask.get(mask)
        if found is None:
            plain: list[int] = []
            sites: list[_Change] = []
            for position in self.trials.bits(mask):
                for change in self.by_trial.get(position, ()):
                    if change.kind == "new_site":
                        sites.append(change)
                    else:
                        plain.append(change.id)
            found = (tuple(sorted(plain)), tuple(sites))
            if len(self._by_mask) >= COMPILED_CACHE:
                self._by_mask.clear()
            self._by_mask[mask] = found
        return found

    def change_ids(self, key: tuple[Any, ...], search: CompiledSearch,
                   created_at: datetime) -> tuple[int, ...]:
        """The sorted ids of the changes this saved search gets."""
        mask = self.mask(key, search)
        if not mask:
            return ()
        ids, sites = self._split(mask)
        if sites and search.origin is not None and search.origin.radius_km is not None:
            near = [c.id for c in sites if _change_applies(search, c)]
            if near:
                ids = tuple(sorted(ids + tuple(near)))
        if self.oldest is not None and created_at > self.oldest:
            ids = tuple(i for i in ids if self.created[i] >= created_at)
        return ids


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
    plan = _Plan(ChangedTrials(docs), changes)
    report.changes = len(changes)
    writer = AlertWriter(engine.dialect.name, utcnow(),
                         {c.id: (c.nct_id, c.kind) for c in changes})
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
        wanted: list[tuple[int, tuple[int, ...]]] = []
        for row in chunk:
            report.searches += 1
            key = (row.request, row.origin_lat, row.origin_lon, row.radius_km)
            try:
                search = _compiled(*key)
            except (SearchQueryError, ValueError):
                report.skipped_searches += 1
                continue
            change_ids = plan.change_ids(key, search, row.created_at)
            if change_ids:
                wanted.append((row.id, change_ids))
        if wanted:
            with engine.begin() as conn:
                report.alerts += writer.write(conn, wanted)
    with engine.begin() as conn:
        done = [c.id for c in changes]
        for start in range(0, len(done), 900):
            conn.execute(update(TrialChangeRow).where(
                TrialChangeRow.id.in_(done[start:start + 900])).values(processed=True))
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
