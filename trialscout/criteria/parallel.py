"""Parsing many trials' criteria on every core: the bulk step after an import or sync.

Parsing is CPU work on one text at a time and shares nothing between trials, so a
registry-sized store is parsed in worker processes while this process reads the texts and
writes the results, each chunk in its own transaction. Workers return plain rows (the
parsed document as compressed JSON, the question index rows), never models, so little
crosses the process boundary and the writer does not compress. Small jobs are parsed
inline: starting a worker and loading the rules costs about two seconds.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from trialscout.criteria.model import ParsedCriteria
from trialscout.criteria.parser import parse_criteria
from trialscout.criteria.tables import question_key_hash
from trialscout.store.packing import pack_document

INLINE_LIMIT = 2_000
BULK_GC_THRESHOLD = (10_000, 50, 100)
Chunk = list[tuple[str, "str | None"]]


@dataclass
class ParsedRows:
    """One trial's parse, ready to insert: its criteria row (the document already packed,
    so the workers, not the writer, compress it) and its question rows."""

    nct_id: str
    document: bytes
    parser_version: str
    item_count: int
    other_count: int
    questions: list[dict[str, Any]] = field(default_factory=list)


def rows_for(nct_id: str, result: ParsedCriteria) -> ParsedRows:
    return ParsedRows(
        nct_id=nct_id, document=pack_document(result.model_dump_json(exclude_defaults=True),
                                              dense=True),
        parser_version=result.parser_version, item_count=len(result.items),
        other_count=sum(item.kind == "other" for item in result.items),
        questions=[{"nct_id": nct_id, "item_index": item.index, "section": item.section,
                    "kind": item.kind, "key_hash": question_key_hash(item.question.key),
                    "meets": item.question.meets, "answerable": item.question.answerable}
                   for item in result.items])


@contextmanager
def bulk_collection() -> Iterator[None]:
    """Fewer garbage-collector passes while many texts are parsed, as in ``parse_chunk``.

    A parse allocates thousands of short-lived containers, and at the default thresholds
    the collector's passes over them (and over the memoized analyses they are added to)
    took about a tenth of bulk parsing. Freed objects are still freed at once; cycles
    wait a little longer. The previous thresholds come back afterwards.
    """
    previous = gc.get_threshold()
    gc.set_threshold(*BULK_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def parse_chunk(chunk: Chunk) -> list[tuple[str | None, ParsedRows]]:
    """Parse ``(nct_id, text)`` pairs; runs in a worker process or inline."""
    with bulk_collection():
        return [(text, rows_for(nct_id, parse_criteria(text))) for nct_id, text in chunk]


def _warm_up() -> None:
    parse_criteria("Inclusion Criteria:\n* HbA1c ≥ 7%\nExclusion Criteria:\n* Prolia")


def worker_count(setting: int) -> int:
    """``criteria_workers``: 0 means one per core this process may use."""
    if setting > 0:
        return setting
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def parse_chunks(chunks: Iterable[Chunk], *, workers: int, total: int,
                 inline_limit: int = INLINE_LIMIT
                 ) -> Iterator[list[tuple[str | None, ParsedRows]]]:
    """Parsed chunks, in any order; at most two chunks per worker are in flight."""
    if workers <= 1 or total <= inline_limit:
        for chunk in chunks:
            yield parse_chunk(chunk)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_warm_up) as pool:
        pending: set[Future[list[tuple[str | None, ParsedRows]]]] = set()
        for chunk in chunks:
            pending.add(pool.submit(parse_chunk, chunk))
            if len(pending) >= 2 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        for future in pending:
            yield future.result()
