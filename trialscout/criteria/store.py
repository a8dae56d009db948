"""Keeping parsed criteria in the store, fresh after every import and parser change.

- :func:`register` adds :func:`write_hook` to an app's write hooks: every import or sync
  batch forgets the parse of the trials whose criteria text it changed, in the same
  transaction; the app then parses what is missing once the import or sync is stored.
- :func:`reparse` parses every trial whose stored result is missing or came from another
  ``PARSER_VERSION`` (after every import and sync, and ``trialscout criteria reparse``),
  on every core for large jobs.
- :func:`load_parsed_criteria` reads one trial's parsed criteria back;
  :func:`trials_asking` lists the trials whose items ask a given question key.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, insert, or_, select

from trialscout.criteria.build import parser_build
from trialscout.criteria.model import ParsedCriteria
from trialscout.criteria.parallel import (
    INLINE_LIMIT,
    Chunk,
    ParsedRows,
    parse_chunks,
    rows_for,
)
from trialscout.criteria.parser import PARSER_VERSION, parse_criteria
from trialscout.criteria.tables import (
    TrialCriteriaRow,
    TrialCriterionQuestionRow,
    question_key_hash,
)
from trialscout.store.packing import pack_document, unpack_document
from trialscout.store.tables import TrialRow

CHUNK = 500


@dataclass
class ReparseReport:
    parsed: int = 0
    items: int = 0
    other: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"parsed": self.parsed, "items": self.items, "other": self.other,
                "parser_version": PARSER_VERSION, "parser_build": parser_build()}


PACKED = "z1:"


def pack(document: str) -> bytes:
    """The stored form of a parsed-criteria JSON document: a zlib stream (about a sixth of
    the JSON), in a binary column (``store.packing.PackedDocument``). :func:`unpack` gives
    the exact JSON back, so nothing is lost and the full document is always re-derivable."""
    return pack_document(document, dense=True)


def unpack(stored: str | bytes) -> str:
    """The JSON document of a stored row: packed, in the older ``z1:`` base85 text form,
    or (written before packing) plain."""
    text = unpack_document(stored)
    if text.startswith(PACKED):
        return zlib.decompress(base64.b85decode(text[len(PACKED):])).decode("utf-8")
    return text


def text_hash(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def _criteria_texts(conn: Connection, nct_ids: Sequence[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for start in range(0, len(nct_ids), CHUNK):
        chunk = list(nct_ids[start:start + CHUNK])
        for nct_id, document in conn.execute(
                select(TrialRow.nct_id, TrialRow.document).where(TrialRow.nct_id.in_(chunk))):
            data = orjson.loads(document)
            out[nct_id] = (data.get("eligibility") or {}).get("criteria")
    return out


def store_parsed(conn: Connection, parsed: dict[str, tuple[str | None, ParsedCriteria]]) -> None:
    """Replace the stored criteria rows of these trials inside the caller's transaction."""
    store_rows(conn, [(text, rows_for(nct_id, result))
                      for nct_id, (text, result) in parsed.items()])


def _drop(conn: Connection, nct_ids: Sequence[str]) -> None:
    for start in range(0, len(nct_ids), CHUNK):
        chunk = list(nct_ids[start:start + CHUNK])
        conn.execute(delete(TrialCriterionQuestionRow)
                     .where(TrialCriterionQuestionRow.nct_id.in_(chunk)))
        conn.execute(delete(TrialCriteriaRow).where(TrialCriteriaRow.nct_id.in_(chunk)))


def store_rows(conn: Connection, parsed: Sequence[tuple[str | None, ParsedRows]]) -> None:
    """Write parses made by :func:`~trialscout.criteria.parallel.parse_chunk`."""
    _drop(conn, [rows.nct_id for _text, rows in parsed])
    now = datetime.now(UTC).replace(tzinfo=None)
    criteria = [{"nct_id": rows.nct_id, "parser_version": rows.parser_version,
                 "text_hash": text_hash(text), "item_count": rows.item_count,
                 "other_count": rows.other_count, "document": rows.document,
                 "parsed_at": now}
                for text, rows in parsed]
    questions = [q for _text, rows in parsed for q in rows.questions]
    if criteria:
        conn.execute(insert(TrialCriteriaRow), criteria)
    if questions:
        conn.execute(insert(TrialCriterionQuestionRow), questions)


def parse_trials(conn: Connection, nct_ids: Sequence[str], *, force: bool = False) -> int:
    """Parse and store the criteria of ``nct_ids``; unchanged text at this version is skipped."""
    texts = _criteria_texts(conn, nct_ids)
    current = {} if force else _stored_hashes(conn, nct_ids)
    parsed: dict[str, tuple[str | None, ParsedCriteria]] = {}
    for nct_id, text in texts.items():
        if current.get(nct_id) == (text_hash(text), PARSER_VERSION):
            continue
        parsed[nct_id] = (text, parse_criteria(text))
    store_parsed(conn, parsed)
    return len(parsed)


