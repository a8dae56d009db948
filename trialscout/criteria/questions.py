"""Patient-facing questions and their normalized keys.

A key names what is asked, independent of the trial and of the wording: "Received
denosumab within the past 6 months" and "Prolia in the last six months" both ask
``drug:denosumab:within:6mo``; "HbA1c ≥ 7%" and "HbA1c of at least 53 mmol/mol" both ask
``lab:hba1c:ge:7:%``. An answer stored under a key serves every trial that asks it. The
answer that satisfies the criterion (``meets``) is per trial: "yes" for a requirement,
"no" for something the trial must not see.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Final

from trialscout.criteria import rules
from trialscout.criteria.construct import build
from trialscout.criteria.model import (
    Answer,
    Comparator,
    Concept,
    Constraint,
    Quantity,
    Question,
    TimeWindow,
)

_NOT_WORD: Final = re.compile(r"[^\w\s]")
UNIT_WORDS: Final = {"hour": ("hour", "hours"), "day": ("day", "days"), "week": ("week", "weeks"),
              "month": ("month", "months"), "year": ("year", "years")}


def number(value: float, digits: int = 3) -> str:
    """A compact, stable rendering: 7.0 -> "7", 20.032 -> "20", -2.5 -> "-2.5"."""
    key = (value, digits)
    text = _numbers.get(key)
    if text is None:
        rounded = float(f"{value:.{digits}g}") if value else 0.0
        text = f"{rounded:.4f}".rstrip("0").rstrip(".")
        text = "0" if text in {"-0", ""} else text
        if len(_numbers) >= 10_000:
            _numbers.clear()
        _numbers[key] = text
    return text


_numbers: Final[dict[tuple[float, int], str]] = {}


def window_key(window: TimeWindow) -> str:
    if window.amount is None or window.unit is None:
        return window.relation
    amount = window.amount
    if window.unit in {"month", "year"}:
        months = amount * (12 if window.unit == "year" else 1)
        span = f"{number(months / 12)}y" if months % 12 == 0 else f"{number(months)}mo"
    elif window.unit in {"week", "day"}:
        days = amount * (7 if window.unit == "week" else 1)
        span = f"{number(days / 7)}w" if days % 7 == 0 else f"{number(days)}d"
    else:
        span = f"{number(amount)}h"
    if window.relation == "duration":
        return f"duration:{window.comparator or 'ge'}:{span}"
    return f"{window.relation}:{span}"


def window_text(window: TimeWindow) -> str:
    if window.amount is None or window.unit is None:
        return ""
    singular, plural = UNIT_WORDS[window.unit]
    if window.amount == 1:
        return singular
    return f"{number(window.amount)} {plural}"


def _hash(text: str) -> str:
    norm = " ".join(_NOT_WORD.sub(" ", text.casefold()).split())
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()[:12]


def _cmp_text(template: Mapping[str, str] | dict[Comparator, str], q: Quantity,
              unit: str | None) -> str:
    shown = unit_display(unit, q.value)
    text = template[q.comparator].format(v=number(q.value),
                                         v2=number(q.value_high or q.value), u=shown)
    if unit in {"×ULN", "ULN", "×LLN", "LLN"} and q.value == 1:
        text = text.replace("1 times ", "")
    return " ".join(text.split())


def unit_display(unit: str | None, value: float | None = None) -> str:
    if not unit:
        return ""
    if unit in {"×ULN", "ULN"}:
        return " times the upper limit of normal"
    if unit in {"×LLN", "LLN"}:
        return " times the lower limit of normal"
    if unit == "%":
        return "%"
    return " " + unit


def _quantity_key(q: Quantity) -> str:
    value = q.normalized_value if q.normalized_value is not None else q.value
    high = q.normalized_value_high if q.normalized_value_high is not None else q.value_high
    unit = q.normalized_unit or q.unit or ""
    if unit in {"ULN"}:
        unit = "×ULN"
    parts = [q.comparator, number(value)]
    if q.comparator == "between" and high is not None:
        parts.append(number(high))
    key = ":".join(parts)
    return f"{key}:{unit}" if unit else key


def _concept_template(concept_id: str | None, slot: str) -> str | None:
    if concept_id is None:
        return None
    return rules.questions().concepts.get(concept_id, {}).get(slot)


def _template(kind: str, slot: str | None = None) -> str:
    entry = rules.questions().templates[kind]
    if isinstance(entry, str):
        return entry
    return entry[slot or "ever"]


_GROUPABLE: Final = frozenset({"condition", "medication", "procedure", "allergy"})


def key_for(c: Constraint) -> str:
    """The normalized key of one constraint."""
    if c.any_of and c.kind in _GROUPABLE:
        parts = sorted({_key_for(c, alt) for alt in c.any_of})
        return "any:" + "|".join(parts)
    return _key_for(c, c.concept)


def _key_for(c: Constraint, concept: Concept | None) -> str:
    """The key of ``c`` about ``concept`` alone (one alternative of ``any_of``)."""
    kind = c.kind
    cid = concept.id if concept else None
    if kind in {"condition", "medication", "procedure", "disease_duration"}:
        prefix = {"condition": "condition", "disease_duration": "condition",
                  "medication": "drug", "procedure": "procedure"}[kind]
        key = f"{prefix}:{cid}"
        if c.value == "stable" and c.window is not None:
            return f"{key}:stable:{window_key(c.window).removeprefix('duration:')}"
        if c.window is not None and c.window.relation != "ever":
            key += ":" + window_key(c.window)
        return key
    if kind == "allergy":
        return f"allergy:{cid}"
    if kind == "measurement":
        if c.quantity is not None:
            return f"lab:{cid}:{_quantity_key(c.quantity)}"
        return f"lab:{cid}:{c.qualitative or 'value'}"
    if kind == "performance_status":
        assert c.quantity is not None
        return f"performance:{cid}:{_quantity_key(c.quantity)}"
    if kind == "age":
        assert c.quantity is not None
        return f"age:{_quantity_key(c.quantity)}".removesuffix(":year")
    if kind == "sex":
        return f"sex:{c.value or 'any'}"
    if kind in {"pregnancy", "lactation", "menopause"}:
        key = f"{kind}:{cid}"
        if c.window is not None and c.window.relation == "duration":
            key += ":" + window_key(c.window)
        return key
    if kind == "consent":
        return "consent:informed"
    if kind in {"administrative", "investigator"}:
        return f"{kind}:{_hash(c.text)}"
    return f"text:{_hash(c.text)}"


def question_for(c: Constraint, item_text: str) -> Question:
    """The question one constraint asks, with its key and the answer that satisfies it."""
    content = _content(c)
    if content is not None:
        hit = _asked.get(content)
        if hit is not None:
            return hit
    meets: Answer = "yes" if c.polarity == "required" else "no"
    key = key_for(c)
    answerable = c.answerable
    text = _question_text(c, item_text)
    question = build(Question, {"key": key, "text": text, "meets": meets,
                               "answerable": answerable, "kind": "yes_no"})
    if content is not None and len(_asked) < _ASKED_LIMIT:
        _asked[content] = question
    return question


# Questions by what they depend on, for the kinds whose question does not quote the
# criterion's text: the same constraint recurs in many trials.
_ASKED_LIMIT: Final = 8_192
_asked: Final[dict[tuple[object, ...], Question]] = {}
_TEXT_FREE: Final = frozenset({"condition", "medication", "procedure", "disease_duration",
                        "allergy",
                        "measurement", "performance_status", "age", "sex", "pregnancy",
                        "lactation", "menopause"})


def _content(c: Constraint) -> tuple[object, ...] | None:
    """Everything :func:`key_for` and the question text read from ``c``, or None when the
    question also depends on the criterion's text."""
    if c.kind not in _TEXT_FREE:
        return None
    concept, q, w = c.concept, c.quantity, c.window
    return (c.kind, c.polarity, c.value, c.qualitative,
            (concept.id, concept.name) if concept is not None else None,
            tuple((alt.id, alt.name) for alt in c.any_of) if c.any_of else None,
            (q.comparator, q.value, q.value_high, q.unit, q.normalized_value,
             q.normalized_value_high, q.normalized_unit) if q is not None else None,
            (w.relation, w.amount, w.unit, w.comparator) if w is not None else None)


