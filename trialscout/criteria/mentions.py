"""Finding typed mentions in one criterion: concepts, values, time windows, negation cues.

A mention is a span of the cleaned item text with a type (condition, drug, procedure,
measurement, observation, pregnancy, value, time_value, temporal, negation, age, sex,
person, allergy) and what was understood about it (a concept id, a comparison, a time
window). Constraints are assembled from mentions in :mod:`trialscout.criteria.extract`;
the evaluation scores mentions directly against annotated corpora.

Word cues are looked up token by token (:mod:`trialscout.criteria.phrases`); numbers are
found first and only then are units and comparators matched at their positions, so the
cost stays linear in the text length and independent of how long the rule lists grow.

This module assembles them; the pieces live in modules named for what they read:
:mod:`~trialscout.criteria.found` (the plain classes), :mod:`~trialscout.criteria.mention_rules`
(the compiled rules), :mod:`~trialscout.criteria.values` (numbers and comparators),
:mod:`~trialscout.criteria.windows` (ages and time windows) and
:mod:`~trialscout.criteria.heuristics` (concepts no lexicon lists). Callers keep
importing ``Mention``, ``Found``, ``find`` and ``compiled`` from here.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import Final

from trialscout.criteria.found import Found as Found
from trialscout.criteria.found import Mention as Mention
from trialscout.criteria.heuristics import heuristic_concepts
from trialscout.criteria.lexicon import LexMatch, lexicon
from trialscout.criteria.mention_rules import NEGATION_CORE as NEGATION_CORE
from trialscout.criteria.mention_rules import ODD_CASE, Compiled
from trialscout.criteria.mention_rules import compiled as compiled
from trialscout.criteria.phrases import PhraseMatch, PhraseMatcher
from trialscout.criteria.tokens import Token, tokenize
from trialscout.criteria.values import read_values
from trialscout.criteria.windows import classify_values

_SENTENCE_BREAK: Final = re.compile(r"[;:.](?=\s|$)")
_BARE_WINDOW_UNITS: Final = frozenset({"year", "month", "week", "day"})
_TOKEN_LOW: Final = itemgetter(0)
_CONTRA_WORDS: Final = frozenset({"contraindication", "contraindications", "contraindicated",
                                  "contra"})


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
    values = read_values(text, tokens, words, covered, c)
    temporal: list[Mention] = []
    classify_values(text, tokens, values, temporal, c, heading)
    in_temporal = bytearray(len(text) + 1)
    for t in temporal:
        in_temporal[t.start:t.end] = b"\x01" * (t.end - t.start)
    odd_case = not text.isascii() and ODD_CASE.search(text) is not None
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
    concepts.extend(heuristic_concepts(text, tokens, covered, c, values))
    concepts.sort(key=lambda x: x.start)
    breaks = sorted([m.start() for m in _SENTENCE_BREAK.finditer(text)]
                    + [e.start for e in exceptions]
                    + [pos for pos in scope_breaks
                       if text[pos:pos + 9].casefold().startswith(("but ", "however",
                                                                   "whereas", "although"))])
    return Found(text, tokens, concepts, values, temporal, negations, exceptions, cues,
                 qualitatives, scope_breaks, breaks, words, contexts)


def _concept_mention(text: str, tokens: list[Token], match: LexMatch, c: Compiled) -> Mention:
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


def phrase_matches(matcher: PhraseMatcher[str], text: str) -> list[PhraseMatch[str]]:
    """Convenience for tests: phrase matches of ``matcher`` in ``text``."""
    return matcher.find(text, tokenize(text))
