"""When something in a note happened, read from the sentence around its mention.

A sentence's time expressions ("7 months ago", "for 4 years", "since March 2020", "in
2022", "at age 50", "a 10-year history of") are found once (``rules/times.yaml``). Each
mention takes the expression that belongs to it:

* the nearest expression after it in the same clause, with no other mention between them
  ("diabetes for 6 years"; "alendronate, stopped in 2022"), or else
* the nearest one before it that no earlier mention in the clause can claim ("a 10-year
  history of diabetes"; "in 2015 she had a hysterectomy").

So in "postmenopausal osteoporosis, on alendronate for 3 years" the three years belong to
alendronate, not to osteoporosis. Cue words between the two ("stopped", "last injection",
"started", "currently") say whether the time is a start, an end or the last dose. A time
is a range of dates: "in 2022" is any day of 2022, "7 months ago" one day; a window check
that the range straddles stays unknown. Nothing found means unknown, never "now".
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Final

from trialscout.criteria.units import DAYS_PER_UNIT
from trialscout.patients.rules import load_rules

_I: Final = re.IGNORECASE
# the criteria's table, with the short forms notes use
UNIT_DAYS: Final = {unit: DAYS_PER_UNIT[unit] for unit in ("day", "week", "month", "year")} | {
    "wk": DAYS_PER_UNIT["week"], "mo": DAYS_PER_UNIT["month"], "yr": DAYS_PER_UNIT["year"]}
_YEAR: Final = DAYS_PER_UNIT["year"]
DateRange = tuple[date, date]


class EventTime:
    """When one mentioned thing happened, as far as the record says.

    ``start``: when it began (diagnosis, onset, first dose); ``end``: when it ended
    (stopped, resolved); ``last``: the last dose or administration; each a range of
    possible dates (earliest, latest) or None when not said. ``current``: ongoing now
    (True), over (False), or not said (None). ``duration_days``: how long it lasted or has
    lasted, when the record gives a duration ("for 4 years").
    """

    __slots__ = ("current", "duration_days", "end", "last", "start")

    def __init__(self, start: DateRange | None = None, end: DateRange | None = None,
                 last: DateRange | None = None, current: bool | None = None,
                 duration_days: float | None = None) -> None:
        self.start = start
        self.end = end
        self.last = last
        self.current = current
        self.duration_days = duration_days

    @property
    def known(self) -> bool:
        return (self.start is not None or self.end is not None or self.last is not None
                or self.current is not None)

    @property
    def first_day(self) -> date | None:
        """The earliest day the thing can have begun (None when not said)."""
        return self.start[0] if self.start is not None else None

    @property
    def latest(self) -> DateRange | None:
        """The last moment it is known to have happened: its end, last dose, or start."""
        return self.end or self.last or self.start

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EventTime) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__
                          if getattr(self, k) is not None)
        return f"EventTime({parts})"


UNKNOWN: Final = EventTime()


class _Expr:
    __slots__ = ("after_only", "age", "duration", "end", "kind", "moment", "more", "start")

    def __init__(self, kind: str, start: int, end: int, moment: DateRange | None = None,
                 duration: float | None = None, age: float | None = None,
                 more: bool = False) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.moment = moment
        self.duration = duration
        self.age = age
        self.more = more
        self.after_only = kind == "for"


class _TimeRules:
    def __init__(self, data: dict[str, Any]) -> None:
        shapes = data["date_shapes"]
        date_any = "(?:" + "|".join([shapes["iso"], shapes["mdy"], shapes["month_year"],
                                     shapes["year"]]) + ")"
        self.numbers = {str(k).lower(): float(v) for k, v in data["number_words"].items()}
        self.months = {str(k).lower(): int(v) for k, v in data["months"].items()}
        amount = data["amount"]
        self.expressions: dict[str, re.Pattern[str]] = {}
        for kind, pattern in data["expressions"].items():
            text = str(pattern).replace("{amount}", amount).replace("{date}", date_any) \
                .replace("{iso}", shapes["iso"])
            self.expressions[str(kind)] = re.compile(_unique_groups(text), _I)
        self.cues = {str(k): re.compile(str(v), _I) for k, v in data["cues"].items()}
        self.clause_break = re.compile(data["clause_break"], _I)
        self.reach = int(data["reach"])


def _unique_groups(pattern: str) -> str:
    """Number repeated named groups (a shape used twice in one pattern): ``iy`` -> ``iy_2``."""
    seen: dict[str, int] = {}

    def rename(match: re.Match[str]) -> str:
        name = match.group(1)
        seen[name] = seen.get(name, 0) + 1
        return f"(?P<{name}" + ("" if seen[name] == 1 else f"_{seen[name]}") + ">"

    return re.sub(r"\(\?P<(\w+)>", rename, pattern)


@lru_cache(maxsize=1)
def _rules() -> _TimeRules:
    return _TimeRules(load_rules("times"))


def _group(match: re.Match[str], name: str) -> str | None:
    """The first non-empty group called ``name`` or ``name_<n>``."""
    for key, value in match.groupdict().items():
        if value and (key == name or key.startswith(name + "_")):
            return value
    return None


def _count(match: re.Match[str], rules: _TimeRules) -> float | None:
    raw = _group(match, "n")
    unit = _group(match, "unit")
    if unit is None:
        return None
    if raw is None:
        return UNIT_DAYS.get(unit.lower().rstrip("s"), _YEAR)
    n = rules.numbers.get(raw.lower())
    if n is None:
        try:
            n = float(raw)
        except ValueError:
            return None
    key = unit.lower().rstrip("s")
    return n * UNIT_DAYS.get(key, _YEAR)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _date_range(match: re.Match[str], rules: _TimeRules, ref: date) -> DateRange | None:
    """The dates an explicit date expression can mean, clipped to the reference date."""
    try:
        year_text = _group(match, "iy") or _group(match, "sy") or _group(match, "my") \
            or _group(match, "y")
        if year_text is None:
            return None
        year = int(year_text)
        month_text = _group(match, "im") or _group(match, "sm")
        name = _group(match, "mn")
        month = int(month_text) if month_text else (
            rules.months.get(name.lower().rstrip(".")) if name else None)
        day_text = _group(match, "id") or _group(match, "sd") or _group(match, "md") \
            or _group(match, "md2")
        if month is None:
            low, high = date(year, 1, 1), date(year, 12, 31)
        elif day_text is None:
            low, high = date(year, month, 1), _month_end(year, month)
        else:
            low = high = date(year, month, int(day_text))
    except ValueError:
        return None
    if low > ref:
        return None
    return low, min(high, ref)


def _before(ref: date, days: float) -> date | None:
    try:
        return ref - timedelta(days=days)
    except OverflowError:
        return None


@lru_cache(maxsize=16_384)
def _expressions(sentence: str, ref: date) -> tuple[_Expr, ...]:
    """Every time expression of a sentence, in reading order, without overlaps."""
    rules = _rules()
    found: list[_Expr] = []
    for kind, pattern in rules.expressions.items():
        for match in pattern.finditer(sentence):
            expr = _read(kind, match, rules, ref)
            if expr is not None:
                found.append(expr)
    found.sort(key=lambda e: (e.start, -(e.end - e.start)))
    kept: list[_Expr] = []
    for expr in found:
        if kept and expr.start < kept[-1].end:
            continue
        kept.append(expr)
    return tuple(kept)


def _read(kind: str, match: re.Match[str], rules: _TimeRules, ref: date) -> _Expr | None:
    start, end = match.start(), match.end()
    if kind == "recent":
        moment = _recent(match, ref)
        return None if moment is None else _Expr("date", start, end, moment=moment)
    if kind == "for_one":
        kind = "for"
    if kind in {"ago", "history", "for"}:
        days = _count(match, rules)
        if days is None:
            return None
        if kind == "ago":
            extra = 1.0 if match.group("more") else 0.0
            day = _before(ref, days + extra)
            return None if day is None else _Expr(kind, start, end, moment=(day, day))
        return _Expr(kind, start, end, duration=days)
    age = _group(match, "age")
    if age is not None:
        return _Expr("since_age" if kind == "since" else "age", start, end, age=float(age))
    moment = _date_range(match, rules, ref)
    if moment is None:
        return None
    return _Expr(kind, start, end, moment=moment)


def _recent(match: re.Match[str], ref: date) -> DateRange | None:
    """The days "yesterday", "last month", "earlier this year" can mean before ``ref``."""
    day = (_group(match, "day") or "").lower()
    if day:
        back = 1 if day == "yesterday" else 0
        moment = ref - timedelta(days=back)
        return moment, moment
    period = (_group(match, "period") or _group(match, "period2") or "").lower()
    this = (_group(match, "rel") or "this").lower() == "this"
    if period == "year":
        return date(ref.year if this else ref.year - 1, 1, 1), ref
    span = {"week": 7, "month": 31}.get(period)
    if span is None:
        return None
    return ref - timedelta(days=span if this else 2 * span), ref


def _clause(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The clause around ``start:end``: from the last break before it to the next after."""
    breaks = _rules().clause_break
    low = 0
    window = max(0, start - 400)
    for found in breaks.finditer(sentence, window, start):
        low = found.end()
    after = breaks.search(sentence, end, min(len(sentence), end + 400))
    high = after.start() if after else len(sentence)
    return low, high


