"""Which numbers are ages and which are time windows, and what a window means.

A value in years or months next to an age cue ("aged 18 or older", "65 years old") is an
age; another value with a time unit becomes a window whose relation ("within", "before",
"duration") is read from the words around it ("within the past 6 months", "at least 3
months prior"). Apart from the number reader because it works on the values it found.
"""

from __future__ import annotations

import re
from typing import Final

from trialscout.criteria.found import Mention
from trialscout.criteria.mention_rules import Compiled
from trialscout.criteria.tokens import Token
from trialscout.criteria.values import token_index_before

_AGE_LEFT: Final = re.compile(r"\b(?:age[sd]?|aged\s+between|age\s+between|age\s+range)\b"
                       r"[\s:,(]*(?:of\s+|at\s+|is\s+|between\s+|range\s+|from\s+)?"
                       r"(?:[\w≥≤<>=]+\s*){0,3}$", re.IGNORECASE)
_AGE_RIGHT: Final = re.compile(r"\s?(?:-\s?)?(?:of\s+age|old|olds?)\b"
                        r"|\s?(?:years?|yrs?)\s+(?:of\s+age|old)"
                        r"|\s*(?:or|and)\s+(?:older|younger|over|above)\b", re.IGNORECASE)
_AGE_SUFFIX: Final = re.compile(r"\s*,?\s*(?:or|and)\s+(older|over|above|more|greater|younger|less|"
                         r"under|below)\b", re.IGNORECASE)
# "patients over 18 years", "adults older than 65 years": a bound right after who the
# item is about is their age (not "diabetes for over 10 years")
_AGE_PERSON: Final = re.compile(
    r"\b(?:patients?|subjects?|participants?|adults?|individuals?|persons?|people|men|women|"
    r"males?|females?|children|volunteers?|infants?|adolescents?)\s+(?:(?:who\s+are|aged)\s+)?"
    r"(?:over|above|under|below|(?:older|younger|greater|more|less)\s+than|at\s+least|"
    r"[<>≤≥]=?)\s*$", re.IGNORECASE)
# ages that are not the person's ("gestational age < 23 weeks", "bone age")
_OTHER_AGE: Final = re.compile(r"\b(?:gestational|gestation|bone|skeletal|corrected|"
                               r"post-?conceptional|postmenstrual|fetal)\s+age\b", re.IGNORECASE)
_AGE_COMPARATOR: Final = re.compile(r"\b(?:older|younger|aged)\b", re.IGNORECASE)
_APART: Final = re.compile(r"\s*apart\b", re.IGNORECASE)


def _window_left(text: str, tokens: list[Token], start: int, c: Compiled) -> tuple[str, int]:
    """The window words before a duration ("within the past"), and where they start."""
    k = token_index_before(tokens, start)
    new_start = start
    words: list[str] = []
    if k >= 0 and tokens[k].low in c.window_recency and tokens[k].end >= start - 2:
        words.insert(0, tokens[k].low)
        new_start = tokens[k].start
        k -= 1
    if k >= 0 and tokens[k].low in {"the", "a"} and tokens[k].end >= new_start - 2:
        new_start_the = tokens[k].start
        match = c.window_prefix.ending_at(text, tokens, k - 1) if k > 0 else None
        if match is not None and tokens[k - 1].end >= new_start_the - 2:
            return " ".join([match.payload, *words]), match.start
        if words:
            return " ".join(words), new_start
        return "", start
    if k >= 0 and tokens[k].end >= new_start - 2:
        match = c.window_prefix.ending_at(text, tokens, k)
        if match is not None:
            return " ".join([match.payload, *words]), match.start
    return " ".join(words), new_start


def classify_values(text: str, tokens: list[Token], values: list[Mention],
                     temporal: list[Mention], c: Compiled, heading: str | None) -> None:
    """Decide which values are ages and which are time windows; record the windows."""
    heading_age = bool(heading) and (heading or "").strip().casefold().startswith("age")
    for v in values:
        q0 = v.quantity[0] if v.quantity else v.start
        left = text[max(0, v.start - 40):q0]
        # an age in days or weeks ("age > 1 day") only right after the word age
        is_age_unit = v.time_unit in {"year", "month"} or (
            v.time_unit is None and v.unit is None) or (
            v.time_unit in {"day", "week"} and v.value_high is None
            and _AGE_LEFT.search(left) is not None and not _OTHER_AGE.search(left))
        if is_age_unit:
            age_left = _AGE_LEFT.search(left) or _AGE_COMPARATOR.search(text, v.start, q0) \
                or (v.time_unit == "year" and _AGE_PERSON.search(left))
            age_right = _AGE_RIGHT.match(text, v.quantity[1] if v.quantity else v.end)
            if age_left or age_right or (heading_age and v.unit is None):
                if v.time_unit is None and v.value is not None and not 0 < v.value < 130:
                    continue
                if v.time_unit is None and not (age_left or age_right) and \
                        v.comparator is None and v.value_high is None:
                    continue
                v.subtype = "age"
                if v.time_unit is None:
                    v.time_unit = "year"
                if age_right is not None and v.comparator is None:
                    after = _AGE_SUFFIX.match(text, max(v.end, age_right.end()))
                    if after:
                        v.comparator = "le" if after.group(1).casefold() in {
                            "younger", "less", "under", "below"} else "ge"
                continue
        if v.time_unit is None or (v.time_unit == "hour" and v.comparator is None):
            continue
        v.type = "time_value"
        if _APART.match(text, v.end) is not None:
            # "two measurements at least 90 days apart": a spacing, not a window
            continue
        prefix, start = _window_left(text, tokens, v.start, c)
        right = c.window_right.match(text, v.end)
        suffix = right.group().strip().casefold() if right else ""
        end = right.end() if right else v.end
        temporal.append(Mention("temporal", start, end, comparator=v.comparator, value=v.value,
                                value_high=v.value_high, time_unit=v.time_unit,
                                relation=_window_relation(prefix, suffix, v.comparator),
                                subtype="window"))


def _window_relation(prefix: str, suffix: str, comparator: str | None) -> str:
    first = prefix.split(" ")[0] if prefix else ""
    if first in {"for", "duration", "since", "lasting"}:
        return "duration"
    if first in {"within", "in", "during", "over"} or any(
            w in prefix for w in ("past", "last", "previous", "preceding", "recent")):
        if comparator in {"gt", "ge"} and suffix.startswith(("prior", "before", "ago")):
            return "before"
        return "within"
    if suffix.startswith(("prior", "before", "preceding", "ago", "earlier", "previously")):
        if comparator in {"gt", "ge"} or prefix.startswith("at least"):
            return "before"
        return "within"
    if prefix.startswith("at least") or comparator in {"gt", "ge"}:
        return "duration"
    if comparator in {"lt", "le"}:
        return "within"
    return "duration"
