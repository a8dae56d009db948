"""Reading and writing trials. Writes come in batches, each one transaction.

A batch is idempotent: a record whose content hash is already stored changes nothing; a
record with a newer (or equal) last-update date replaces the stored one and leaves a
history row; an older record is kept out so a stale file cannot roll a trial back.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, insert, select, update

from trialscout.registry.model import Trial
from trialscout.registry.partial_dates import sort_key
from trialscout.store.tables import TrialFacetRow, TrialHistoryRow, TrialRow, TrialSiteRow

FACET_FIELDS = ("phase", "condition", "intervention", "country", "sponsor", "keyword",
                "mesh", "site_status", "study_type", "status")
_SPACES = re.compile(r"\s+")


def normalize_value(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


@dataclass
class ParsedRecord:
    """A source record that parsed: the trial plus what is needed to store it."""

    trial: Trial
    raw: bytes
    content_hash: str
    source_format: str
    source: str

    @property
    def nct_id(self) -> str:
        return self.trial.nct_id


@dataclass
class BatchOutcome:
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return self.inserted + self.updated


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def trial_columns(record: ParsedRecord) -> dict[str, Any]:
    t = record.trial
    return {
        "nct_id": t.nct_id,
        "brief_title": t.brief_title,
        "official_title": t.official_title,
        "acronym": t.acronym,
        "overall_status": t.overall_status,
        "study_type": t.study_type,
        "phases": " ".join(t.phases) or None,
        "sex": t.eligibility.sex,
        "minimum_age_days": t.eligibility.minimum_age_days,
        "maximum_age_days": t.eligibility.maximum_age_days,
        "healthy_volunteers": t.eligibility.healthy_volunteers,
        "enrollment_count": t.enrollment_count,
        "lead_sponsor": t.lead_sponsor,
        "has_results": t.has_results,
        "has_criteria": bool(t.eligibility.criteria),
        "start_date": t.dates.start,
        "start_sort": sort_key(t.dates.start),
        "last_update": t.dates.last_update,
        "last_update_sort": sort_key(t.dates.last_update),
        "first_posted": t.dates.first_posted,
        "content_hash": record.content_hash,
        "source_format": record.source_format,
        "document": t.model_dump_json(exclude_none=True),
        "raw": zlib.compress(record.raw, 6),
    }


def facet_values(trial: Trial) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    pairs += [("phase", p) for p in trial.phases]
    pairs += [("condition", c) for c in trial.conditions]
    pairs += [("intervention", i.name) for i in trial.interventions]
    pairs += [("keyword", k) for k in trial.keywords]
    pairs += [("mesh", m) for m in trial.condition_mesh_terms + trial.intervention_mesh_terms]
    pairs += [("sponsor", o.name) for o in trial.organizations]
    pairs += [("country", s.country) for s in trial.sites if s.country]
    pairs += [("site_status", s.status) for s in trial.sites if s.status]
    if trial.study_type:
        pairs.append(("study_type", trial.study_type))
    if trial.overall_status:
        pairs.append(("status", trial.overall_status))
    seen: set[tuple[str, str]] = set()
    out = []
    for name, value in pairs:
        key = (name, normalize_value(value))
        if key[1] and key not in seen:
            seen.add(key)
            out.append((name, value.strip()))
    return out


def _children(records: Sequence[ParsedRecord]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    facets, sites = [], []
    for record in records:
        t = record.trial
        for name, value in facet_values(t):
            facets.append({"nct_id": t.nct_id, "field": name, "value": value,
                           "value_norm": normalize_value(value)})
        for position, s in enumerate(t.sites):
            sites.append({"nct_id": t.nct_id, "position": position, "facility": s.facility,
                          "status": s.status, "city": s.city, "state": s.state, "zip": s.zip,
                          "country": s.country, "lat": s.geo.lat if s.geo else None,
                          "lon": s.geo.lon if s.geo else None})
    return facets, sites


def _is_newer_or_same(incoming: str | None, stored: str | None) -> bool:
    a, b = sort_key(incoming), sort_key(stored)
    if a is None or b is None:
        return True
    return a >= b


def write_batch(conn: Connection, records: Sequence[ParsedRecord]) -> BatchOutcome:
    """Write one batch inside the caller's transaction and say what happened to each record."""
    outcome = BatchOutcome()
    latest: dict[str, ParsedRecord] = {}
    for record in records:
        previous = latest.get(record.nct_id)
        if previous is None or _is_newer_or_same(record.trial.dates.last_update,
                                                 previous.trial.dates.last_update):
            if previous is not None:
                outcome.unchanged.append(previous.nct_id)
            latest[record.nct_id] = record
        else:
            outcome.stale.append(record.nct_id)
    if not latest:
        return outcome
    stored = {
        row.nct_id: row
        for row in conn.execute(
            select(TrialRow.nct_id, TrialRow.content_hash, TrialRow.last_update)
            .where(TrialRow.nct_id.in_(list(latest)))
        )
    }
    to_insert, to_update = [], []
    for nct_id, record in latest.items():
        row = stored.get(nct_id)
        if row is None:
            to_insert.append(record)
        elif row.content_hash == record.content_hash:
            outcome.unchanged.append(nct_id)
        elif _is_newer_or_same(record.trial.dates.last_update, row.last_update):
            to_update.append(record)
        else:
            outcome.stale.append(nct_id)
    now = _now()
    if to_update:
        ids = [r.nct_id for r in to_update]
        conn.execute(delete(TrialFacetRow).where(TrialFacetRow.nct_id.in_(ids)))
        conn.execute(delete(TrialSiteRow).where(TrialSiteRow.nct_id.in_(ids)))
        for record in to_update:
            values = trial_columns(record)
            values["updated_at"] = now
            conn.execute(update(TrialRow).where(TrialRow.nct_id == record.nct_id).values(values))
        outcome.updated.extend(ids)
    if to_insert:
        conn.execute(insert(TrialRow), [
            {**trial_columns(r), "imported_at": now, "updated_at": now} for r in to_insert])
        outcome.inserted.extend(r.nct_id for r in to_insert)
    changed = to_insert + to_update
    if changed:
        facets, sites = _children(changed)
        if facets:
            conn.execute(insert(TrialFacetRow), facets)
        if sites:
            conn.execute(insert(TrialSiteRow), sites)
        conn.execute(insert(TrialHistoryRow), [
            {"nct_id": r.nct_id, "content_hash": r.content_hash,
             "last_update": r.trial.dates.last_update,
             "change": "created" if r in to_insert else "updated",
             "source": r.source[:1000], "recorded_at": now}
            for r in changed])
    return outcome