# "surgery *for* a hip fracture", "a wrist fracture *in a* fall": the second mention is
# what the first was for or how it came about
_COMPLEMENT: Final = re.compile(r"(?:(?:for|of|against)\s+(?:(?:her|his|their|the|a|an)\s+)?|"
                               r"(?:in|from|during)\s+(?:a|an)\s+)$", _I)


def _complement(sentence: str, mentions: tuple[tuple[int, int], ...], start: int,
                low: int) -> bool:
    """Whether the mention at ``start`` is "for" / "of" another one right before it."""
    found = _COMPLEMENT.search(sentence, max(low, start - 20), start)
    if found is None:
        return False
    return any(found.start() - 2 <= e <= found.start() and e > low for _s, e in mentions)


def _between(mentions: tuple[tuple[int, int], ...], start: int, end: int, low: int,
             high: int) -> list[tuple[int, int]]:
    return [(s, e) for s, e in mentions if low <= s and e <= high and (e <= start or s >= end)]


def _other_mentions(mentions: tuple[tuple[int, int], ...], start: int, end: int,
                    low: int, high: int) -> bool:
    """Whether another mention (one not overlapping ``start:end``) lies in ``low:high``."""
    return any(low <= s and e <= high and (e <= start or s >= end) for s, e in mentions)


