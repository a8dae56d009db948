"""Recording the changes that matter to saved searches, inside the import's transaction.

The write hook compares each changed trial with its snapshot (status, a hash of the
eligibility criteria, the keys of its sites) and records:

* ``new``: a trial the store has never had, recruiting or not yet recruiting;
* ``recruiting``: a known trial whose status became recruiting;
* ``new_site``: a known, open trial with sites it did not have (the new sites are kept in
  ``detail`` so the radius test needs only them);
* ``eligibility``: a known, open trial whose criteria text changed.

A trial stored before alerts existed has no snapshot but more than one history row: its
first sight only sets the snapshot. Changes are recorded only while at least one saved
search exists (a first bulk import into an empty install records none), snapshots always.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from sqlalchemy import Connection, delete, exists, func, insert, select

from trialscout.alerts.tables import SavedSearchRow, TrialChangeRow, TrialSnapshotRow
from trialscout.mail.outbox import utcnow
from trialscout.store.tables import TrialHistoryRow, TrialRow

NEW_STATUSES = frozenset({"RECRUITING", "NOT_YET_RECRUITING"})
OPEN_STATUSES = frozenset({"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION"})
CHUNK = 500


def _site_key(site: dict[str, Any]) -> str:
    geo = site.get("geo") or {}
    parts = [site.get("facility"), site.get("city"), site.get("state"), site.get("country")]
    text = "|".join(" ".join(str(p).split()).casefold() if p else "" for p in parts)
    if geo.get("lat") is not None and geo.get("lon") is not None:
        text += f"|{float(geo['lat']):.4f},{float(geo['lon']):.4f}"
    return text


def snapshot_of(document: dict[str, Any]) -> tuple[str | None, str | None, dict[str, Any]]:
    """(status, criteria hash, {site key: site}) of a stored trial document."""
    criteria = ((document.get("eligibility") or {}).get("criteria") or "").strip()
    digest = hashlib.sha256(" ".join(criteria.split()).encode()).hexdigest() if criteria \
        else None
    sites = {_site_key(s): s for s in document.get("sites") or []}
    return document.get("overall_status"), digest, sites


def _site_detail(site: dict[str, Any]) -> dict[str, Any]:
    geo = site.get("geo") or {}
    return {"facility": site.get("facility"), "city": site.get("city"),
            "state": site.get("state"), "country": site.get("country"),
            "lat": geo.get("lat"), "lon": geo.get("lon")}


def record_changes(conn: Connection, nct_ids: list[str]) -> None:
    """The write hook (see the module docstring)."""
    count_changes(conn, nct_ids)


def count_changes(conn: Connection, nct_ids: list[str]) -> int:
    """Compare, record the changes, refresh the snapshots; returns the changes recorded."""
    if not nct_ids:
        return 0
    watching = bool(conn.execute(select(exists().where(SavedSearchRow.id.isnot(None))))
                    .scalar())
    now = utcnow()
    recorded = 0
    for start in range(0, len(nct_ids), CHUNK):
        chunk = list(dict.fromkeys(nct_ids[start:start + CHUNK]))
        docs = dict(conn.execute(select(TrialRow.nct_id, TrialRow.document)
                                 .where(TrialRow.nct_id.in_(chunk))).all())
        old = {r.nct_id: r for r in conn.execute(
            select(TrialSnapshotRow).where(TrialSnapshotRow.nct_id.in_(chunk)))}
        versions = dict(conn.execute(
            select(TrialHistoryRow.nct_id, func.count()).where(
                TrialHistoryRow.nct_id.in_(chunk)).group_by(TrialHistoryRow.nct_id)).all())
        changes: list[dict[str, Any]] = []
        snapshots: list[dict[str, Any]] = []
        for nct_id in chunk:
            if nct_id not in docs:
                continue
            status, criteria_hash, sites = snapshot_of(orjson.loads(docs[nct_id]))
            snapshots.append({"nct_id": nct_id, "status": status,
                              "criteria_hash": criteria_hash,
                              "site_keys": orjson.dumps(sorted(sites)).decode()})
            if watching:
                changes += _compare(nct_id, old.get(nct_id), versions.get(nct_id, 0), status,
                                    criteria_hash, sites)
        if old:
            conn.execute(delete(TrialSnapshotRow).where(TrialSnapshotRow.nct_id.in_(list(old))))
        if snapshots:
            conn.execute(insert(TrialSnapshotRow), snapshots)
        if changes:
            for change in changes:
                change.update(created_at=now, processed=False)
            conn.execute(insert(TrialChangeRow), changes)
            recorded += len(changes)
    return recorded


def _compare(nct_id: str, old: Any, versions: int, status: str | None,
             criteria_hash: str | None, sites: dict[str, Any]) -> list[dict[str, Any]]:
    if old is None:
        if versions <= 1 and status in NEW_STATUSES:
            return [{"nct_id": nct_id, "kind": "new", "detail": None}]
        return []
    out: list[dict[str, Any]] = []
    if status == "RECRUITING" and old.status != "RECRUITING":
        out.append({"nct_id": nct_id, "kind": "recruiting", "detail": None})
    if status not in OPEN_STATUSES:
        return out
    known = set(orjson.loads(old.site_keys))
    added = [_site_detail(site) for key, site in sites.items() if key not in known]
    if added:
        out.append({"nct_id": nct_id, "kind": "new_site",
                    "detail": orjson.dumps(added).decode()})
    if old.criteria_hash != criteria_hash and old.criteria_hash is not None:
        out.append({"nct_id": nct_id, "kind": "eligibility", "detail": None})
    return out