def load_trial(conn: Connection, nct_id: str) -> Trial | None:
    document = conn.execute(select(TrialRow.document).where(TrialRow.nct_id == nct_id)).scalar()
    return Trial.model_validate_json(document) if document else None


def load_trials(conn: Connection, nct_ids: Iterable[str]) -> dict[str, Trial]:
    ids = list(nct_ids)
    out: dict[str, Trial] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for nct_id, document in conn.execute(
                select(TrialRow.nct_id, TrialRow.document).where(TrialRow.nct_id.in_(chunk))):
            out[nct_id] = Trial.model_validate_json(document)
    return out


def load_raw(conn: Connection, nct_id: str) -> Any:
    """The stored source record: a dict for JSON sources, XML text for legacy XML."""
    row = conn.execute(select(TrialRow.raw, TrialRow.source_format)
                       .where(TrialRow.nct_id == nct_id)).first()
    if row is None:
        return None
    data = zlib.decompress(row.raw)
    return data.decode("utf-8") if row.source_format == "legacy_xml" else orjson.loads(data)


def count_trials(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(TrialRow)).scalar_one())


def history(conn: Connection, nct_id: str) -> list[dict[str, Any]]:
    table = TrialHistoryRow.__table__
    rows = conn.execute(select(table).where(table.c.nct_id == nct_id).order_by(table.c.id))
    return [{"content_hash": r.content_hash, "last_update": r.last_update, "change": r.change,
             "source": r.source, "recorded_at": r.recorded_at.isoformat()}
            for r in rows]