@lru_cache(maxsize=65_536)
def event_time(sentence: str, start: int, end: int, ref: date, *,
               mentions: tuple[tuple[int, int], ...] | None = None, kind: str = "condition",
               age: float | None = None, birth: date | None = None) -> EventTime:
    """When the thing mentioned at ``sentence[start:end]`` happened (see the module text).

    ``mentions`` are the spans of the sentence's mentions (an expression never reaches
    past another one; by default the vocabulary's concepts); ``kind`` is condition,
    medication or procedure; ``age`` (the patient's age on ``ref``) or ``birth`` turn
    "at age 50" into dates. Pure, and asked again for the same mention by every criterion
    about its concept, so the answers are remembered (treat them as read-only).
    """
    rules = _rules()
    exprs = _expressions(sentence, ref)
    low, high = _clause(sentence, start, end)
    if mentions is None:
        mentions = _sentence_mentions(sentence)
    start, end = _phrase(sentence, mentions, start, end)
    chosen: list[_Expr] = []
    previous = end
    # what is "for" something else ("surgery for a hip fracture in 2019") leaves the
    # time to that something; a complement of this mention does not stand in its way
    own = not _complement(sentence, mentions, start, low)
    spans = (*mentions, (start, end))
    for expr in exprs if own else ():
        if expr.start < end:
            continue
        if expr.end > high or expr.start - previous > rules.reach or any(
                not _complement(sentence, spans, s, low)
                for s, _e in _between(mentions, start, end, previous, expr.start)):
            break
        chosen.append(expr)
        previous = expr.end
    if not chosen:
        for expr in reversed(exprs):
            if expr.end > start or expr.start < low or expr.after_only:
                continue
            if start - expr.end > rules.reach or _other_mentions(
                    mentions, start, end, expr.end, start):
                break
            if expr.kind == "history" or not _other_mentions(mentions, start, end, low,
                                                             expr.start):
                chosen.append(expr)
            break
    before = max([low, start - 40] + [e for s, e in mentions if e <= start])
    current = True if rules.cues["current"].search(
        sentence, before, min(high, end + 40)) or (
        kind == "medication" and rules.cues["on_now"].search(sentence, before, start)) \
        else None
    if kind == "condition" and _over_after(sentence, mentions, start, end, high):
        current = False
    if not chosen:
        return EventTime(current=current) if current is not None else UNKNOWN
    past = bool(rules.cues["past"].search(sentence, before, start))
    return _combine(sentence, chosen, start, end, before, ref, kind, age, birth,
                    current, past)


