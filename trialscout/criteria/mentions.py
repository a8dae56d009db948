"""Finding typed mentions in one criterion: concepts, values, time windows, negation cues.

A mention is a span of the cleaned item text with a type (condition, drug, procedure,
measurement, observation, pregnancy, value, time_value, temporal, negation, age, sex,
person, allergy) and what was understood about it (a concept id, a comparison, a time
window). Constraints are assembled from mentions in :mod:`trialscout.criteria.extract`;
the evaluation scores mentions directly against annotated corpora.

Word cues are looked up token by token (:mod:`trialscout.criteria.phrases`); numbers are
found first and only then are units and comparators matched at their positions, so the
cost stays linear in the text length and independent of how long the rule lists grow.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Final

from trialscout.criteria import rules, units
from trialscout.criteria.lexicon import LexMatch, lexicon
from trialscout.criteria.phrases import PhraseMatch, PhraseMatcher, PhraseSet
from trialscout.criteria.tokens import Token, tokenize
from trialscout.vocabulary import slug

NEGATION_CORE: Final = frozenset({
    "no", "not", "without", "absence", "absent", "free", "negative", "denies", "denied", "never",
    "lack", "lacking", "none", "nor", "neither", "cannot", "unable", "inability", "non",
    "excluded", "excluding", "exclusion", "naive", "naïve", "prohibited", "ruled", "rule",
    "allowed", "permitted", "eligible", "can"})
COMPARATOR_SIGNS: Final = {"≥": "ge", "≤": "le", ">": "gt", "<": "lt", "=": "eq"}
DOSE_UNITS: Final = frozenset({"mg", "mg/day", "mg/kg", "mcg", "g", "IU", "mL", "L"})
AGE_GROUP_WORDS: Final = frozenset({
    "adults", "adult", "children", "child", "adolescents", "adolescent", "infants", "infant",
    "neonates", "newborns", "elderly", "minors", "minor", "older adults", "older people"})
_AGE_LEFT: Final = re.compile(r"\b(?:age[sd]?|aged\s+between|age\s+between|age\s+range)\b"
                       r"[\s:,(]*(?:of\s+|at\s+|is\s+|between\s+|range\s+|from\s+)?"
                       r"(?:[\w≥≤<>=]+\s*){0,3}$", re.IGNORECASE)
_AGE_RIGHT: Final = re.compile(r"\s?(?:-\s?)?(?:of\s+age|old|olds?)\b"
                        r"|\s?(?:years?|yrs?)\s+(?:of\s+age|old)"
                        r"|\s*(?:or|and)\s+(?:older|younger|over|above)\b", re.IGNORECASE)
_AGE_SUFFIX: Final = re.compile(r"\s*,?\s*(?:or|and)\s+(older|over|above|more|greater|younger|less|"
                         r"under|below)\b", re.IGNORECASE)
_AGE_COMPARATOR: Final = re.compile(r"\b(?:older|younger|aged)\b", re.IGNORECASE)
_TIME_DAYS: Final = {"hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}
_SENTENCE_BREAK: Final = re.compile(r"[;:.](?=\s|$)")
_DIGIT: Final = re.compile(r"\d")
_THOUSANDS: Final = re.compile(r"-?\d{1,3}(?:,\d{3})+")
# Characters that case-insensitive regular expressions match to ASCII letters but whose
# lower case is not that letter; when present, word gates below are skipped.
_ODD_CASE: Final = re.compile("[\u0130\u0131\u017f\u212a]")
_BARE_WINDOW_UNITS: Final = frozenset({"year", "month", "week", "day"})
_TOKEN_LOW: Final = itemgetter(0)
_TOKEN_END: Final = itemgetter(3)
_SUFFIX_CACHE_SIZE: Final = 200_000
_THAN: Final = re.compile(r"\s+than\b", re.IGNORECASE)
_CONTRA_WORDS: Final = frozenset({"contraindication", "contraindications", "contraindicated",
                                  "contra"})
_APART: Final = re.compile(r"\s*apart\b", re.IGNORECASE)


class Mention:
    """One thing found in a criterion: a concept, a value, a time, a negation or a cue.

    A plain class rather than a dataclass: wheels compile this module, and a compiled
    class runs its own ``__init__``, where a dataclass's generated one is interpreted
    (tens of thousands of mentions are made per thousand trials). Compared by identity.
    """

    __slots__ = (
        "comparator",
        "concept_id",
        "curated",
        "end",
        "name",
        "numbers",
        "quantity",
        "relation",
        "sex",
        "start",
        "subtype",
        "time_unit",
        "type",
        "unit",
        "used",
        "value",
        "value_high",
    )

    def __init__(self, type: str, start: int, end: int, concept_id: str | None = None,
                 name: str | None = None, curated: bool = False,
                 comparator: str | None = None, value: float | None = None,
                 value_high: float | None = None, unit: str | None = None,
                 time_unit: str | None = None, quantity: tuple[int, int] | None = None,
                 numbers: list[tuple[int, int]] | None = None, relation: str | None = None,
                 sex: str | None = None, subtype: str | None = None,
                 used: bool = False) -> None:
        self.type = type
        self.start = start
        self.end = end
        self.concept_id = concept_id
        self.name = name
        self.curated = curated
        self.comparator = comparator
        self.value = value
        self.value_high = value_high
        self.unit = unit
        self.time_unit = time_unit
        self.quantity = quantity
        self.numbers: list[tuple[int, int]] = [] if numbers is None else numbers
        self.relation = relation
        self.sex = sex
        self.subtype = subtype
        self.used = used

    def __repr__(self) -> str:
        return (f"Mention({self.type!r}, {self.start}, {self.end}, "
                f"concept_id={self.concept_id!r}, subtype={self.subtype!r})")


class Found:
    """Everything found in one cleaned item text (a plain class, as :class:`Mention`)."""

    __slots__ = (
        "clause_breaks",
        "concepts",
        "contexts",
        "cues",
        "exceptions",
        "negations",
        "qualitatives",
        "scope_breaks",
        "temporal",
        "text",
        "tokens",
        "values",
        "words",
    )

    def __init__(self, text: str, tokens: list[Token], concepts: list[Mention],
                 values: list[Mention], temporal: list[Mention], negations: list[Mention],
                 exceptions: list[Mention], cues: list[Mention], qualitatives: list[Mention],
                 scope_breaks: list[int], clause_breaks: list[int],
                 words: set[str] | None = None, contexts: list[Mention] | None = None
                 ) -> None:
        self.text = text
        self.tokens = tokens
        self.concepts = concepts
        self.values = values
        self.temporal = temporal
        self.negations = negations
        self.exceptions = exceptions
        self.cues = cues
        self.qualitatives = qualitatives
        self.scope_breaks = scope_breaks
        self.clause_breaks = clause_breaks
        self.words: set[str] = set() if words is None else words
        # family, planned, contraindication and hypothetical cues (rules/context.yaml):
        # ``subtype`` the category, ``relation`` the direction ("pre", "post", "both",
        # "link": a relative's noun that reaches on only through a link word,
        # "conditional" / "occurs": the two ends of "if X occurs")
        self.contexts: list[Mention] = [] if contexts is None else contexts

    def all(self) -> list[Mention]:
        return sorted(self.concepts + self.values + self.temporal + self.negations
                      + self.exceptions + self.cues + self.qualitatives,
                      key=lambda m: (m.start, m.end))

    def clause(self, pos: int) -> int:
        return bisect_right(self.clause_breaks, pos)

    def breaks_between(self, a: int, b: int) -> bool:
        """Whether a negation-scope break lies in ``[a, b)``."""
        i = bisect_left(self.scope_breaks, a)
        return i < len(self.scope_breaks) and self.scope_breaks[i] < b


@dataclass
class _Compiled:
    num_start: re.Pattern[str]
    digit_start: re.Pattern[str]
    word_start: re.Pattern[str]
    big_words: frozenset[str]
    cue_phrases: PhraseSet[str]
    value_rest: re.Pattern[str]
    post: re.Pattern[str]
    prefix_ops: PhraseMatcher[str]
    window_prefix: PhraseMatcher[str]
    window_recency: frozenset[str]
    window_right: re.Pattern[str]
    bare_window: re.Pattern[str]
    temporal_words: PhraseMatcher[str]
    negation: PhraseMatcher[str]
    sex: PhraseMatcher[str]
    life_stage: PhraseMatcher[str]
    age_cue: PhraseMatcher[str]
    allergy: PhraseMatcher[str]
    qualitative: PhraseMatcher[str]
    scope_breaks: PhraseMatcher[str]
    suffix_ops: dict[str, str]
    number_words: dict[str, float]
    time_forms: dict[str, str]
    specimen: frozenset[str]
    suffix_condition: tuple[str, ...]
    suffix_procedure: tuple[str, ...]
    condition_stop: frozenset[str]
    procedure_stop: frozenset[str]
    procedure_heads: frozenset[str]
    procedure_modifiers: frozenset[str]
    condition_heads: frozenset[str]
    link_words: frozenset[str]
    measurement_heads: frozenset[str]
    stopwords: frozenset[str]
    status: dict[str, str]
    context_links: frozenset[str]
    suffix_types: dict[str, str | None] = field(default_factory=dict)


def _key(phrase: str) -> str:
    return " ".join(phrase.casefold().split())


@lru_cache(maxsize=1)
def compiled() -> _Compiled:
    pat = rules.patterns()
    ent = rules.entities()
    prefix_phrases = [(phrase, op) for op, phrases in pat.comparators.prefix.items()
                      for phrase in phrases if phrase[:1].isalnum()]
    suffix_ops: dict[str, str] = {_key(phrase): op for op, phrases in
                                  pat.comparators.suffix.items() for phrase in phrases}
    time_forms: dict[str, str] = {}
    for unit, spec in pat.time_units.items():
        for form in spec.forms:
            time_forms[form.casefold()] = unit
    number_words = {k.casefold(): v for k, v in pat.number_words.items()}
    big_words = [w for w in number_words if len(w) > 2]
    time_re = "(?:" + "|".join(re.escape(f) for f in sorted(time_forms, key=len, reverse=True)) \
        + r")(?![a-z0-9])"
    unit_re = units.unit_regex()
    digits = r"(?:\d{1,3}(?:,\d{3})+(?![\d.])|\d+(?:[.,]\d+)?)(?![\d])"
    worded = r"|(?:" + "|".join(big_words) + r")\b(?=\s+(?:\(\d+\)\s*)?" + time_re + r"))"
    num = r"(?:-?" + digits + worded
    num2 = r"(?:(?<![\w.,/^])-?" + digits + worded
    value_rest = re.compile(
        r"(?P<n1>" + num + r")(?:\s?\(\d+(?:\.\d+)?\))?"
        r"(?:\s?(?:(?P<t1>" + time_re + r")|(?P<u1>" + unit_re + r")))?"
        r"(?:\s?(?P<rng>-|to|and|through|until)\s?(?:(?P<pre2>≤|<|≥|>)\s?)?"
        r"(?P<n2>" + num2 + r")(?:\s?\(\d+(?:\.\d+)?\))?"
        r"(?:\s?(?:(?P<t2>" + time_re + r")|(?P<u2>" + unit_re + r")))?)?",
        re.IGNORECASE)
    post = re.compile(r"\s?(?P<post>" + rules.phrase_regex(list(suffix_ops)) + r")",
                      re.IGNORECASE)
    tp = pat.temporal
    window_right = re.compile(
        r"\s*(?:" + rules.phrase_regex(tp.window_suffix) + r")(?:\s+(?:the\s+)?(?:"
        + rules.phrase_regex(tp.anchors) + r"))?", re.IGNORECASE)
    bare_window = re.compile(
        r"\b(?:(?:within|in|during|over|for)\s+)?(?:the\s+)?(?:past|last|previous|prior|preceding)"
        r"\s+(?P<unit>year|month|week|day)\b", re.IGNORECASE)
    temporal_phrases = [(phrase, kind) for kind, phrases in tp.words.items() for phrase in phrases]
    neg = pat.negation
    negation = PhraseMatcher(
        [(p, "pseudo") for p in neg.pseudo] + [(p, "exception") for p in neg.exceptions]
        + [(p, "pre") for p in neg.pre] + [(p, "post") for p in neg.post])
    qual = PhraseMatcher([(p, name) for name, phrases in pat.qualitative.items() for p in phrases])
    digit_re = r"(?<![\w.,\-/^])-?\d|(?<=[-/])\d"
    word_re = r"\b(?:" + "|".join(big_words) + r")\b"
    num_start = re.compile(digit_re + "|" + word_re, re.IGNORECASE)
    temporal_words: PhraseMatcher[str] = PhraseMatcher(temporal_phrases)
    sex = PhraseMatcher([(p, "any") for p in pat.sex.any] + [(p, "female") for p in pat.sex.female]
                        + [(p, "male") for p in pat.sex.male])
    life_stage = PhraseMatcher([(p, "person") for p in ent.life_stage_words])
    allergy = PhraseMatcher([(p, "allergy") for p in pat.allergy.cues])
    age_cue = PhraseMatcher([(p, "age") for p in pat.age.cues if _key(p) not in AGE_GROUP_WORDS])
    scope_breaks = PhraseMatcher([(p, "break") for p in neg.scope_breaks])
    context, context_links = _context_matcher()
    return _Compiled(
        num_start=num_start,
        digit_start=re.compile(digit_re, re.IGNORECASE),
        word_start=re.compile(word_re, re.IGNORECASE),
        big_words=frozenset(big_words),
        cue_phrases=PhraseSet([temporal_words, negation, sex, life_stage, allergy, age_cue, qual,
                               scope_breaks, context]),
        value_rest=value_rest,
        post=post,
        prefix_ops=PhraseMatcher(prefix_phrases),
        window_prefix=PhraseMatcher([(p, p) for p in tp.window_prefix]),
        window_recency=frozenset(_key(p) for p in tp.window_recency),
        window_right=window_right,
        bare_window=bare_window,
        temporal_words=temporal_words,
        negation=negation,
        sex=sex,
        life_stage=life_stage,
        age_cue=age_cue,
        allergy=allergy,
        qualitative=qual,
        scope_breaks=scope_breaks,
        suffix_ops=suffix_ops,
        number_words=number_words,
        time_forms=time_forms,
        specimen=frozenset(s.casefold() for s in ent.specimen_prefixes),
        suffix_condition=tuple(ent.condition_suffixes),
        suffix_procedure=tuple(ent.procedure_suffixes),
        condition_stop=frozenset(ent.condition_suffix_stopwords),
        procedure_stop=frozenset(ent.procedure_suffix_stopwords),
        procedure_heads=frozenset(ent.procedure_heads),
        procedure_modifiers=frozenset(ent.procedure_modifiers),
        condition_heads=frozenset(ent.generic_condition_heads),
        link_words=frozenset(ent.measurement_links),
        measurement_heads=frozenset(ent.measurement_heads),
        stopwords=frozenset(ent.stopwords),
        status=dict(pat.status_concepts),
        context_links=context_links,
    )


def _context_matcher() -> tuple[PhraseMatcher[str], frozenset[str]]:
    """Family, planned, contraindication and hypothetical cues, payload
    ``"<category>:<direction>"``; and the link words a relative's noun needs."""
    spec = rules.context()
    phrases: dict[str, tuple[str, str]] = {}
    order: list[str] = []

    def add(phrase: str, category: str, direction: str) -> None:
        key = _key(phrase)
        known = phrases.get(key)
        if known is None:
            phrases[key] = (category, direction)
            order.append(key)
        elif known[0] == category and known[1] != direction:
            phrases[key] = (category, "both")

    for category in ("family", "planned", "contraindication", "hypothetical"):
        cues = getattr(spec, category)
        for phrase in cues.pre:
            needs_link = category == "family" and "history" not in phrase.casefold()
            add(phrase, category, "link" if needs_link else "pre")
        for phrase in cues.post:
            add(phrase, category, "post")
        for phrase in cues.conditional:
            add(phrase, category, "conditional")
        for phrase in cues.occurs:
            add(phrase, category, "occurs")
    matcher = PhraseMatcher([(key, ":".join(phrases[key])) for key in order])
    return matcher, frozenset(_key(w) for w in spec.family.links)


