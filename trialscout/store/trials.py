"""Reading and writing trials. Writes come in batches, each one transaction.

A batch is idempotent: a record whose content hash is already stored changes nothing; a
record with a newer (or equal) last-update date replaces the stored one and leaves a
history row; an older record is kept out so a stale file cannot roll a trial back.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, Dialect, Table, delete, func, insert, select, update
from sqlalchemy.types import TypeDecorator

from trialscout.registry.model import Trial
from trialscout.registry.partial_dates import sort_key
from trialscout.store.packing import pack_document
from trialscout.store.tables import TrialFacetRow, TrialHistoryRow, TrialRow, TrialSiteRow

FACET_FIELDS = ("phase", "condition", "intervention", "country", "sponsor", "keyword",
                "mesh", "site_status", "study_type", "status")
RAW_COMPRESSION_LEVEL = 1
RAW_AGAINST_DOCUMENT_LEVEL = 2
RAW_AGAINST_DOCUMENT = b"d"
_compress_fast: Callable[[bytes, int], bytes] | None
try:
    from isal import isal_zlib as _isal_zlib

    _compress_fast = _isal_zlib.compress
except ImportError:  # pragma: no cover - isal has wheels for the usual platforms
    _isal_zlib = None  # type: ignore[assignment]
    _compress_fast = None


def compress_raw(data: bytes, document: str | None = None) -> bytes:
    """The stored form of a raw source record.

    With the trial's ``document`` JSON, ``b"d"`` and a zlib stream that uses the document
    as its preset dictionary: the normalized document repeats most of the record's text
    (titles, summaries, criteria), so the raw record shrinks about fivefold against a
    plain stream. Reading it back needs that same document, which is why ``write_batch``
    always writes both together and :func:`load_raw` reads both. Without a document, a
    plain zlib stream (ISA-L writes the same format about five times faster than zlib).
    """
    if document is not None:
        zdict = document.encode("utf-8")
        compressor = (_isal_zlib.compressobj(RAW_AGAINST_DOCUMENT_LEVEL, zdict=zdict)
                      if _isal_zlib is not None else zlib.compressobj(3, zdict=zdict))
        return RAW_AGAINST_DOCUMENT + compressor.compress(data) + compressor.flush()
    if _compress_fast is not None:
        return _compress_fast(data, RAW_COMPRESSION_LEVEL)
    return zlib.compress(data, RAW_COMPRESSION_LEVEL)


def decompress_raw(stored: bytes, document: str | None) -> bytes:
    """The raw source record of :func:`compress_raw`'s output (``document``: the JSON of
    the trial stored with it, needed when the record was compressed against it)."""
    if stored[:1] == RAW_AGAINST_DOCUMENT:
        if document is None:
            raise ValueError("this raw record was compressed against its document")
        decompressor = zlib.decompressobj(zdict=document.encode("utf-8"))
        return decompressor.decompress(stored[1:]) + decompressor.flush()
    return zlib.decompress(stored)

_NORMALIZED_CACHE_SIZE = 50_000
_normalized: dict[str, str] = {}


def normalize_value(text: str) -> str:
    """Collapse whitespace and casefold; facet values repeat a lot, so results are cached."""
    cached = _normalized.get(text)
    if cached is None:
        cached = " ".join(text.split()).casefold()
        if len(_normalized) >= _NORMALIZED_CACHE_SIZE:
            _normalized.clear()
        _normalized[text] = cached
    return cached


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
class StoreRecord:
    """A parsed record as the rows it is stored in: plain data, so that the importer's
    reader process can build it and pass it to the writer cheaply."""

    nct_id: str
    content_hash: str
    last_update: str | None
    source: str
    columns: dict[str, Any]
    facets: list[tuple[str, str, str]]
    sites: list[dict[str, Any]]


def store_record(record: ParsedRecord) -> StoreRecord:
    """Everything ``write_batch`` stores for one record (the costly part of writing it:
    the document JSON, the compressed raw record and the facet values)."""
    t = record.trial
    sites = []
    for position, s in enumerate(t.sites):
        geo = s.geo
        sites.append({"nct_id": t.nct_id, "position": position, "facility": s.facility,
                      "status": s.status, "city": s.city, "state": s.state, "zip": s.zip,
                      "country": s.country, "lat": geo.lat if geo else None,
                      "lon": geo.lon if geo else None})
    return StoreRecord(nct_id=t.nct_id, content_hash=record.content_hash,
                       last_update=t.dates.last_update, source=record.source[:1000],
                       columns=trial_columns(record), facets=_facet_rows(t), sites=sites)


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
    """The ``trials`` row of a record; ``document`` and ``raw`` depend on each other (see
    :func:`compress_raw`), so any code that writes one writes the other from this."""
    t = record.trial
    document = t.model_dump_json(exclude_none=True)
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
        "document": pack_document(document),
        "raw": compress_raw(record.raw, document),
    }


def _facet_rows(trial: Trial) -> list[tuple[str, str, str]]:
    """(field, value, normalized value) once per distinct normalized value of a field."""
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
            out.append((name, value.strip(), key[1]))
    return out


_Prepared = tuple[str, Callable[[dict[str, Any]], Any], list[tuple[int, Any]]]
_prepared: dict[tuple[str, str, Table, tuple[str, ...]], _Prepared | None] = {}


def _prepare(dialect: Dialect, table: Table, keys: tuple[str, ...]) -> _Prepared | None:
    """The driver-level INSERT for these keys, or None when SQLAlchemy must fill in defaults."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    order = compiled.positiontup
    if order is None or set(order) != set(keys) or len(order) != len(keys):
        return None
    processors = []
    for index, key in enumerate(order):
        processor = table.c[key].type._cached_bind_processor(dialect)
        if processor is not None:
            processors.append((index, processor))
    getter = itemgetter(*order) if len(order) > 1 else (lambda row: (row[order[0]],))
    return compiled.string, getter, processors