def _over_after(sentence: str, mentions: tuple[tuple[int, int], ...], start: int, end: int,
                high: int) -> bool:
    """Whether the clause says, right after the condition and before any other mention
    bar what it was for or how it was treated, that it is over ("was cured", "and has
    been well since")."""
    found = _rules().cues["over_after"].search(sentence[end:high])
    if found is None:
        return False
    return not any(end <= s and e <= end + found.start() and not _complement(
        sentence, mentions, s, end) for s, e in mentions if (s, e) != (start, end))


def _phrase(sentence: str, mentions: tuple[tuple[int, int], ...], start: int, end: int
            ) -> tuple[int, int]:
    """The mention widened over mentions right next to it ("antiviral drugs")."""
    grown = True
    while grown:
        grown = False
        for s, e in mentions:
            if end <= s <= end + 1 and not sentence[end:s].strip():
                end, grown = e, True
            elif start - 1 <= e <= start and e > s and not sentence[e:start].strip() \
                    and s < start:
                start, grown = s, True
    return start, end


def _nearest_cue(sentence: str, low: int, high: int, start: int, end: int, ending: str
                 ) -> str | None:
    """Which of the last / ending / start cues in ``low:high`` is nearest the mention
    (``ending`` is "stop" for treatments, "resolved" for conditions)."""
    best: tuple[int, str] | None = None
    for name in ("last", ending, "start"):
        for found in _rules().cues[name].finditer(sentence, max(0, low), max(0, high)):
            distance = start - found.end() if found.end() <= start else \
                max(0, found.start() - end)
            if best is None or distance < best[0]:
                best = (distance, name)
    return None if best is None else best[1]


def _combine(sentence: str, chosen: list[_Expr], start: int, end: int, before: int,
             ref: date, kind: str, age: float | None, birth: date | None,
             current: bool | None, past: bool) -> EventTime:
    out = EventTime(current=current)
    for expr in chosen:
        # cues between the mention and the expression, or inside it ("until 2018")
        high = expr.end if expr.start >= end else start
        low = before if expr.start >= end else expr.start
        moment = expr.moment
        if expr.kind in {"age", "since_age"} and expr.age is not None:
            moment = _from_age(expr.age, ref, age, birth)
        if expr.kind in {"for", "history"} and expr.duration is not None:
            out.duration_days = expr.duration
            continue
        if moment is None:
            continue
        cue = _nearest_cue(sentence, low, high, start, end,
                           "resolved" if kind == "condition" else "stop")
        if expr.kind in {"since", "since_age"}:
            out.start = moment
            if out.current is None:
                out.current = True
        elif cue == "last":
            out.last = moment
        elif cue in {"stop", "resolved"}:
            out.end = moment
            out.current = False
        elif out.start is None:
            out.start = moment
    if out.duration_days is not None and out.start is None:
        days = out.duration_days
        anchor = out.end or out.last
        if anchor is not None:
            first, last = _before(anchor[0], days), _before(anchor[1], days)
            if first is not None and last is not None:
                out.start = (first, last)
        elif not past:
            day = _before(ref, days)
            if day is not None:
                out.start = (day, day)
            if out.current is None and kind == "condition":
                out.current = True
    if past and out.current is None and kind != "condition":
        out.current = False
    return out


def _from_age(at: float, ref: date, age: float | None, birth: date | None
              ) -> DateRange | None:
    """The dates on which someone was ``at`` years old (a year of them)."""
    if birth is not None:
        try:
            low = birth.replace(year=birth.year + int(at))
        except ValueError:
            low = birth + timedelta(days=at * _YEAR)
        high = min(low + timedelta(days=365), ref)
        return (low, high) if low <= ref else None
    if age is None or at > age:
        return None
    years = age - at
    latest = _before(ref, years * _YEAR)
    earliest = _before(ref, (years + 1) * _YEAR)
    if latest is None or earliest is None:
        return None
    return earliest, latest


@lru_cache(maxsize=4096)
def _sentence_mentions(sentence: str) -> tuple[tuple[int, int], ...]:
    """Spans of the concepts and drug-like words in a sentence (the vocabulary's)."""
    from trialscout.patients.concepts import concept_index

    spans = [(m.start, m.end) for m in concept_index().find(sentence)
             if m.kind in {"condition", "observation", "drug", "drug_class", "procedure"}]
    return tuple(spans)