def _number(text: str, words: dict[str, float]) -> float | None:
    raw = text.strip().casefold()
    if raw in words:
        return words[raw]
    raw = raw.replace(",", "") if _THOUSANDS.fullmatch(raw) else raw.replace(",", ".")
    try:
        return float(raw)
    except ValueError:
        return None


def find(text: str, *, heading: str | None = None) -> Found:
    """All mentions in a cleaned criterion text."""
    c = compiled()
    tokens = tokenize(text)
    words = set(map(_TOKEN_LOW, tokens))
    covered = bytearray(len(text) + 1)
    concepts: list[Mention] = []
    for match in lexicon().find(text, tokens, words):
        mention = _concept_mention(text, tokens, match, c)
        previous = concepts[-1] if concepts else None
        if previous is not None and previous.concept_id == mention.concept_id and \
                text[previous.end:mention.start].strip() == "(" and \
                text[mention.end:mention.end + 1] == ")":
            previous.end = mention.end + 1
            covered[mention.start:previous.end] = b"\x01" * (previous.end - mention.start)
        else:
            concepts.append(mention)
        covered[match.start:match.end] = b"\x01" * (match.end - match.start)
    cues: list[Mention] = []
    values = _values(text, tokens, words, covered, c)
    temporal: list[Mention] = []
    _classify_values(text, tokens, values, temporal, c, heading)
    in_temporal = bytearray(len(text) + 1)
    for t in temporal:
        in_temporal[t.start:t.end] = b"\x01" * (t.end - t.start)
    odd_case = not text.isascii() and _ODD_CASE.search(text) is not None
    if odd_case or not words.isdisjoint(_BARE_WINDOW_UNITS):
        for m in c.bare_window.finditer(text):
            if in_temporal[m.start()]:
                continue
            in_temporal[m.start():m.end()] = b"\x01" * (m.end() - m.start())
            temporal.append(Mention("temporal", m.start(), m.end(), comparator="le", value=1.0,
                                    time_unit=m.group("unit").casefold(), relation="within",
                                    subtype="window"))
    (temporal_words, negation_cues, sex_cues, life_stage, allergy_cues, age_cues, qualitative,
     break_cues, context_cues) = c.cue_phrases.find(text, tokens, words)
    contexts = [Mention("context", pm.start, pm.end, subtype=category, relation=direction)
                for pm in context_cues for category, _, direction in (pm.payload.partition(":"),)]
    # "unable to undergo", "cannot receive": the negation word belongs to the
    # contraindication cue, which says what it means
    in_context = bytearray(len(text) + 1) if contexts else None
    if in_context is not None:
        for cx in contexts:
            if cx.subtype == "contraindication":
                in_context[cx.start:cx.end] = b"\x01" * (cx.end - cx.start)
    for pm in temporal_words:
        if in_temporal[pm.start] or covered[pm.start]:
            continue
        temporal.append(Mention("temporal", pm.start, pm.end, relation=pm.payload,
                                subtype="word"))
    negations: list[Mention] = []
    exceptions: list[Mention] = []
    for pm in negation_cues:
        if pm.payload == "pseudo":
            continue
        if pm.payload == "exception":
            exceptions.append(Mention("negation", pm.start, pm.end, subtype="exception"))
            continue
        if covered[pm.start] or (in_context is not None and in_context[pm.start]):
            continue
        first = next((k for k in range(pm.first, pm.last + 1)
                      if tokens[k].low in NEGATION_CORE), pm.first)
        last = next((k for k in range(pm.last, first - 1, -1)
                     if tokens[k].low in NEGATION_CORE), pm.last)
        negations.append(Mention("negation", tokens[first].start, tokens[last].end,
                                 subtype=pm.payload))
    in_cue = bytearray(len(text) + 1)
    for pm in sex_cues:
        cues.append(Mention("sex", pm.start, pm.end, sex=pm.payload))
        in_cue[pm.start:pm.end] = b"\x01" * (pm.end - pm.start)
    for pm in life_stage:
        if not in_cue[pm.start]:
            cues.append(Mention("person", pm.start, pm.end))
            in_cue[pm.start:pm.end] = b"\x01" * (pm.end - pm.start)
    for pm in allergy_cues:
        cues.append(Mention("allergy", pm.start, pm.end))
        in_cue[pm.start:pm.end] = b"\x01" * (pm.end - pm.start)
    if not words.isdisjoint(_CONTRA_WORDS):
        # the word itself, as the corpora label it; the contraindication is read from
        # the context cues, not as an allergy
        for k, tok in enumerate(tokens):
            if tok.low in _CONTRA_WORDS:
                end = tok.end
                if tok.low == "contra" and k + 1 < len(tokens) and \
                        text[tok.end:tokens[k + 1].start] == "-" and \
                        tokens[k + 1].low.startswith("indicat"):
                    end = tokens[k + 1].end
                elif tok.low == "contra":
                    continue
                cues.append(Mention("allergy", tok.start, end, subtype="contraindication"))
    for pm in age_cues:
        if not covered[pm.start] and not in_cue[pm.start]:
            cues.append(Mention("age", pm.start, pm.end))
    qualitatives = [Mention("qualitative", pm.start, pm.end, subtype=pm.payload)
                    for pm in qualitative]
    scope_breaks = sorted(pm.start for pm in break_cues)
    for v in values:
        covered[v.start:v.end] = b"\x01" * (v.end - v.start)
    concepts.extend(_heuristic_concepts(text, tokens, covered, c, values))
    concepts.sort(key=lambda x: x.start)
    breaks = sorted([m.start() for m in _SENTENCE_BREAK.finditer(text)]
                    + [e.start for e in exceptions]
                    + [pos for pos in scope_breaks
                       if text[pos:pos + 9].casefold().startswith(("but ", "however",
                                                                   "whereas", "although"))])
    return Found(text, tokens, concepts, values, temporal, negations, exceptions, cues,
                 qualitatives, scope_breaks, breaks, words, contexts)