def _stored_hashes(conn: Connection, nct_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for start in range(0, len(nct_ids), CHUNK):
        chunk = list(nct_ids[start:start + CHUNK])
        for row in conn.execute(select(TrialCriteriaRow.nct_id, TrialCriteriaRow.text_hash,
                                       TrialCriteriaRow.parser_version)
                                .where(TrialCriteriaRow.nct_id.in_(chunk))):
            out[row.nct_id] = (row.text_hash, row.parser_version)
    return out


def write_hook(conn: Connection, changed_nct_ids: list[str]) -> None:
    """Write hook: forget the parse of every changed trial whose criteria text changed.

    Parsing itself waits until the import or sync has stored everything (see
    :func:`reparse`), so an import batch's transaction stays short; until then a reader
    finds no stored parse and parses that one trial on demand, so nothing is ever stale.
    """
    stored = _stored_hashes(conn, changed_nct_ids)
    if not stored:
        return
    texts = _criteria_texts(conn, list(stored))
    _drop(conn, [nct_id for nct_id, (digest, _version) in stored.items()
                 if text_hash(texts.get(nct_id)) != digest])


def register(app: Any) -> None:
    """Keep parsed criteria fresh on every import and sync of ``app``."""
    if write_hook not in app.write_hooks:
        app.write_hooks.append(write_hook)


def stale_ids(conn: Connection, *, everything: bool = False) -> list[str]:
    """Trials with no parsed criteria, or parsed by another parser version."""
    query = select(TrialRow.nct_id).outerjoin(
        TrialCriteriaRow, TrialCriteriaRow.nct_id == TrialRow.nct_id)
    if not everything:
        query = query.where(or_(TrialCriteriaRow.nct_id.is_(None),
                                TrialCriteriaRow.parser_version != PARSER_VERSION))
    return [row[0] for row in conn.execute(query.order_by(TrialRow.nct_id))]


def reparse(engine: Engine, *, everything: bool = False, batch_size: int = 250,
            workers: int = 1, inline_limit: int = INLINE_LIMIT,
            on_progress: Callable[[int, int], None] | None = None) -> ReparseReport:
    """Parse every stale trial (or all with ``everything``), one transaction per chunk.

    With ``workers`` > 1 and enough trials, texts are parsed in that many processes while
    this one reads texts and writes results (:mod:`trialscout.criteria.parallel`).
    """
    with engine.connect() as conn:
        ids = stale_ids(conn, everything=everything)
    report = ReparseReport()

    def chunks() -> Iterator[Chunk]:
        for start in range(0, len(ids), batch_size):
            with engine.connect() as conn:
                texts = _criteria_texts(conn, ids[start:start + batch_size])
            yield list(texts.items())

    done = 0
    for parsed in parse_chunks(chunks(), workers=workers, total=len(ids),
                               inline_limit=inline_limit):
        with engine.begin() as conn:
            store_rows(conn, parsed)
        done += len(parsed)
        report.parsed += len(parsed)
        for _text, rows in parsed:
            report.items += rows.item_count
            report.other += rows.other_count
        if on_progress:
            on_progress(done, len(ids))
    return report


def load_parsed_criteria(conn: Connection, nct_id: str) -> ParsedCriteria | None:
    """The stored parsed criteria of one trial, or None when it has not been parsed."""
    document = conn.execute(select(TrialCriteriaRow.document)
                            .where(TrialCriteriaRow.nct_id == nct_id)).scalar()
    return ParsedCriteria.model_validate_json(unpack(document)) if document else None


def trials_asking(conn: Connection, question_key: str) -> list[tuple[str, int, str]]:
    """``(nct_id, item_index, meets)`` of every stored item that asks ``question_key``."""
    table = TrialCriterionQuestionRow
    rows = conn.execute(select(table.nct_id, table.item_index, table.meets)
                        .where(table.key_hash == question_key_hash(question_key))
                        .order_by(table.nct_id, table.item_index))
    return [(r.nct_id, r.item_index, r.meets) for r in rows]


def load_many(conn: Connection, nct_ids: Iterable[str]) -> dict[str, ParsedCriteria]:
    ids = list(nct_ids)
    out: dict[str, ParsedCriteria] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for nct_id, document in conn.execute(
                select(TrialCriteriaRow.nct_id, TrialCriteriaRow.document)
                .where(TrialCriteriaRow.nct_id.in_(chunk))):
            out[nct_id] = ParsedCriteria.model_validate_json(unpack(document))
    return out