def _defaults_missing(table: Table, row: dict[str, Any]) -> bool:
    """True when a column with a client-side default is not in the row (COPY would skip it)."""
    return any(column.default is not None and column.key not in row for column in table.c)


def _decorated_processors(dialect: Dialect, table: Table, keys: list[str]
                          ) -> list[tuple[int, Callable[[Any], Any]]]:
    """Bind processors of the columns whose type is our own (a ``TypeDecorator``, such
    as the packed document): COPY sends values as they are, so these must run first."""
    out: list[tuple[int, Callable[[Any], Any]]] = []
    for index, key in enumerate(keys):
        column_type = table.c[key].type
        if isinstance(column_type, TypeDecorator):
            processor = column_type._cached_bind_processor(dialect)
            if processor is not None:
                out.append((index, processor))
    return out


def _copy_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL (psycopg 3): COPY FROM STDIN, far cheaper than INSERT for a batch."""
    keys = list(rows[0])
    quote = conn.dialect.identifier_preparer
    sql = (f"COPY {quote.format_table(table)} ({', '.join(quote.quote(k) for k in keys)}) "
           "FROM STDIN")
    getter = itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))
    processors = _decorated_processors(conn.dialect, table, keys)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                values = getter(row)
                if processors:
                    values = list(values)
                    for index, processor in processors:
                        values[index] = processor(values[index])
                copy.write_row(values)
    finally:
        cursor.close()


def _insert_rows(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows of the same keys.

    On SQLite the rows go straight to the driver's executemany, with each column's bind
    processor applied once per value; that skips SQLAlchemy's per-row parameter handling,
    which costs more than SQLite itself on a bulk import. PostgreSQL through psycopg gets
    COPY. Other backends use the ordinary (batched "insertmanyvalues") path.
    """
    if not rows:
        return
    table = getattr(table, "__table__", table)
    prepared = None
    if (conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"
            and not _defaults_missing(table, rows[0])):
        _copy_rows(conn, table, rows)
        return
    if conn.dialect.name == "sqlite":
        keys = tuple(rows[0])
        cache_key = (conn.dialect.name, conn.dialect.paramstyle, table, keys)
        if cache_key not in _prepared:
            _prepared[cache_key] = _prepare(conn.dialect, table, keys)
        prepared = _prepared[cache_key]
    if prepared is None:
        conn.execute(insert(table), rows)
        return
    sql, getter, processors = prepared
    if processors:
        params = []
        for row in rows:
            values = list(getter(row))
            for index, processor in processors:
                values[index] = processor(values[index])
            params.append(tuple(values))
    else:
        params = [getter(row) for row in rows]
    conn.exec_driver_sql(sql, params)


def _is_newer_or_same(incoming: str | None, stored: str | None) -> bool:
    a, b = sort_key(incoming), sort_key(stored)
    if a is None or b is None:
        return True
    return a >= b


def write_batch(conn: Connection, records: Sequence[StoreRecord]) -> BatchOutcome:
    """Write one batch inside the caller's transaction and say what happened to each record."""
    outcome = BatchOutcome()
    latest: dict[str, StoreRecord] = {}
    for record in records:
        previous = latest.get(record.nct_id)
        if previous is None or _is_newer_or_same(record.last_update, previous.last_update):
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
        elif _is_newer_or_same(record.last_update, row.last_update):
            to_update.append(record)
        else:
            outcome.stale.append(nct_id)
    now = _now()
    if to_update:
        ids = [r.nct_id for r in to_update]
        conn.execute(delete(TrialFacetRow).where(TrialFacetRow.nct_id.in_(ids)))
        conn.execute(delete(TrialSiteRow).where(TrialSiteRow.nct_id.in_(ids)))
        for record in to_update:
            values = {**record.columns, "updated_at": now}
            conn.execute(update(TrialRow).where(TrialRow.nct_id == record.nct_id).values(values))
        outcome.updated.extend(ids)
    if to_insert:
        _insert_rows(conn, TrialRow, [
            {**r.columns, "imported_at": now, "updated_at": now} for r in to_insert])
        outcome.inserted.extend(r.nct_id for r in to_insert)
    changed = to_insert + to_update
    if changed:
        facets = [{"nct_id": r.nct_id, "field": name, "value": value, "value_norm": norm}
                  for r in changed for name, value, norm in r.facets]
        if facets:
            _insert_rows(conn, TrialFacetRow, facets)
        sites = [site for r in changed for site in r.sites]
        if sites:
            _insert_rows(conn, TrialSiteRow, sites)
        created = {r.nct_id for r in to_insert}
        _insert_rows(conn, TrialHistoryRow, [
            {"nct_id": r.nct_id, "content_hash": r.content_hash, "last_update": r.last_update,
             "change": "created" if r.nct_id in created else "updated",
             "source": r.source, "recorded_at": now}
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
    row = conn.execute(select(TrialRow.raw, TrialRow.source_format, TrialRow.document)
                       .where(TrialRow.nct_id == nct_id)).first()
    if row is None:
        return None
    data = decompress_raw(row.raw, row.document)
    return data.decode("utf-8") if row.source_format == "legacy_xml" else orjson.loads(data)


def count_trials(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(TrialRow)).scalar_one())


def history(conn: Connection, nct_id: str) -> list[dict[str, Any]]:
    table = TrialHistoryRow.__table__
    rows = conn.execute(select(table).where(table.c.nct_id == nct_id).order_by(table.c.id))
    return [{"content_hash": r.content_hash, "last_update": r.last_update, "change": r.change,
             "source": r.source, "recorded_at": r.recorded_at.isoformat()}
            for r in rows]
