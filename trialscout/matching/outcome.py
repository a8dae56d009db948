"""What checking one constraint yields (:class:`Outcome`), and the helpers every kind of
constraint shares: comparing a value with a bound, evidence from a fact or a note sentence,
the concepts a constraint names, and the item rules (qualifiers, unparsed thresholds).

A constraint's *statement* is its positive reading ("has diabetes", "HbA1c >= 7%", "took a
bisphosphonate in the past year"); its outcome says whether that statement holds for the
patient. The constraint's polarity turns that into pass / fail (see :mod:`.item`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from trialscout.criteria.model import Constraint
from trialscout.criteria.units import DAYS_PER_UNIT
from trialscout.matching.model import Evidence
from trialscout.matching.rules import load_rules

UNCHECKABLE = frozenset({"consent", "administrative", "investigator"})
PRESENCE_KINDS = frozenset({"condition", "medication", "procedure", "allergy", "other"})
UNIT_DAYS = {u: DAYS_PER_UNIT[u] for u in ("hour", "day", "week", "month", "year")}
SYMBOL = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "=", "between": "between"}


@dataclass
class Outcome:
    """The truth of one constraint's statement for this patient, and why."""

    holds: bool | None
    reason: str
    evidence: list[Evidence] = field(default_factory=list)
    applicable: bool = True
    no_information: bool = False


def compare(x: float, comparator: str, value: float, high: float | None = None) -> bool:
    """``x`` against the bound. A value at the bound is equal to it within rounding: unit
    conversion leaves 1500 /µL as 1.5000000000000004 x 10^9/L, which is not "> 1.5"."""
    if comparator == "between":
        upper = value if high is None else high
        low, top = min(value, upper), max(value, upper)
        return (low <= x or _same(x, low)) and (x <= top or _same(x, top))
    if _same(x, value):
        return comparator in {"le", "ge", "eq"}
    return {"lt": x < value, "le": x < value, "gt": x > value, "ge": x > value,
            "eq": False}[comparator]


def _same(x: float, value: float) -> bool:
    return abs(x - value) <= 1e-9 * max(1.0, abs(x), abs(value))


def bound_text(comparator: str, value: float, high: float | None, unit: str | None) -> str:
    u = f" {unit}" if unit and unit != "1" else ""
    if comparator == "between":
        return f"between {value:g} and {high if high is not None else value:g}{u}"
    return f"{SYMBOL[comparator]} {value:g}{u}"



def fact_evidence(fact: Any, text: str) -> Evidence:
    source = getattr(fact, "source", None)
    sentence = source.sentence if source is not None else None
    return Evidence(kind="fact", fact_id=fact.id or None, sentence=sentence, text=text[:2000])


def note_evidence(sentence: Any) -> Evidence:
    return Evidence(kind="note", sentence=sentence.index, text=sentence.text[:2000])


def targets(constraint: Constraint) -> tuple[list[str], list[str]]:
    concepts = ([constraint.concept] if constraint.concept else []) + list(constraint.any_of)
    ids = [c.id for c in concepts if c.id]
    texts = []
    for c in concepts:
        texts += [c.text, c.name]
    return ids, [t for t in texts if t and t.strip()]


def constraint_label(constraint: Constraint) -> str:
    _ids, texts = targets(constraint)
    return texts[1] if len(texts) > 1 else (texts[0] if texts else constraint.text)



@cache
def item_rules() -> tuple[re.Pattern[str], re.Pattern[str]]:
    data = load_rules("items")
    words = sorted(data["qualifiers"], key=len, reverse=True)
    qualifiers = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b",
                            re.IGNORECASE)
    return qualifiers, re.compile(data["unparsed_threshold"], re.IGNORECASE)

