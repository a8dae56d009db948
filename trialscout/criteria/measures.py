"""Measurements and scores with their values: "eGFR ≥15 and <30", "ECOG 0-1", "HbA1c 7%".

A value is attached to the measurement before it when only link words lie between them
in one clause; a second bound joins the first into a range; a performance scale reads
its small integers and Roman numerals itself. Apart from the extractor because these
are the readers of numbers, where the rest of the extractor reads concepts and time.
"""

from __future__ import annotations

import re
from typing import Final, cast

from trialscout.criteria import units
from trialscout.criteria.draft import LOWER_BOUNDS, UPPER_BOUNDS, Draft
from trialscout.criteria.found import Found, Mention, same_clause
from trialscout.criteria.item_kinds import kinds
from trialscout.criteria.mention_rules import compiled
from trialscout.criteria.model import Comparator, Quantity

_SMALL_INTS: Final = re.compile(
    r"[\s:=(]*(?:(?:of|score|status|grade|class|ps|is|between|must\s+be|level)\s*)*"
    r"(?P<pre>≤|<|≥|>|less\s+than|greater\s+than|at\s+least|at\s+most|up\s+to|no\s+more\s+than)?"
    r"\s*(?P<nums>(?:\b(?:[0-9]{1,3}|IV|III|II|I)\b(?:\s*%)?(?:\s*(?:,|-|to|or|and|/)\s*)?){1,6})",
    re.IGNORECASE)
_ROMAN: Final = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_SCORE_NUMBERS: Final = re.compile(r"\d{1,3}|IV|III|II|I", re.IGNORECASE)
_BOUND_GAP: Final = re.compile(r"\s*(?:,\s*)?(?:and|but|&|,)?\s*(?:also\s+)?$", re.IGNORECASE)


def qualitative_near(found: Found, m: Mention) -> str | None:
    best: tuple[int, str] | None = None
    for q in found.qualitatives:
        distance = q.start - m.end if q.start >= m.end else m.start - q.end
        if distance > 40 or distance < -1 or not same_clause(found, q.start, m.start):
            continue
        if best is None or distance < best[0]:
            best = (distance, q.subtype or "")
    return best[1] if best else None


def _gap_is_link(found: Found, a: int, b: int, skip: list[Mention]) -> bool:
    links = compiled().link_words
    for tok in found.tokens:
        if tok.start >= b:
            break
        if tok.end <= a:
            continue
        if any(s.start <= tok.start < s.end for s in skip):
            continue
        if tok.low not in links and not tok.low.isdigit():
            return False
    return True


