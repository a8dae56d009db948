"""Typed constraints from one criterion: who it is about, what must (not) be true, and when.

The extractor works on mentions (:mod:`trialscout.criteria.mentions`) and attaches them to
each other by position inside a clause: a value to the lab before it, a time window to the
drug it follows, a negation cue to the concepts in its scope. What it cannot type becomes
an ``other`` constraint carrying the item text, so nothing is dropped.

Polarity: an inclusion item's constraints are ``required`` and an exclusion item's are
``must_not``; a negated mention ("no history of", "without", "-naive") flips that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache, reduce
from itertools import repeat
from operator import attrgetter, or_
from typing import Any, Final, cast

from trialscout.criteria import rules, units
from trialscout.criteria.construct import build, shared_span
from trialscout.criteria.mentions import Found, Mention, compiled, find
from trialscout.criteria.model import (
    Comparator,
    Concept,
    Constraint,
    Quantity,
    TimeWindow,
)
from trialscout.criteria.questions import question_for
from trialscout.criteria.scope import apply_context, indications, negate
from trialscout.criteria.text import Clean

_OR_CONNECTOR: Final = re.compile(r"^\s*(?:,\s*)?(?:or|and/or|/|nor)\s*(?:any\s+|other\s+)?$",
                           re.IGNORECASE)
_LIST_CONNECTOR: Final = re.compile(r"^\s*(?:,|and|&|\+)\s*(?:any\s+|other\s+)?$", re.IGNORECASE)
_SMALL_INTS: Final = re.compile(
    r"[\s:=(]*(?:(?:of|score|status|grade|class|ps|is|between|must\s+be|level)\s*)*"
    r"(?P<pre>≤|<|≥|>|less\s+than|greater\s+than|at\s+least|at\s+most|up\s+to|no\s+more\s+than)?"
    r"\s*(?P<nums>(?:\b(?:[0-9]{1,3}|IV|III|II|I)\b(?:\s*%)?(?:\s*(?:,|-|to|or|and|/)\s*)?){1,6})",
    re.IGNORECASE)
_ROMAN: Final = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_SCORE_NUMBERS: Final = re.compile(r"\d{1,3}|IV|III|II|I", re.IGNORECASE)
_UNIT_DAYS: Final = {"hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}
_STABLE: Final = re.compile(r"\bstable\s+(?:dose|doses|dosage|regimen|therapy|treatment)\b|"
                     r"\bunchanged\s+dose", re.IGNORECASE)
_DIAGNOSED: Final = re.compile(r"\bdiagnos", re.IGNORECASE)
_EXPOSURE_KINDS: Final = {"drug": "medication", "procedure": "procedure", "condition": "condition",
                   "observation": "condition"}
_START: Final = attrgetter("start")
_END: Final = attrgetter("end")
_POSITION: Final = attrgetter("start", "end")
_CURRENT_EXPOSURE: Final = re.compile(
    r"\b(?:currently|current|concomitant|concurrent|ongoing|on-going|taking|receiving|"
    r"using|on\s+(?:a\s+)?(?:stable\s+)?(?:dose|treatment|therapy)|on)\b", re.IGNORECASE)


# "receiving chemotherapy", "undergoing dialysis", "on dialysis": a treatment under way
_ONGOING_PROCEDURE: Final = re.compile(
    r"\b(?:(?:receiving|undergoing)|(?P<on>on))\s+(?:(?:a|an|the|active|chronic|maintenance|"
    r"regular|long-term|continuous|concurrent|systemic|stable)\s+)*$", re.IGNORECASE)
_ONGOING_ON: Final = ("dialysis", "therapy", "chemotherapy", "radiotherapy", "ventilation",
                      "oxygen", "treatment")


_WINDOW_REACH: Final = 60


class Draft:
    """A constraint being built from an item's mentions (offsets into the cleaned text).

    A plain class for the reason :class:`~trialscout.criteria.mentions.Mention` is one.
    """

    __slots__ = (
        "any_of",
        "concept",
        "end",
        "exception",
        "experiencer",
        "kind",
        "mentions",
        "modality",
        "negated",
        "qualitative",
        "quantity",
        "start",
        "value",
        "window",
        "window_relation",
    )

    def __init__(self, kind: str, mentions: list[Mention], negated: bool = False,
                 exception: bool = False, concept: Mention | None = None,
                 any_of: list[Mention] | None = None, quantity: Quantity | None = None,
                 qualitative: str | None = None, window: Mention | None = None,
                 window_relation: str | None = None, value: str | None = None,
                 start: int = 0, end: int = 0) -> None:
        self.kind = kind
        self.mentions = mentions
        self.negated = negated
        self.exception = exception
        self.concept = concept
        self.any_of: list[Mention] = [] if any_of is None else any_of
        self.quantity = quantity
        self.qualitative = qualitative
        self.window = window
        self.window_relation = window_relation
        self.value = value
        self.start = start
        self.end = end
        self.experiencer = "patient"
        self.modality = "actual"


class _ItemKind:
    """One whole-item kind of ``patterns.yaml``: its triggers and its regular expressions.

    The rule is: when the lower-cased text contains a trigger, the first match of the
    alternation of the expressions is the evidence.
    """

    def __init__(self, name: str, triggers: list[str], expressions: list[str]) -> None:
        self.name = name
        lowered = [t.casefold() for t in triggers]
        self.trigger_re = re.compile("|".join(re.escape(t) for t in lowered))
        self.pattern = re.compile("|".join(f"(?:{p})" for p in expressions), re.IGNORECASE)
        self.word_triggers = tuple(t for t in lowered if _in_one_word(t))
        self.other_triggers = tuple(t for t in lowered if not _in_one_word(t))
        self.parts = [(re.compile(p, re.IGNORECASE), _required_prefixes(p))
                      for p in expressions]


def _in_one_word(literal: str) -> bool:
    """Whether ``literal`` can only occur inside one token of ASCII text."""
    return literal.isascii() and literal.isalnum()


class _ItemKinds:
    """The whole-item kinds, in file order, and their evidence in an item.

    The result is what the rule says, found faster. In ASCII text a literal made of
    letters and digits lies inside one word, so for each word seen, the kinds it
    triggers and the expressions whose required start it holds are remembered (as
    bits); an item's are the union over its words. Other triggers are looked up in the
    text. Only the expressions whose start is there are run, each on its own: the
    leftmost match, the first expression on a tie, is the alternation's match.
    """

    def __init__(self, kinds: list[_ItemKind]) -> None:
        self.kinds = kinds
        features: list[tuple[str, ...]] = []
        # per kind: its trigger bit and, per expression in order, the bit of its start
        # (0: tried only when one of its start texts is in the text; -1: always tried)
        self.plan: list[tuple[_ItemKind, int, list[tuple[int, re.Pattern[str],
                                                         tuple[str, ...] | None]]]] = []
        for kind in kinds:
            trigger_bit = 1 << len(features)
            features.append(kind.word_triggers)
            parts: list[tuple[int, re.Pattern[str], tuple[str, ...] | None]] = []
            for part, prefixes in kind.parts:
                if prefixes is None:
                    parts.append((-1, part, None))
                elif all(_in_one_word(p) for p in prefixes):
                    parts.append((1 << len(features), part, None))
                    features.append(prefixes)
                else:
                    parts.append((0, part, prefixes))
            self.plan.append((kind, trigger_bit, parts))
        self.features = [re.compile("|".join(re.escape(t) for t in literals))
                         if literals else None for literals in features]
        self.word_masks: dict[str, int] = {}

    def _mask(self, word: str) -> int:
        mask = 0
        for bit, feature in enumerate(self.features):
            if feature is not None and feature.search(word) is not None:
                mask |= 1 << bit
        if len(self.word_masks) < _WORD_CACHE_SIZE:
            self.word_masks[word] = mask
        return mask

    def matches(self, text: str, words: set[str]) -> list[tuple[str, re.Match[str]]]:
        """(kind, evidence) of each kind ``text`` (with token set ``words``) shows."""
        lowered = text.casefold()
        out = []
        if not text.isascii() and not _ascii_faithful(text):
            for kind in self.kinds:
                if kind.trigger_re.search(lowered) is not None:
                    match = kind.pattern.search(text)
                    if match is not None:
                        out.append((kind.name, match))
            return out
        masks = self.word_masks
        mask = 0
        for word in words.difference(masks):
            mask |= self._mask(word)
        mask = reduce(or_, map(masks.get, words, repeat(0)), mask)
        for kind, trigger_bit, parts in self.plan:
            if not mask & trigger_bit and not any(map(lowered.__contains__, kind.other_triggers)):
                continue
            best: re.Match[str] | None = None
            for bit, part, prefixes in parts:
                if bit > 0:
                    if not mask & bit:
                        continue
                elif prefixes is not None and not any(map(lowered.__contains__, prefixes)):
                    continue
                match = part.search(text)
                if match is not None and (best is None or match.start() < best.start()):
                    best = match
            if best is not None:
                out.append((kind.name, best))
        return out


_WORD_CACHE_SIZE: Final = 200_000
_ASCII: Final = frozenset(chr(i) for i in range(128))
# characters that case-insensitive expressions match to ASCII letters
_ODD_CASE: Final = frozenset("\u0130\u0131\u017f\u212a")
_faithful_chars: Final[dict[str, bool]] = {}


def _ascii_faithful(text: str) -> bool:
    """Whether ASCII letters and digits of ``text.casefold()`` and of case-insensitive
    matches all come from ASCII characters of ``text`` (so that literals can be looked
    up through the words, as in ASCII text): true unless a character such as "ß" or
    "K" (Kelvin) folds to or matches ASCII letters."""
    for ch in set(text).difference(_ASCII):
        safe = _faithful_chars.get(ch)
        if safe is None:
            safe = ch not in _ODD_CASE and not any(
                c.isascii() and c.isalnum() for c in ch.casefold() + ch.lower())
            _faithful_chars[ch] = safe
        if not safe:
            return False
    return True


def _required_prefixes(pattern: str) -> tuple[str, ...] | None:
    """Lower-case literal texts one of which every match of ``pattern`` starts with.

    None when that cannot be told (the expression is then always tried).
    """
    try:
        from re import _constants, _parser  # type: ignore[attr-defined]

        tree = _parser.parse(pattern, re.IGNORECASE)
        found = _prefixes(list(tree.data), _constants)
    except Exception:  # noqa: BLE001 - an unreadable expression is simply not gated
        return None
    if not found or any(not p or not p.isascii() for p in found):
        return None
    return tuple(sorted(found))


def _prefixes(ops: list[tuple[Any, Any]], constants: Any) -> set[str] | None:
    i = 0
    while i < len(ops) and ops[i][0] is constants.AT:
        i += 1
    literal = []
    while i < len(ops) and ops[i][0] is constants.LITERAL:
        literal.append(chr(ops[i][1]).lower())
        i += 1
    if literal:
        return {"".join(literal)}
    if i >= len(ops):
        return None
    op, av = ops[i]
    if op is constants.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            return None
        return _prefixes(list(sub.data), constants)
    if op is constants.BRANCH:
        out: set[str] = set()
        for branch in av[1]:
            found = _prefixes(list(branch.data), constants)
            if not found:
                return None
            out |= found
        return out
    return None


@dataclass
class _Kinds:
    patterns: _ItemKinds
    generic: frozenset[str]
    performance: frozenset[str]


@lru_cache(maxsize=1)
def _kinds() -> _Kinds:
    pat = rules.patterns()
    item_kinds = _ItemKinds([_ItemKind(kind, spec.triggers, spec.regex)
                             for kind, spec in pat.item_kinds.items()])
    return _Kinds(item_kinds, frozenset(rules.entities().generic_concepts),
                  frozenset(pat.performance_concepts))


def analyze(clean: Clean, section: str, heading: str | None = None) -> tuple[list[Draft], Found]:
    """Mentions and constraint drafts of one cleaned item (offsets into ``clean.text``)."""
    found = find(clean.text, heading=heading)
    return build_drafts(found, section, heading), found


def finalize(drafts: list[Draft], clean: Clean, source: str, section: str) -> list[Constraint]:
    """Constraints with spans into ``source`` (``clean`` maps text offsets to source)."""
    return [_finalize(d, clean, source, section) for d in drafts]


def extract(clean: Clean, source: str, section: str, heading: str | None = None
            ) -> tuple[list[Constraint], Found]:
    """Constraints of one item (spans into ``source``) and the mentions they came from."""
    drafts, found = analyze(clean, section, heading)
    return finalize(drafts, clean, source, section), found


def build_drafts(found: Found, section: str, heading: str | None) -> list[Draft]:
    text = found.text
    drafts: list[Draft] = []
    for kind, match in _kinds().patterns.matches(text, found.words):
        drafts.append(Draft(kind, [], start=match.start(), end=match.end()))
    drafts.extend(_ages(found))
    drafts.extend(_status(found))
    drafts.extend(_sex(found, section, drafts))
    drafts.extend(_measurements(found))
    drafts.extend(_allergies(found))
    drafts.extend(_exposures_and_conditions(found))
    drafts = indications(found, drafts, _kinds().generic)
    apply_context(found, drafts)
    negate(found, drafts, section)
    _mark_exceptions(found, drafts)
    drafts = _group_disjunctions(found, drafts)
    drafts = _drop_generic(drafts)
    drafts = _dedupe(drafts)
    if not drafts:
        drafts.append(Draft("other", [], start=0, end=len(text)))
    for d in drafts:
        if d.mentions:
            d.start = min(d.start, *map(_START, d.mentions))
            d.end = max(d.end, *map(_END, d.mentions))
    drafts.sort(key=_POSITION)
    return drafts


def _same_clause(found: Found, a: int, b: int) -> bool:
    return found.clause(a) == found.clause(b)


def _ages(found: Found) -> list[Draft]:
    out = []
    for v in found.values:
        if v.subtype != "age" or v.value is None:
            continue
        comparator = v.comparator or "ge"
        if v.comparator is None and v.value_high is None:
            comparator = "ge"
        unit = v.time_unit or "year"
        quantity = Quantity(comparator=cast(Comparator, comparator), value=v.value,
                            value_high=v.value_high, unit=unit)
        if unit == "month":
            quantity.normalized_value = round(v.value / 12, 3)
            quantity.normalized_value_high = round(v.value_high / 12, 3) \
                if v.value_high is not None else None
            quantity.normalized_unit = "year"
        else:
            quantity.normalized_value = v.value
            quantity.normalized_value_high = v.value_high
            quantity.normalized_unit = "year"
        v.used = True
        out.append(Draft("age", [v], quantity=quantity, start=v.start, end=v.end))
    return out


def _status(found: Found) -> list[Draft]:
    """Pregnancy, breastfeeding, menopause and contraception."""
    status = rules.patterns().status_concepts
    out: list[Draft] = []
    mentions = [m for m in found.concepts
                if m.concept_id in status and m.type in {"pregnancy", "lactation", "menopause",
                                                         "measurement", "procedure"}]
    ids = {m.concept_id for m in mentions}
    for m in mentions:
        cid = m.concept_id
        assert cid is not None
        if cid == "childbearing_potential" and "contraception" in ids:
            m.used = True
            continue
        kind = status[cid]
        draft = Draft(kind, [m], concept=m, start=m.start, end=m.end)
        if cid == "pregnancy_test":
            draft.concept = Mention("pregnancy", m.start, m.end, "pregnancy", "pregnancy", True)
            qual = _qualitative_near(found, m)
            if qual in {"negative", "normal"}:
                draft.negated = True
        if cid in {"postmenopausal", "premenopausal"}:
            window = _window_after(found, m, {"duration", "before"})
            if window is not None:
                draft.window, draft.window_relation = window, "duration"
                draft.mentions.append(window)
        m.used = True
        out.append(draft)
    return out


def _sex(found: Found, section: str, drafts: list[Draft]) -> list[Draft]:
    sexes = [m for m in found.cues if m.type == "sex"]
    if not sexes:
        return []
    if any(d.kind in {"pregnancy", "lactation"} for d in drafts):
        return []
    has_concepts = any(m.type in {"condition", "drug", "procedure", "measurement"}
                       for m in found.concepts)
    if section == "exclusion" and has_concepts:
        return []
    values = {m.sex for m in sexes}
    value = "any" if "any" in values or {"female", "male"} <= values else next(iter(values))
    if value == "any" and has_concepts:
        return []
    first = sexes[0]
    return [Draft("sex", [first], value=value, start=first.start, end=first.end)]


def _qualitative_near(found: Found, m: Mention) -> str | None:
    best: tuple[int, str] | None = None
    for q in found.qualitatives:
        distance = q.start - m.end if q.start >= m.end else m.start - q.end
        if distance > 40 or distance < -1 or not _same_clause(found, q.start, m.start):
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


def _measurements(found: Found) -> list[Draft]:
    measures = [m for m in found.concepts if m.type == "measurement" and not m.used]
    if not measures:
        return []
    perf = _kinds().performance
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
            if v.start < m.end or v.start - m.end > 70 or not _same_clause(found, m.end, v.start):
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
        qual = _qualitative_near(found, m)
        if qual is not None:
            m.used = True
            out.append(Draft("measurement", [m], concept=m, qualitative=qual,
                             start=m.start, end=m.end))
    return out


_BOUND_GAP: Final = re.compile(r"\s*(?:,\s*)?(?:and|but|&|,)?\s*(?:also\s+)?$", re.IGNORECASE)
_LOWER: Final = frozenset({"ge", "gt"})
_UPPER: Final = frozenset({"le", "lt"})


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
        if not (pair & _LOWER and pair & _UPPER):
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


def _allergies(found: Found) -> list[Draft]:
    cues = [m for m in found.cues if m.type == "allergy" and m.subtype != "contraindication"]
    if not cues:
        return []
    out: list[Draft] = []
    for cue in cues:
        targets = [m for m in found.concepts
                   if m.start >= cue.end and m.start - cue.end < 90 and not m.used
                   and m.concept_id != "allergy" and m.type in {"drug", "condition", "procedure",
                                                               "observation"}
                   and _same_clause(found, cue.end, m.start)]
        for concept in found.concepts:
            if concept.concept_id == "allergy" and concept.start <= cue.start < concept.end:
                concept.used = True
        if not targets:
            continue
        for t in targets:
            t.used = True
            out.append(Draft("allergy", [cue, t], concept=t, start=cue.start, end=t.end))
    if not out:
        cue = cues[0]
        generic = Mention("allergy", cue.start, cue.end, "allergy", "allergy", True)
        out.append(Draft("allergy", [cue], concept=generic, start=cue.start, end=cue.end))
    return out


def _window_after(found: Found, m: Mention, relations: set[str]) -> Mention | None:
    best = None
    for t in found.temporal:
        if t.subtype != "window" or t.relation not in relations:
            continue
        if t.start >= m.end - 1 and t.start - m.end <= 60 and \
                _same_clause(found, m.end, t.start) and (best is None or t.start < best.start):
            best = t
    return best


def _nearest_window(found: Found, m: Mention) -> Mention | None:
    """The time window of a concept: the nearest in its clause, but not one far after it
    past a negation ("osteoporosis ... and CKD with eGFR ≥ 15 ..., not expected to start
    dialysis within 12 months": the window is the dialysis's). A list ("MI, stroke, or
    PCI in the past 6 months") keeps its window."""
    best = None
    best_distance = 10**9
    for t in found.temporal:
        if t.subtype != "window" or not _same_clause(found, m.start, t.start):
            continue
        distance = t.start - m.end if t.start >= m.end else (m.start - t.end) * 2
        if distance < -5:
            continue
        if distance > _WINDOW_REACH and _closed_before(found, m.end, t.start):
            continue
        if distance < best_distance:
            best, best_distance = t, distance
    return best


def _closed_before(found: Found, a: int, b: int) -> bool:
    """Whether a negation cue lies in ``[a, b)`` (it starts a phrase of its own)."""
    return any(a <= n.start < b for n in found.negations)


def _temporal_word_before(found: Found, m: Mention) -> str | None:
    best = None
    for t in found.temporal:
        if t.subtype != "word" or t.end > m.start + 1 or m.start - t.end > 40:
            continue
        if not _same_clause(found, t.start, m.start):
            continue
        best = t.relation
    return best


def _exposures_and_conditions(found: Found) -> list[Draft]:
    out: list[Draft] = []
    text = found.text
    for m in found.concepts:
        if m.used or m.type not in {"drug", "procedure", "condition", "observation"}:
            continue
        kind = _EXPOSURE_KINDS[m.type]
        draft = Draft(kind, [m], concept=m, start=m.start, end=m.end)
        window = _nearest_window(found, m)
        if window is not None:
            relation = window.relation or "within"
            if kind == "condition" and relation == "before" and _DIAGNOSED.search(
                    text[max(0, m.start - 40):window.end]):
                relation = "duration"
            if kind == "condition" and relation == "duration":
                draft.kind = "disease_duration"
            if kind == "medication" and relation == "duration" and _STABLE.search(text):
                draft.value = "stable"
            draft.window, draft.window_relation = window, relation
            draft.mentions.append(window)
        else:
            word = _temporal_word_before(found, m)
            if kind == "medication" and word is None:
                left = text[max(0, m.start - 30):m.start]
                if _CURRENT_EXPOSURE.search(left):
                    word = "current"
            elif kind == "procedure" and word is None:
                left = text[max(0, m.start - 30):m.start]
                ongoing = _ONGOING_PROCEDURE.search(left)
                if ongoing is not None and (ongoing.group("on") is None or any(
                        part in (m.concept_id or "") for part in _ONGOING_ON)):
                    word = "current"
            if word in {"current"}:
                draft.window_relation = "current"
        m.used = True
        out.append(draft)
    return out


def _mark_exceptions(found: Found, drafts: list[Draft]) -> None:
    for cue in found.exceptions:
        clause = found.clause(cue.start)
        for d in drafts:
            anchor = d.concept or (d.mentions[0] if d.mentions else None)
            if anchor is None or anchor.start < cue.end:
                continue
            if found.clause(anchor.start) == clause:
                d.exception = True


def _group_disjunctions(found: Found, drafts: list[Draft]) -> list[Draft]:
    groupable = {"condition", "medication", "procedure", "allergy"}
    out: list[Draft] = []
    i = 0
    ordered = sorted(drafts, key=lambda d: d.concept.start if d.concept else d.start)
    while i < len(ordered):
        d = ordered[i]
        if d.kind not in groupable or d.concept is None:
            out.append(d)
            i += 1
            continue
        run = [d]
        has_or = False
        j = i + 1
        while j < len(ordered):
            nxt = ordered[j]
            prev = run[-1]
            if nxt.kind != d.kind or nxt.concept is None or nxt.negated != d.negated or \
                    nxt.exception != d.exception or nxt.modality != d.modality or \
                    nxt.experiencer != d.experiencer:
                break
            assert prev.concept is not None
            gap = found.text[prev.concept.end:nxt.concept.start]
            if _OR_CONNECTOR.match(gap):
                has_or = True
            elif not _LIST_CONNECTOR.match(gap) or "and" in gap.casefold().split():
                break
            run.append(nxt)
            j += 1
        if len(run) > 1 and has_or:
            merged = run[0]
            merged.any_of = [r.concept for r in run if r.concept is not None]
            window = next((r.window for r in run if r.window is not None), None)
            if window is not None and merged.window is None:
                merged.window = window
                merged.window_relation = next(r.window_relation for r in run
                                              if r.window is not None)
            for r in run[1:]:
                merged.mentions.extend(r.mentions)
            if any(r.kind == "disease_duration" for r in run):
                merged.kind = "disease_duration"
            out.append(merged)
            i = j
            continue
        out.append(d)
        i += 1
    return out


def _dedupe(drafts: list[Draft]) -> list[Draft]:
    """One draft per meaning: "denosumab (Prolia)" is one exposure, not two."""
    out: list[Draft] = []
    seen: dict[tuple[object, ...], Draft] = {}
    for d in drafts:
        if d.concept is None or d.any_of:
            out.append(d)
            continue
        key = (d.kind, d.concept.concept_id, d.negated, d.exception, d.value, d.modality,
               d.experiencer)
        first = seen.get(key)
        if first is not None and first.quantity is not None and d.quantity is not None \
                and {first.quantity.comparator, d.quantity.comparator} & _LOWER \
                and {first.quantity.comparator, d.quantity.comparator} & _UPPER:
            # two bounds of one range ("eGFR ≥15 and <30") both apply
            out.append(d)
            continue
        if first is None:
            seen[key] = d
            out.append(d)
            continue
        if first.window is None and d.window is not None:
            first.window, first.window_relation = d.window, d.window_relation
        if first.quantity is None and d.quantity is not None:
            first.quantity = d.quantity
        first.mentions.extend(d.mentions)
    return out


def _drop_generic(drafts: list[Draft]) -> list[Draft]:
    generic = _kinds().generic
    specific = [d for d in drafts if d.concept is not None and d.concept.concept_id not in generic
                and d.kind in {"condition", "medication", "procedure", "disease_duration",
                               "allergy"}]
    if not specific:
        return drafts
    return [d for d in drafts
            if not (d.concept is not None and d.concept.concept_id in generic and not d.any_of
                    and d.kind in {"condition", "medication", "procedure", "disease_duration"})]


def _concept_model(m: Mention, clean: Clean, source: str) -> Concept:
    a, b = clean.span(m.start, m.end)
    text = source[a:b]
    return build(Concept, {"id": m.concept_id or "unknown", "name": m.name or text,
                           "kind": m.type, "text": text, "span": shared_span(a, b)})


def _finalize(d: Draft, clean: Clean, source: str, section: str) -> Constraint:
    a, b = clean.span(d.start, max(d.end, d.start))
    required = (section == "inclusion") != d.negated
    window = None
    if d.window_relation is not None:
        if d.window is not None and d.window.value is not None and d.window.time_unit:
            wa, wb = clean.span(d.window.start, d.window.end)
            amount = d.window.value
            unit = d.window.time_unit
            comparator = d.window.comparator
            if d.window_relation == "duration" and comparator is None:
                comparator = "ge"
            window = TimeWindow(relation=d.window_relation,  # type: ignore[arg-type]
                                amount=amount, unit=unit,  # type: ignore[arg-type]
                                days=round(amount * _UNIT_DAYS[unit], 3),
                                comparator=comparator,  # type: ignore[arg-type]
                                span=shared_span(wa, wb))
        else:
            window = TimeWindow(relation=d.window_relation)  # type: ignore[arg-type]
    values: dict[str, Any] = {
        "kind": d.kind,
        "polarity": "required" if required else "must_not",
        "negated": d.negated,
        "exception": d.exception,
        "concept": _concept_model(d.concept, clean, source) if d.concept else None,
        "any_of": [_concept_model(m, clean, source) for m in d.any_of],
        "quantity": d.quantity,
        "qualitative": d.qualitative,
        "window": window,
        "value": d.value,
        "text": source[a:b],
        "span": shared_span(a, b),
        "question": None,
        "experiencer": d.experiencer,
        "modality": d.modality,
    }
    constraint = build(Constraint, values)
    values["question"] = question_for(constraint, clean.text)
    return constraint
