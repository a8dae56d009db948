"""The mention finder's rules, compiled once: the cue matchers and the number expressions.

``patterns.yaml``, ``entities.yaml`` and ``context.yaml`` are read once per process into
one :class:`Compiled` object, so that each reader (values, windows, heuristic concepts,
cues) only looks things up. Kept apart from the readers because building it is the
one-off start-up cost and the readers are the per-item hot path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from trialscout.criteria import rules, units
from trialscout.criteria.phrases import PhraseMatcher, PhraseSet

NEGATION_CORE: Final = frozenset({
    "no", "not", "without", "absence", "absent", "free", "negative", "denies", "denied", "never",
    "lack", "lacking", "none", "nor", "neither", "cannot", "unable", "inability", "non",
    "excluded", "excluding", "exclusion", "naive", "naïve", "prohibited", "ruled", "rule",
    "allowed", "permitted", "eligible", "can"})
AGE_GROUP_WORDS: Final = frozenset({
    "adults", "adult", "children", "child", "adolescents", "adolescent", "infants", "infant",
    "neonates", "newborns", "elderly", "minors", "minor", "older adults", "older people"})
# Characters that case-insensitive regular expressions match to ASCII letters but whose
# lower case is not that letter; when present, word gates below are skipped.
ODD_CASE: Final = re.compile("[\u0130\u0131\u017f\u212a]")


@dataclass
class Compiled:
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


def phrase_key(phrase: str) -> str:
    """A phrase as the matchers key it: case-folded, single-spaced."""
    return " ".join(phrase.casefold().split())


@lru_cache(maxsize=1)
def compiled() -> Compiled:
    pat = rules.patterns()
    ent = rules.entities()
    prefix_phrases = [(phrase, op) for op, phrases in pat.comparators.prefix.items()
                      for phrase in phrases if phrase[:1].isalnum()]
    suffix_ops: dict[str, str] = {phrase_key(phrase): op for op, phrases in
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
    age_cue = PhraseMatcher([(p, "age") for p in pat.age.cues
                             if phrase_key(p) not in AGE_GROUP_WORDS])
    scope_breaks = PhraseMatcher([(p, "break") for p in neg.scope_breaks])
    context, context_links = _context_matcher()
    return Compiled(
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
        window_recency=frozenset(phrase_key(p) for p in tp.window_recency),
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
        key = phrase_key(phrase)
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
    return matcher, frozenset(phrase_key(w) for w in spec.family.links)