def _concept_mention(text: str, tokens: list[Token], match: LexMatch, c: _Compiled) -> Mention:
    entry = match.entry
    mtype = entry.type
    if entry.concept_id in c.status and entry.concept_id not in {"contraception",
                                                                 "pregnancy_test"}:
        mtype = {"lactation": "lactation", "menopause": "menopause"}.get(
            c.status[entry.concept_id], "pregnancy")
    start = match.start
    if mtype == "measurement" and match.first > 0:
        prev = tokens[match.first - 1]
        if prev.low in c.specimen and text[prev.end:match.start] in (" ", "-"):
            start = prev.start
    return Mention(mtype, start, match.end, entry.concept_id, entry.name, entry.curated)


def _token_index_before(tokens: list[Token], pos: int) -> int:
    """Index of the last token that ends at or before ``pos`` (-1 if none)."""
    return bisect_right(tokens, pos, key=_TOKEN_END) - 1


def _number_starts(text: str, words: set[str], c: _Compiled) -> list[int]:
    """Where numbers may start: what ``c.num_start.finditer`` finds, found faster.

    Digits and number words never overlap, so the digit and word alternatives are
    scanned apart, each only when the text can hold one.
    """
    digit = _DIGIT.search(text)
    starts = [m.start() for m in c.digit_start.finditer(text, max(0, digit.start() - 1))] \
        if digit is not None else []
    if not words.isdisjoint(c.big_words) or (
            not text.isascii() and _ODD_CASE.search(text) is not None):
        word_starts = [m.start() for m in c.word_start.finditer(text)]
        if word_starts:
            starts = sorted(starts + word_starts)
    return starts


