"""Turn source items into stored trials, batch by batch, reporting every rejected record.

One bad record never stops a batch: it is reported with its file, line, NCT id and reason,
and the good records around it are stored.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from trialscout.registry.api_v2 import nct_id_of, trial_from_api_v2
from trialscout.registry.errors import RecordError
from trialscout.registry.legacy_xml import parse_legacy_xml
from trialscout.registry.sources import SourceItem, nct_hint
from trialscout.store.trials import (
    BatchOutcome,
    ParsedRecord,
    StoreRecord,
    store_record,
    write_batch,
)

WriteHook = Callable[[Any, list[str]], None]


@dataclass
class Rejection:
    location: str
    line: int | None
    nct_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.location}:{self.line}" if self.line is not None else self.location
        return f"{where} [{self.nct_id or 'no NCT id'}] {self.reason}"


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    criteria_parsed: int = 0

    @property
    def stored(self) -> int:
        return self.imported + self.updated + self.unchanged + self.stale

    def add(self, outcome: BatchOutcome) -> None:
        self.imported += len(outcome.inserted)
        self.updated += len(outcome.updated)
        self.unchanged += len(outcome.unchanged)
        self.stale += len(outcome.stale)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported, "updated": self.updated, "unchanged": self.unchanged,
            "stale": self.stale, "rejected": len(self.rejected),
            "criteria_parsed": self.criteria_parsed,
            "rejections": [{"location": r.location, "line": r.line, "nct_id": r.nct_id,
                            "reason": r.reason} for r in self.rejected],
        }


def content_hash(study: Any) -> str:
    try:
        return hashlib.sha256(orjson.dumps(study, option=orjson.OPT_SORT_KEYS)).hexdigest()
    except TypeError as exc:
        if "recursion" in str(exc).lower():
            raise RecordError("the record is nested too deeply (more than 254 levels)",
                              nct_id_of(study)) from exc
        raise


def parse_item(item: SourceItem) -> ParsedRecord:
    """Normalize one source item, or raise RecordError."""
    if item.error is not None:
        raise item.error
    if item.kind == "legacy_xml":
        study = parse_legacy_xml(item.payload)
        fmt = "legacy_xml"
    else:
        study = item.payload
        fmt = "api_v2"
    trial = trial_from_api_v2(study)
    return ParsedRecord(trial=trial, raw=item.raw, content_hash=content_hash(study),
                        source_format=fmt, source=item.where)


Batch = tuple[list[StoreRecord], list[Rejection], int]


def read_batches(items: Iterable[SourceItem], size: int,
                 on_item: Callable[[], None] | None = None) -> Iterator[Batch]:
    """Normalize items into batches of ``size`` stored-form records, each with the
    rejections met since the previous batch and the number of items it covers."""
    batch: list[StoreRecord] = []
    rejected: list[Rejection] = []
    seen = 0
    for item in items:
        seen += 1
        if on_item:
            on_item()
        try:
            batch.append(store_record(parse_item(item)))
        except RecordError as exc:
            rejected.append(Rejection(item.location, item.line, exc.nct_id, exc.reason))
            continue
        except Exception as exc:  # noqa: BLE001 - a parser bug must not abort the batch
            rejected.append(Rejection(item.location, item.line, nct_hint(item.raw),
                                      f"unexpected error: {type(exc).__name__}: {exc}"))
            continue
        if len(batch) >= size:
            yield batch, rejected, seen
            batch, rejected, seen = [], [], 0
    if batch or rejected or seen:
        yield batch, rejected, seen


@contextmanager
def relaxed_gc(threshold: int = 20_000) -> Iterator[None]:
    """Run the cyclic garbage collector less often while a bulk import runs.

    Parsing allocates millions of short-lived dicts and models, none of them in cycles; at
    the default threshold (700) the collector takes about a quarter of an import's CPU.
    The previous thresholds come back afterwards.
    """
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], threshold), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def import_items(
    engine: Engine,
    items: Iterable[SourceItem],
    *,
    batch_size: int = 500,
    hooks: Iterable[WriteHook] = (),
    on_item: Callable[[], None] | None = None,
) -> ImportReport:
    """Store every good record; each batch commits on its own, with its write hooks."""
    with relaxed_gc():
        return write_batches(engine, read_batches(items, batch_size, on_item), hooks=hooks)


def write_batches(engine: Engine, batches: Iterable[Batch], *,
                  hooks: Iterable[WriteHook] = ()) -> ImportReport:
    """Commit each batch in its own transaction, with its write hooks."""
    report = ImportReport()
    hook_list = list(hooks)
    for records, rejected, _ in batches:
        report.rejected.extend(rejected)
        if not records:
            continue
        try:
            report.add(_write_one_batch(engine, records, hook_list))
        except DBAPIError:
            # One record the database refuses must not cost the batch its good records:
            # each is written on its own, and the refused ones are reported.
            for record in records:
                try:
                    report.add(_write_one_batch(engine, [record], hook_list))
                except DBAPIError as exc:
                    reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
                    report.rejected.append(Rejection(record.source, None, record.nct_id,
                                                     f"the database refused it: {reason}"))
    return report


def _write_one_batch(engine: Engine, records: list[StoreRecord],
                     hooks: list[WriteHook]) -> BatchOutcome:
    with engine.begin() as conn:
        outcome = write_batch(conn, records)
        if outcome.changed:
            for hook in hooks:
                hook(conn, outcome.changed)
    return outcome