def measurements(found: Found) -> list[Draft]:
    measures = [m for m in found.concepts if m.type == "measurement" and not m.used]
    if not measures:
        return []
    perf = kinds().performance
    out: list[Draft] = []
    values = [v for v in found.values if v.type == "value" and v.subtype != "age"]
    for m in measures:
        if m.concept_id in perf:
            draft = _performance(found, m)
            if draft is not None:
                out.append(draft)
            continue
        value = None
        for v in values:
            if v.start < m.end or v.start - m.end > 70 or not same_clause(found, m.end, v.start):
                continue
            if v.comparator is None and v.unit is None and v.value_high is None:
                continue
            if _gap_is_link(found, m.end, v.start, measures + values):
                value = v
            break
        if value is not None:
            assert value.value is not None
            upper = _second_bound(found, value, values)
            unit = value.unit or (upper.unit if upper is not None else None) or \
                units.assumed_unit(m.concept_id)
            norm, norm_unit = units.normalize(value.value, unit, m.concept_id)
            norm_high = None
            if value.value_high is not None:
                norm_high, _ = units.normalize(value.value_high, unit, m.concept_id)
            quantity = Quantity(comparator=cast(Comparator, value.comparator or "eq"),
                                value=value.value,
                                value_high=value.value_high, unit=unit,
                                normalized_value=norm, normalized_value_high=norm_high,
                                normalized_unit=norm_unit)
            value.used = True
            m.used = True
            if upper is not None:
                assert upper.value is not None
                upper.used = True
                if {quantity.comparator, upper.comparator} == {"ge", "le"}:
                    low, high = sorted((value.value, upper.value))
                    n_low, n_high = sorted((norm if norm is not None else low,
                                            units.normalize(upper.value, unit,
                                                            m.concept_id)[0] or high))
                    quantity = Quantity(comparator="between", value=low, value_high=high,
                                        unit=unit, normalized_value=n_low,
                                        normalized_value_high=n_high,
                                        normalized_unit=norm_unit)
                    out.append(Draft("measurement", [m, value, upper], concept=m,
                                     quantity=quantity, start=m.start, end=upper.end))
                    continue
                up_norm, up_unit = units.normalize(upper.value, unit, m.concept_id)
                second = Quantity(comparator=cast(Comparator, upper.comparator),
                                  value=upper.value, unit=unit, normalized_value=up_norm,
                                  normalized_unit=up_unit)
                out.append(Draft("measurement", [m, upper], concept=m, quantity=second,
                                 start=m.start, end=upper.end))
            out.append(Draft("measurement", [m, value], concept=m, quantity=quantity,
                             start=m.start, end=value.end))
            continue
        qual = qualitative_near(found, m)
        if qual is not None:
            m.used = True
            out.append(Draft("measurement", [m], concept=m, qualitative=qual,
                             start=m.start, end=m.end))
    return out




def _second_bound(found: Found, value: Mention, values: list[Mention]) -> Mention | None:
    """The other end of a range written as two bounds ("≥15 and <30", "≥15 but <30")."""
    if value.value_high is not None or value.comparator is None:
        return None
    first = value.comparator
    for v in values:
        if v.start < value.end or v is value:
            continue
        if v.used or v.value is None or v.value_high is not None or v.comparator is None:
            return None
        pair = {first, v.comparator}
        if not (pair & LOWER_BOUNDS and pair & UPPER_BOUNDS):
            return None
        if not _BOUND_GAP.match(found.text, value.end, v.start) or \
                (value.unit is not None and v.unit is not None and value.unit != v.unit):
            return None
        return v
    return None


def _performance(found: Found, m: Mention) -> Draft | None:
    match = _SMALL_INTS.match(found.text, m.end)
    if match is None or not match.group("nums").strip():
        return None
    nums = []
    for tok in _SCORE_NUMBERS.findall(match.group("nums")):
        nums.append(float(_ROMAN.get(tok.casefold(), 0) or tok) if not tok.isdigit()
                    else float(tok))
    if not nums:
        return None
    pre = (match.group("pre") or "").casefold()
    low, high = min(nums), max(nums)
    if pre in {"≤", "at most", "up to", "no more than"}:
        comparator, value, value_high = "le", high, None
    elif pre in {"<", "less than"}:
        comparator, value, value_high = "lt", high, None
    elif pre in {"≥", "at least"}:
        comparator, value, value_high = "ge", low, None
    elif pre in {">", "greater than"}:
        comparator, value, value_high = "gt", low, None
    elif len(nums) == 1:
        comparator, value, value_high = "eq", low, None
    elif low == 0:
        comparator, value, value_high = "le", high, None
    elif (m.concept_id, high) in {("nyha_class", 4), ("karnofsky", 100)}:
        comparator, value, value_high = "ge", low, None
    else:
        comparator, value, value_high = "between", low, high
    unit = "%" if m.concept_id == "karnofsky" else None
    quantity = Quantity(comparator=cast(Comparator, comparator), value=value,
                        value_high=value_high, unit=unit,
                        normalized_value=value, normalized_value_high=value_high,
                        normalized_unit=unit)
    for v in found.values:
        if v.start < match.end() and v.end > m.end:
            v.used = True
    m.used = True
    end = m.end + len(match.group().rstrip(" ,/-"))
    return Draft("performance_status", [m], concept=m, quantity=quantity, start=m.start, end=end)
