"""``parse_criteria(text) -> ParsedCriteria``: the one entry point of criteria parsing.

Splits the text into items (:mod:`~trialscout.criteria.split`), cleans each item
(:mod:`~trialscout.criteria.text`), extracts its typed constraints
(:mod:`~trialscout.criteria.extract`) and the question it asks
(:mod:`~trialscout.criteria.questions`).

Item spans are offsets into the whole text; constraint spans are offsets into their
item's text (``item.text[c.span.start:c.span.end]``). That makes an item's analysis depend
on its own text only, and the same criterion recurs across thousands of trials ("Pregnant
or breastfeeding women", "Signed informed consent"), so analyses are memoized by item
text, section and heading and shared between parses. Treat parsed models as read-only.
Most items are unique, though, and every memoized analysis is objects the garbage
collector walks again and again, so an analysis is kept only once its item has been seen
before.

Never raises on any string: an item the rules cannot type is kept as ``other``. Work is
bounded on pathological input: texts are cut at ``MAX_TEXT`` characters, and an item is
typed from its first ``MAX_ITEM_ANALYSIS`` characters (no real criterion is that long; the
item itself, text and span, is always kept whole).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Final

from trialscout.criteria.construct import build
from trialscout.criteria.extract import analyze, finalize
from trialscout.criteria.item_questions import item_question
from trialscout.criteria.logic import build_logic
from trialscout.criteria.model import (
    Constraint,
    Heading,
    Item,
    ParsedCriteria,
    Question,
    Span,
)
from trialscout.criteria.questions import question_for
from trialscout.criteria.split import split_items
from trialscout.criteria.text import clean

PARSER_VERSION = "2.2.2"
MAX_TEXT: Final = 200_000
MAX_ITEM_ANALYSIS: Final = 4_000
_CACHE_SIZE: Final = 8_192
_Analysis = tuple[list[Constraint], str, Question]
_cache: Final[OrderedDict[tuple[str, str, str | None], _Analysis]] = OrderedDict()
# Hashes of the items seen (an item is memoized the second time it is seen).
_SEEN_LIMIT: Final = 200_000
_seen: Final[set[int]] = set()
log: Final = logging.getLogger(__name__)


_UNANSWERABLE_ORDER: Final = {"consent": 0, "investigator": 1, "administrative": 2}


def _item_kind(constraints: list[Constraint]) -> str:
    main = [c for c in constraints if not c.exception]
    answerable = [c for c in main if c.answerable and c.kind != "other"]
    if answerable:
        return answerable[0].kind
    checked = sorted((c for c in main if c.kind in _UNANSWERABLE_ORDER),
                     key=lambda c: _UNANSWERABLE_ORDER[c.kind])
    pool = checked or main or constraints
    return pool[0].kind if pool else "other"


def _other(text: str, section: str) -> list[Constraint]:
    constraint = Constraint(kind="other",
                            polarity="required" if section == "inclusion" else "must_not",
                            text=text, span=Span(start=0, end=len(text)))
    constraint.question = question_for(constraint, text)
    return [constraint]


def analyze_item(text: str, section: str, heading: str | None = None) -> _Analysis:
    """Constraints (spans into ``text``), kind and question of one criterion, memoized."""
    key = (text, section, heading)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    try:
        cleaned = clean(text, 0, min(len(text), MAX_ITEM_ANALYSIS))
        drafts, _found = analyze(cleaned, section, heading)
        constraints = finalize(drafts, cleaned, text, section)
    except Exception:
        log.exception("a criteria item could not be analyzed; kept as other")
        constraints = _other(text, section)
    result = (constraints, _item_kind(constraints), item_question(constraints, section, text))
    digest = hash(key)
    if digest not in _seen:
        if len(_seen) >= _SEEN_LIMIT:
            _seen.clear()
        _seen.add(digest)
        return result
    _cache[key] = result
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return result


def parse_criteria(text: str | None) -> ParsedCriteria:
    """Parse an eligibility criteria text into items, typed constraints and questions."""
    source = text or ""
    if len(source) > MAX_TEXT:
        log.warning("criteria text of %d characters truncated to %d", len(source), MAX_TEXT)
        source = source[:MAX_TEXT]
    split = split_items(source)
    items: list[Item] = []
    for index, raw in enumerate(split.items):
        item_text = source[raw.start:raw.end]
        constraints, kind, question = analyze_item(item_text, raw.section, raw.heading)
        marker_span = (_span(raw.marker_start, raw.marker_end)
                       if raw.marker_start is not None and raw.marker_end is not None else None)
        items.append(build(Item, {
            "index": index, "section": raw.section, "section_explicit": raw.section_explicit,
            "heading": raw.heading, "text": item_text, "span": _span(raw.start, raw.end),
            "marker": raw.marker, "marker_span": marker_span, "depth": raw.depth,
            "parent": raw.parent, "kind": kind, "constraints": list(constraints),
            "question": question}))
    headings = [build(Heading, {"text": h.text, "span": _span(h.start, h.end),
                                "section": h.section})
                for h in split.headings]
    logic = build_logic(items, [raw.blank_before for raw in split.items],
                        [split.headings[raw.block].text if raw.block >= 0 else None
                         for raw in split.items])
    return build(ParsedCriteria, {"parser_version": PARSER_VERSION, "items": items,
                                  "headings": headings, "logic": logic})


def _span(start: int, end: int) -> Span:
    return build(Span, {"start": start, "end": end})