def _values(text: str, tokens: list[Token], words: set[str], covered: bytearray, c: _Compiled
            ) -> list[Mention]:
    out: list[Mention] = []
    last_end = -1
    for p in _number_starts(text, words, c):
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


def _prefix_comparator(text: str, tokens: list[Token], p: int, c: _Compiled
                       ) -> tuple[str | None, int]:
    """The comparator written just before position ``p`` and where it starts."""
    q = p
    while q > 0 and text[q - 1] in " :(":
        q -= 1
    if q > 0 and text[q - 1] in COMPARATOR_SIGNS:
        sign = text[q - 1]
        start = q - 1
        k = _token_index_before(tokens, start)
        if k >= 0 and tokens[k].end >= start - 1:
            word = c.prefix_ops.ending_at(text, tokens, k)
            if word is not None and word.payload in {"ge", "le", "gt", "lt"}:
                return word.payload, word.start
        return COMPARATOR_SIGNS[sign], start
    k = _token_index_before(tokens, q)
    if k < 0 or tokens[k].end < q - 1:
        return None, p
    match = c.prefix_ops.ending_at(text, tokens, k)
    if match is None:
        return None, p
    return match.payload, match.start


def _value_mention(text: str, tokens: list[Token], m: re.Match[str], c: _Compiled
                   ) -> Mention | None:
    n1 = _number(m.group("n1"), c.number_words)
    if n1 is None:
        return None
    comparator, start = _prefix_comparator(text, tokens, m.start("n1"), c)
    rng = m.group("rng")
    n2 = _number(m.group("n2"), c.number_words) if m.group("n2") else None
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
        comparator = c.suffix_ops.get(_key(post.group("post")), comparator)
        end = post.end()
    unit_text = (m.group("u2") or m.group("u1")) if n2 is not None else m.group("u1")
    time_text = (m.group("t2") or m.group("t1")) if n2 is not None else m.group("t1")
    unit_info = units.lookup(unit_text) if unit_text else None
    time_unit = c.time_forms.get(time_text.casefold()) if time_text else None
    if n2 is not None and m.group("t1") and m.group("t2"):
        first_unit = c.time_forms.get(m.group("t1").casefold())
        if first_unit and time_unit and first_unit != time_unit:
            small, large = sorted((first_unit, time_unit), key=_TIME_DAYS.__getitem__)
            ratio = 12.0 if (small, large) == ("month", "year") else \
                round(_TIME_DAYS[large] / _TIME_DAYS[small], 2)
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


