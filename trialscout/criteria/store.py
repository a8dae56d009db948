"""Keeping parsed criteria in the store, fresh after every import and parser change.

- :func:`register` adds :func:`write_hook` to an app's write hooks: every import or sync
  batch parses the criteria of the trials it changed, in the same transaction.
- :func:`reparse` parses every trial whose stored result is missing or came from another
  ``PARSER_VERSION`` (``trialscout criteria reparse``).
- :func:`load_parsed_criteria` reads one trial's parsed criteria back;
  :func:`trials_asking` lists the trials whose items ask a given question key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, insert, or_, select

from trialscout.criteria.model import ParsedCriteria
from trialscout.criteria.parser import PARSER_VERSION, parse_criteria
from trialscout.criteria.tables import TrialCriteriaRow, TrialCriterionQuestionRow
from trialscout.store.tables import TrialRow

CHUNK = 500


@dataclass
class ReparseReport:
    parsed: int = 0
    items: int = 0
    other: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"parsed": self.parsed, "items": self.items, "other": self.other,
                "parser_version": PARSER_VERSION}


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
    ids = list(parsed)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        conn.execute(delete(TrialCriterionQuestionRow)
                     .where(TrialCriterionQuestionRow.nct_id.in_(chunk)))
        conn.execute(delete(TrialCriteriaRow).where(TrialCriteriaRow.nct_id.in_(chunk)))
    now = datetime.now(UTC).replace(tzinfo=None)
    rows: list[dict[str, Any]] = []
    questions: list[dict[str, Any]] = []
    for nct_id, (text, result) in parsed.items():
        rows.append({
            "nct_id": nct_id, "parser_version": result.parser_version,
            "text_hash": text_hash(text), "item_count": len(result.items),
            "other_count": sum(item.kind == "other" for item in result.items),
            "document": result.model_dump_json(exclude_defaults=True), "parsed_at": now,
        })
        for item in result.items:
            questions.append({
                "nct_id": nct_id, "item_index": item.index, "section": item.section,
                "kind": item.kind, "question_key": item.question.key[:400],
                "meets": item.question.meets, "answerable": item.question.answerable,
            })
    if rows:
        conn.execute(insert(TrialCriteriaRow), rows)
    if questions:
        conn.execute(insert(TrialCriterionQuestionRow), questions)


def parse_trials(conn: Connection, nct_ids: Sequence[str], *, force: bool = False) -> int:
    """Parse and store the criteria of ``nct_ids``; unchanged text at this version is skipped."""
    texts = _criteria_texts(conn, nct_ids)
    current: dict[str, tuple[str, str]] = {}
    if not force:
        for start in range(0, len(nct_ids), CHUNK):
            chunk = list(nct_ids[start:start + CHUNK])
            for row in conn.execute(select(TrialCriteriaRow.nct_id, TrialCriteriaRow.text_hash,
                                           TrialCriteriaRow.parser_version)
                                    .where(TrialCriteriaRow.nct_id.in_(chunk))):
                current[row.nct_id] = (row.text_hash, row.parser_version)
    parsed: dict[str, tuple[str | None, ParsedCriteria]] = {}
    for nct_id, text in texts.items():
        if current.get(nct_id) == (text_hash(text), PARSER_VERSION):
            continue
        parsed[nct_id] = (text, parse_criteria(text))
    store_parsed(conn, parsed)
    return len(parsed)


def write_hook(conn: Connection, changed_nct_ids: list[str]) -> None:
    """Write hook: parse the criteria of the trials an import batch changed."""
    parse_trials(conn, changed_nct_ids)


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


def reparse(engine: Engine, *, everything: bool = False, batch_size: int = 500,
            on_progress: Callable[[int, int], None] | None = None) -> ReparseReport:
    """Parse every stale trial (or all with ``everything``), one transaction per batch."""
    with engine.connect() as conn:
        ids = stale_ids(conn, everything=everything)
    report = ReparseReport()
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        with engine.begin() as conn:
            texts = _criteria_texts(conn, chunk)
            parsed = {nct_id: (text, parse_criteria(text)) for nct_id, text in texts.items()}
            store_parsed(conn, parsed)
        report.parsed += len(parsed)
        for _text, result in parsed.values():
            report.items += len(result.items)
            report.other += sum(item.kind == "other" for item in result.items)
        if on_progress:
            on_progress(min(start + batch_size, len(ids)), len(ids))
    return report


def load_parsed_criteria(conn: Connection, nct_id: str) -> ParsedCriteria | None:
    """The stored parsed criteria of one trial, or None when it has not been parsed."""
    document = conn.execute(select(TrialCriteriaRow.document)
                            .where(TrialCriteriaRow.nct_id == nct_id)).scalar()
    return ParsedCriteria.model_validate_json(document) if document else None


def stored_version(conn: Connection, nct_id: str) -> str | None:
    return conn.execute(select(TrialCriteriaRow.parser_version)
                        .where(TrialCriteriaRow.nct_id == nct_id)).scalar()


def trials_asking(conn: Connection, question_key: str) -> list[tuple[str, int, str]]:
    """``(nct_id, item_index, meets)`` of every stored item that asks ``question_key``."""
    table = TrialCriterionQuestionRow
    rows = conn.execute(select(table.nct_id, table.item_index, table.meets)
                        .where(table.question_key == question_key)
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
            out[nct_id] = ParsedCriteria.model_validate_json(document)
    return out