def _question_text(c: Constraint, item_text: str) -> str:
    if not c.answerable:
        return _template("unanswerable").format(text=_short(item_text))
    if c.any_of and c.kind in _GROUPABLE:
        names = ", ".join(dict.fromkeys(alt.name for alt in c.any_of))
        if c.kind == "allergy":
            return _template("allergy").format(name=_or_list(c.any_of))
        base = _single_text(c, c.any_of[0], item_text)
        first = c.any_of[0].name
        if first in base:
            return base.replace(first, _or_list(c.any_of), 1)
        return _template("any_of").format(names=names)
    return _single_text(c, c.concept, item_text)


def _single_text(c: Constraint, concept: Concept | None, item_text: str) -> str:
    """The question text of ``c`` about ``concept`` alone (one alternative of ``any_of``)."""
    q = rules.questions()
    kind = c.kind
    name = concept.name if concept else ""
    cid = concept.id if concept else None
    if kind in {"condition", "medication", "procedure", "disease_duration"}:
        group = "condition" if kind == "disease_duration" else kind
        window = c.window
        slot: str = window.relation if window else "ever"
        if c.value == "stable":
            slot = "stable"
        custom = _concept_template(cid, slot)
        template = custom or _template(group, slot)
        cmp_text = ""
        if window is not None and window.relation == "duration" and window.amount is not None:
            w = window_text(window)
            cmp_text = q.duration_comparators[window.comparator or "ge"].format(
                w=w, v=number(window.amount))
        return template.format(name=name, window=window_text(window) if window else "",
                               cmp=cmp_text)
    if kind == "allergy":
        return (_concept_template(cid, "allergy") or _template("allergy")).format(name=name)
    if kind in {"measurement", "performance_status"}:
        custom = _concept_template(cid, "measurement")
        if c.quantity is None:
            return _template("measurement_qualitative").format(
                name=name, qualitative=c.qualitative or "normal")
        cmp_text = _cmp_text(q.comparators, c.quantity, c.quantity.unit)
        if custom:
            return custom.format(name=name, cmp=cmp_text)
        return _template("performance_status" if kind == "performance_status"
                         else "measurement").format(name=name, cmp=cmp_text)
    if kind == "age":
        assert c.quantity is not None
        unit = "months" if c.quantity.unit == "month" else "years"
        cmp_text = q.age_comparators[c.quantity.comparator].format(
            v=number(c.quantity.value), v2=number(c.quantity.value_high or 0), u=unit)
        return _template("age").format(cmp=cmp_text)
    if kind == "sex":
        return _template("sex", c.value or "any")
    if kind in {"pregnancy", "lactation", "menopause"}:
        if c.window is not None and c.window.relation == "duration":
            custom = _concept_template(cid, "duration")
            if custom:
                w = window_text(c.window)
                cmp_text = q.duration_comparators[c.window.comparator or "ge"].format(
                    w=w, v=number(c.window.amount or 0))
                return custom.format(cmp=cmp_text)
        custom = _concept_template(cid, kind)
        if custom:
            return custom
        return _template("condition", "current").format(name=name)
    return _template("other").format(text=_short(item_text))


def _or_list(concepts: list[Concept]) -> str:
    names = list(dict.fromkeys(alt.name for alt in concepts))
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def item_question(constraints: list[Constraint], section: str, item_text: str) -> Question:
    """The one question an item asks: its constraint's, or the item text for several."""
    main = [c for c in constraints if not c.exception]
    answerable = [c for c in main if c.answerable and c.question is not None]
    if len(answerable) == 1:
        assert answerable[0].question is not None
        return answerable[0].question
    meets: Answer = "yes" if section == "inclusion" else "no"
    if answerable:
        keys = sorted({c.question.key for c in answerable if c.question is not None})
        if len(keys) == 1:
            q = answerable[0].question
            assert q is not None
            return q
        # built unvalidated like the constraints' questions: every field is given, of
        # its type (items asking several questions are common; validation cost shows)
        return build(Question, {"key": "all:" + "&".join(keys),
                                "text": _template("combined").format(text=_short(item_text)),
                                "meets": meets, "answerable": True, "kind": "yes_no"})
    if main and main[0].question is not None:
        return main[0].question
    return Question(key=f"text:{_hash(item_text)}",
                    text=_template("other").format(text=_short(item_text)),
                    meets=meets, answerable=True)
