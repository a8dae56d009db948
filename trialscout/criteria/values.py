"""Numbers in a criterion and the comparison written around them ("≥ 18", "15-30 mL/min").

Numbers are found first (digits, and number words only where the text holds one) and
units, ranges and comparators are then matched at their positions, so the cost stays
linear in the text length however long the unit and comparator lists grow. Ages and time
windows are told apart afterwards (:mod:`trialscout.criteria.windows`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from operator import itemgetter
from typing import Final

from trialscout.criteria import units
from trialscout.criteria.found import Mention
from trialscout.criteria.mention_rules import ODD_CASE, Compiled, phrase_key
from trialscout.criteria.tokens import Token
from trialscout.criteria.units import DAYS_PER_UNIT

COMPARATOR_SIGNS: Final = {"≥": "ge", "≤": "le", ">": "gt", "<": "lt", "=": "eq"}
_DIGIT: Final = re.compile(r"\d")
_THOUSANDS: Final = re.compile(r"-?\d{1,3}(?:,\d{3})+")
_TOKEN_END: Final = itemgetter(3)
_THAN: Final = re.compile(r"\s+than\b", re.IGNORECASE)


def number(text: str, words: dict[str, float]) -> float | None:
    """The value of a number as written ("1,500", "2,5", "six"), or None."""
    raw = text.strip().casefold()
    if raw in words:
        return words[raw]
    raw = raw.replace(",", "") if _THOUSANDS.fullmatch(raw) else raw.replace(",", ".")
    try:
        return float(raw)
    except ValueError:
        return None


def token_index_before(tokens: list[Token], pos: int) -> int:
    """Index of the last token that ends at or before ``pos`` (-1 if none)."""
    return bisect_right(tokens, pos, key=_TOKEN_END) - 1


def number_starts(text: str, words: set[str], c: Compiled) -> list[int]:
    """Where numbers may start: what ``c.num_start.finditer`` finds, found faster.

    Digits and number words never overlap, so the digit and word alternatives are
    scanned apart, each only when the text can hold one.
    """
    digit = _DIGIT.search(text)
    starts = [m.start() for m in c.digit_start.finditer(text, max(0, digit.start() - 1))] \
        if digit is not None else []
    if not words.isdisjoint(c.big_words) or (
            not text.isascii() and ODD_CASE.search(text) is not None):
        word_starts = [m.start() for m in c.word_start.finditer(text)]
        if word_starts:
            starts = sorted(starts + word_starts)
    return starts


def read_values(text: str, tokens: list[Token], words: set[str], covered: bytearray, c: Compiled
            ) -> list[Mention]:
    out: list[Mention] = []
    last_end = -1
    for p in number_starts(text, words, c):
        if p < last_end or covered[p]:
            continue
        m = c.value_rest.match(text, p)
        if m is None or not m.group("n1"):
            continue
        if covered[max(p, m.end("n1") - 1)]:
            continue
        mention = _value_mention(text, tokens, m, c)
        if mention is None:
            continue
        out.append(mention)
        last_end = mention.end
    return out


def _prefix_comparator(text: str, tokens: list[Token], p: int, c: Compiled
                       ) -> tuple[str | None, int]:
    """The comparator written just before position ``p`` and where it starts."""
    q = p
    while q > 0 and text[q - 1] in " :(":
        q -= 1
    if q > 0 and text[q - 1] in COMPARATOR_SIGNS:
        sign = text[q - 1]
        start = q - 1
        k = token_index_before(tokens, start)
        if k >= 0 and tokens[k].end >= start - 1:
            word = c.prefix_ops.ending_at(text, tokens, k)
            if word is not None and word.payload in {"ge", "le", "gt", "lt"}:
                return word.payload, word.start
        return COMPARATOR_SIGNS[sign], start
    k = token_index_before(tokens, q)
    if k < 0 or tokens[k].end < q - 1:
        return None, p
    match = c.prefix_ops.ending_at(text, tokens, k)
    if match is None:
        return None, p
    return match.payload, match.start


def _value_mention(text: str, tokens: list[Token], m: re.Match[str], c: Compiled
                   ) -> Mention | None:
    n1 = number(m.group("n1"), c.number_words)
    if n1 is None:
        return None
    comparator, start = _prefix_comparator(text, tokens, m.start("n1"), c)
    rng = m.group("rng")
    n2 = number(m.group("n2"), c.number_words) if m.group("n2") else None
    end = m.end()
    first_end = m.end("u1") if m.group("u1") else m.end("t1") if m.group("t1") else m.end("n1")
    if rng and n2 is not None:
        rng_word = rng.casefold()
        if rng_word == "and" and comparator != "between":
            n2, end = None, first_end
        elif comparator in {None, "between", "eq"} or m.group("pre2"):
            comparator = "between"
        else:
            n2, end = None, first_end
    if n2 is None and comparator == "between":
        comparator = None
    post = c.post.match(text, end)
    if post is not None and _THAN.match(text, post.end()) is not None:
        # "at least 15 and less than 30": "and less" starts the next bound
        post = None
    qty_end = end
    if post is not None:
        comparator = c.suffix_ops.get(phrase_key(post.group("post")), comparator)
        end = post.end()
    unit_text = (m.group("u2") or m.group("u1")) if n2 is not None else m.group("u1")
    time_text = (m.group("t2") or m.group("t1")) if n2 is not None else m.group("t1")
    unit_info = units.lookup(unit_text) if unit_text else None
    time_unit = c.time_forms.get(time_text.casefold()) if time_text else None
    if n2 is not None and m.group("t1") and m.group("t2"):
        first_unit = c.time_forms.get(m.group("t1").casefold())
        if first_unit and time_unit and first_unit != time_unit:
            small, large = sorted((first_unit, time_unit), key=DAYS_PER_UNIT.__getitem__)
            ratio = 12.0 if (small, large) == ("month", "year") else \
                round(DAYS_PER_UNIT[large] / DAYS_PER_UNIT[small], 2)
            if first_unit == large:
                n1 = n1 * ratio
            else:
                n2 = n2 * ratio
            time_unit = small
    if comparator == "between" and n2 is not None and n2 < n1 and n1 >= 0 <= n2:
        n1, n2 = n2, n1
    numbers = [m.span("n1")]
    if n2 is not None and m.group("n2"):
        numbers.append(m.span("n2"))
    return Mention("value", start, end, comparator=comparator, value=n1,
                   value_high=n2 if comparator == "between" else None,
                   unit=unit_info.symbol if unit_info else None, time_unit=time_unit,
                   quantity=(m.start("n1"), qty_end), numbers=numbers)
