"""Conditions, procedures and measurements no lexicon lists, found by word shape.

A word ending like a procedure or a condition ("-ectomy", "-itis"), a generic head with
its modifiers ("bone marrow transplant", "chronic kidney disease") or a word before a
compared value ("FEV1 ≥ 50%") becomes a mention, so that a criterion about something the
lexicons miss is still typed rather than left as free text.
"""

from __future__ import annotations

from typing import Final

from trialscout.criteria.found import Mention
from trialscout.criteria.mention_rules import NEGATION_CORE, Compiled
from trialscout.criteria.tokens import Token
from trialscout.criteria.values import token_index_before
from trialscout.vocabulary import slug

DOSE_UNITS: Final = frozenset({"mg", "mg/day", "mg/kg", "mcg", "g", "IU", "mL", "L"})
_SUFFIX_CACHE_SIZE: Final = 200_000


def _suffix_type(low: str, c: Compiled) -> str | None:
    """The mention type a word's ending suggests ("-ectomy": procedure), if any."""
    if low.endswith(c.suffix_procedure) and low not in c.procedure_stop:
        return "procedure"
    if low.endswith(c.suffix_condition) and low not in c.condition_stop:
        return "condition"
    return None


def heuristic_concepts(text: str, tokens: list[Token], covered: bytearray, c: Compiled,
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
        k = token_index_before(tokens, v.start)
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
