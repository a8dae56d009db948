"""The search index's side of the database: change stamps written by the import hook, and
the reads a refresh needs. Plain SQLAlchemy Core, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from trialscout.search.tables import SearchDocRow, SearchStateRow
from trialscout.store.tables import TrialFacetRow, TrialRow, TrialSiteRow

_CHUNK = 500


def mark_changed(conn: Connection, nct_ids: Sequence[str]) -> None:
    """Write hook: stamp ``nct_ids`` with a new generation, in the caller's transaction."""
    ids = sorted(set(nct_ids))
    bumped = conn.execute(update(SearchStateRow).where(SearchStateRow.id == 1)
                          .values(generation=SearchStateRow.generation + 1))
    if bumped.rowcount == 0:
        conn.execute(insert(SearchStateRow).values(id=1, generation=1,
                                                   index_id=uuid.uuid4().hex))
    generation = int(conn.execute(select(SearchStateRow.generation)
                                  .where(SearchStateRow.id == 1)).scalar_one())
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        conn.execute(delete(SearchDocRow).where(SearchDocRow.nct_id.in_(chunk)))
        conn.execute(insert(SearchDocRow),
                     [{"nct_id": i, "generation": generation} for i in chunk])


def read_state(conn: Connection) -> tuple[int, str]:
    """The store's change generation and identity (one primary-key read per search)."""
    row = conn.exec_driver_sql(
        "SELECT generation, index_id FROM search_state WHERE id = 1").first()
    if row is None:
        return 0, ""
    return int(row.generation), str(row.index_id)


def changed_since(conn: Connection, generation: int) -> list[str]:
    return sorted(conn.execute(select(SearchDocRow.nct_id)
                               .where(SearchDocRow.generation > generation)).scalars())


def count_trials(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(TrialRow)).scalar_one())


def iter_documents(conn: Connection, batch: int = 2000) -> Iterator[tuple[str, str]]:
    """Every stored trial's (nct_id, document JSON), in NCT id order, streamed."""
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(
        select(TrialRow.nct_id, TrialRow.document).order_by(TrialRow.nct_id))
    for row in result:
        yield row[0], row[1]


def documents(conn: Connection, nct_ids: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    ids = list(nct_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for nct_id, document in conn.execute(
                select(TrialRow.nct_id, TrialRow.document).where(TrialRow.nct_id.in_(chunk))):
            out[nct_id] = document
    return out


_HIT_COLUMNS = select(TrialRow.nct_id, TrialRow.brief_title, TrialRow.official_title,
                      TrialRow.overall_status, TrialRow.phases, TrialRow.study_type,
                      TrialRow.lead_sponsor, TrialRow.last_update, TrialRow.start_date
                      ).where(TrialRow.nct_id.in_(bindparam("ids", expanding=True)))
_HIT_LISTS = select(TrialFacetRow.id, TrialFacetRow.nct_id, TrialFacetRow.field,
                    TrialFacetRow.value).where(
    TrialFacetRow.nct_id.in_(bindparam("ids", expanding=True)))


def hit_rows(conn: Connection, nct_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What a result line shows, from the small columns (not the whole document)."""
    ids = list(nct_ids)
    if not ids:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for row in conn.execute(_HIT_COLUMNS, {"ids": ids}):
        out[row.nct_id] = {
            "nct_id": row.nct_id, "title": row.brief_title or row.official_title or row.nct_id,
            "overall_status": row.overall_status,
            "phases": row.phases.split() if row.phases else [],
            "study_type": row.study_type, "lead_sponsor": row.lead_sponsor,
            "last_update": row.last_update, "start_date": row.start_date,
            "conditions": [], "interventions": []}
    lists = sorted((r for r in conn.execute(_HIT_LISTS, {"ids": ids})
                    if r.field in ("condition", "intervention")), key=lambda r: r.id)
    for item in lists:
        if item.nct_id in out:
            key = "conditions" if item.field == "condition" else "interventions"
            out[item.nct_id][key].append(item.value)
    return out


def site_rows(conn: Connection, pairs: Sequence[tuple[str, int]]
              ) -> dict[tuple[str, int], dict[str, Any]]:
    """Sites by (nct_id, position)."""
    if not pairs:
        return {}
    wanted = set(pairs)
    rows = conn.execute(select(TrialSiteRow.nct_id, TrialSiteRow.position,
                               TrialSiteRow.facility, TrialSiteRow.city, TrialSiteRow.state,
                               TrialSiteRow.country, TrialSiteRow.status)
                        .where(TrialSiteRow.nct_id.in_(sorted({n for n, _ in wanted})),
                               TrialSiteRow.position.in_(sorted({p for _, p in wanted}))))
    return {(r.nct_id, r.position): {"facility": r.facility, "city": r.city,
                                     "state": r.state, "country": r.country,
                                     "status": r.status}
            for r in rows if (r.nct_id, r.position) in wanted}
