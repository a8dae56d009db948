"""Small helpers for criteria tests."""

from __future__ import annotations

from trialscout.criteria import ParsedCriteria, parse_criteria
from trialscout.criteria.model import Constraint, Item


def items(text: str) -> list[Item]:
    return parse_criteria(text).items


def texts(text: str) -> list[str]:
    return [item.text for item in parse_criteria(text).items]


def one(text: str, section: str = "Inclusion Criteria:") -> Item:
    parsed = parse_criteria(f"{section}\n\n* {text}")
    assert len(parsed.items) == 1, [i.text for i in parsed.items]
    return parsed.items[0]


def constraints(text: str, kind: str | None = None, section: str = "Inclusion Criteria:"
                ) -> list[Constraint]:
    found = one(text, section).constraints
    return [c for c in found if kind is None or c.kind == kind]


def only(text: str, kind: str, section: str = "Inclusion Criteria:") -> Constraint:
    found = constraints(text, kind, section)
    assert len(found) == 1, [(c.kind, c.text) for c in one(text, section).constraints]
    return found[0]


def evidence(item: Item, c: Constraint) -> str:
    return item.text[c.span.start:c.span.end]


def parsed(text: str) -> ParsedCriteria:
    return parse_criteria(text)
