"""Hand-built parsed criteria, so verdict tests do not depend on the parser's choices."""

from __future__ import annotations

from typing import Any

from trialscout.criteria.model import (
    Concept,
    Constraint,
    Item,
    ParsedCriteria,
    Quantity,
    Question,
    Span,
    TimeWindow,
)
from trialscout.vocabulary import vocabulary


def concept(cid: str, text: str | None = None) -> Concept:
    known = vocabulary().concept(cid)
    name = known.name if known else cid.replace("_", " ")
    kind = known.kind if known else "condition"
    shown = text or name
    return Concept(id=cid, name=name, kind=kind, text=shown, span=Span(start=0, end=len(shown)))


def constraint(kind: str, *, polarity: str = "required", cid: str | None = None,
               any_of: list[str] | None = None, quantity: dict[str, Any] | None = None,
               window: dict[str, Any] | None = None, value: str | None = None,
               text: str = "criterion", exception: bool = False,
               key: str | None = None) -> Constraint:
    return Constraint(
        kind=kind, polarity=polarity, concept=concept(cid) if cid else None,
        any_of=[concept(c) for c in any_of or []],
        quantity=Quantity(**quantity) if quantity else None,
        window=TimeWindow(**window) if window else None, value=value, text=text,
        span=Span(start=0, end=len(text)), exception=exception,
        question=Question(key=key, text=text + "?", meets="yes", answerable=True)
        if key else None)


def item(constraints: list[Constraint], *, section: str = "inclusion", text: str = "criterion",
         kind: str | None = None, key: str | None = None, meets: str = "yes", index: int = 0,
         answerable: bool = True) -> Item:
    return Item(
        index=index, section=section, section_explicit=True, text=text,
        span=Span(start=0, end=len(text)), kind=kind or constraints[0].kind,
        constraints=constraints,
        question=Question(key=key or f"q:{text}", text=f"{text}?", meets=meets,
                          answerable=answerable))


def parsed(*items: Item) -> ParsedCriteria:
    numbered = [it.model_copy(update={"index": i}) for i, it in enumerate(items)]
    return ParsedCriteria(parser_version="test", items=numbered)