def _window_left(text: str, tokens: list[Token], start: int, c: _Compiled) -> tuple[str, int]:
    """The window words before a duration ("within the past"), and where they start."""
    k = _token_index_before(tokens, start)
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


def _classify_values(text: str, tokens: list[Token], values: list[Mention],
                     temporal: list[Mention], c: _Compiled, heading: str | None) -> None:
    """Decide which values are ages and which are time windows; record the windows."""
    heading_age = bool(heading) and (heading or "").strip().casefold().startswith("age")
    for v in values:
        is_age_unit = v.time_unit in {"year", "month"} or (v.time_unit is None and v.unit is None)
        if is_age_unit:
            q0 = v.quantity[0] if v.quantity else v.start
            left = text[max(0, v.start - 40):q0]
            age_left = _AGE_LEFT.search(left) or _AGE_COMPARATOR.search(text, v.start, q0)
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


def _suffix_type(low: str, c: _Compiled) -> str | None:
    """The mention type a word's ending suggests ("-ectomy": procedure), if any."""
    if low.endswith(c.suffix_procedure) and low not in c.procedure_stop:
        return "procedure"
    if low.endswith(c.suffix_condition) and low not in c.condition_stop:
        return "condition"
    return None


def _heuristic_concepts(text: str, tokens: list[Token], covered: bytearray, c: _Compiled,
                        values: list[Mention]) -> list[Mention]:
    """Conditions and procedures no lexicon lists, found by word shape and head words."""
    out: list[Mention] = []
    used = [bool(covered[t.start]) for t in tokens]
    # Marking tokens used only ever reaches back to the current one, so the words worth
    # a look can be picked before the loop.
    candidates = [i for i, tok in enumerate(tokens)
                  if not used[i] and len(tok.low) >= 5 and tok.low.isalpha()]
    suffix_types = c.suffix_types
    for i in candidates:
        tok = tokens[i]
        low = tok.low
        if low in c.procedure_heads and low not in {"test", "tests", "testing", "assessment",
                                                    "evaluation", "screening", "sampling"}:
            j = i
            while j > 0 and not used[j - 1] and tokens[j - 1].low in c.procedure_modifiers \
                    and text[tokens[j - 1].end:tokens[j].start] in (" ", "-") and i - j < 3:
                j -= 1
            if j < i:
                for k in range(j, i + 1):
                    used[k] = True
                name = text[tokens[j].start:tok.end]
                out.append(Mention("procedure", tokens[j].start, tok.end, slug(name),
                                   name.lower()))
            continue
        if low in c.condition_heads:
            j = i
            while j > 0 and not used[j - 1] and tokens[j - 1].low.isalpha() and \
                    tokens[j - 1].low not in c.stopwords and \
                    tokens[j - 1].low not in c.link_words and len(tokens[j - 1].low) > 3 and \
                    tokens[j - 1].low not in NEGATION_CORE and \
                    text[tokens[j - 1].end:tokens[j].start] in (" ", "-") and i - j < 2:
                j -= 1
            if j < i:
                for k in range(j, i + 1):
                    used[k] = True
                name = text[tokens[j].start:tok.end]
                out.append(Mention("condition", tokens[j].start, tok.end, slug(name),
                                   name.lower()))
            continue
        mtype = suffix_types.get(low, "")
        if mtype == "":
            mtype = _suffix_type(low, c)
            if len(suffix_types) < _SUFFIX_CACHE_SIZE:
                suffix_types[low] = mtype
        if mtype is None:
            continue
        used[i] = True
        out.append(Mention(mtype, tok.start, tok.end, slug(tok.text), low))
    for v in values:
        if v.type != "value" or v.subtype == "age" or v.comparator is None or \
                v.unit in DOSE_UNITS:
            continue
        k = _token_index_before(tokens, v.start)
        if k < 0 or covered[tokens[k].start] or used[k]:
            continue
        j = k
        while j >= 0 and tokens[j].low in c.link_words and not used[j]:
            j -= 1
        if j < 0 or used[j] or covered[tokens[j].start] or not tokens[j].low[:1].isalpha():
            continue
        if tokens[j].low in c.stopwords and tokens[j].text == tokens[j].low:
            continue
        word = tokens[j].text
        acronym = any(ch.isupper() for ch in word[1:]) or any(ch.isdigit() for ch in word)
        if v.unit is None and tokens[j].low not in c.measurement_heads and not acronym:
            continue
        last = j
        while j > 0 and last - j < 2 and not used[j - 1] and not covered[tokens[j - 1].start] \
                and tokens[j - 1].low[:1].isalnum() and tokens[j - 1].low not in c.link_words \
                and tokens[j - 1].low not in c.stopwords \
                and text[tokens[j - 1].end:tokens[j].start] in (" ", "-"):
            j -= 1
        start, end = tokens[j].start, tokens[last].end
        name = text[start:end]
        for k2 in range(j, last + 1):
            used[k2] = True
        out.append(Mention("measurement", start, end, slug(name), name, False,
                           subtype="inferred"))
    return out


def phrase_matches(matcher: PhraseMatcher[str], text: str) -> list[PhraseMatch[str]]:
    """Convenience for tests: phrase matches of ``matcher`` in ``text``."""
    return matcher.find(text, tokenize(text))
