"""The narrowest concept a criterion's own words name around what the parser found.

The criteria lexicon knows the shared vocabulary and the packaged MeSH names; the
knowledge base also knows narrower names built on them ("chronic kidney disease stage 4",
"severe renal impairment", "heart failure with reduced ejection fraction", "systemic
corticosteroids"). Read only as the parser's concept, such a criterion would be met by any
record of the broader condition: "CKD" is not "CKD stage 4". So before a presence check
the concept is widened over the words just before and after it in the item, and when the
longer phrase (or the parsed words themselves, which the vocabulary may lump into a
broader concept: "solid tumour" under cancer) names a kind of the parsed concept, that
kind is the target. The words it
took in are then part of the name, not qualifiers that leave the criterion open.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from trialscout.criteria.model import Concept, Constraint, Span
from trialscout.knowledge import knowledge
from trialscout.vocabulary import normalize_term

BEFORE: Final = 2
AFTER: Final = 5
_TOKEN: Final = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_GAP: Final = re.compile(r"^[\s()-]{0,3}$")


def refine(constraint: Constraint, context: str) -> tuple[Constraint, frozenset[str]]:
    """The constraint with each concept narrowed where its item's words name a kind of it,
    and the words (lower case) of the narrower names."""
    concepts = ([constraint.concept] if constraint.concept else []) + list(constraint.any_of)
    if not concepts or not context:
        return constraint, frozenset()
    absorbed: set[str] = set()
    changed = False
    out: list[Concept] = []
    for concept in concepts:
        found = _narrower(concept.id, concept.text, concept.span.start, context) \
            if concept.id and concept.text else None
        if found is None:
            absorbed |= _own_name(concept.id, concept.text)
            out.append(concept)
            continue
        nid, name, start, end, words = found
        absorbed |= set(words)
        changed = True
        out.append(Concept(id=nid, name=name, kind=concept.kind, text=context[start:end],
                           span=Span(start=start, end=end)))
    if not changed:
        return constraint, frozenset(absorbed)
    update: dict[str, object] = {"any_of": out[1:] if constraint.concept else out}
    if constraint.concept:
        update["concept"] = out[0]
    return constraint.model_copy(update=update), frozenset(absorbed)


@lru_cache(maxsize=16_384)
def _narrower(cid: str, text: str, at: int, context: str
              ) -> tuple[str, str, int, int, tuple[str, ...]] | None:
    """(node, its name, start, end, its words) of the longest phrase around ``text``
    (written at ``at`` in ``context``) that names a strict kind of ``cid``; None when none
    does, or when the words are not where the parser says (the same words elsewhere may
    be an exception: "malignancy except skin cancer")."""
    kb = knowledge()
    base = kb.node_id(cid)
    if base is None or context[at:at + len(text)].lower() != text.lower():
        return None
    tokens = list(_TOKEN.finditer(context))
    inside = [i for i, t in enumerate(tokens) if t.start() >= at and t.end() <= at + len(text)]
    if not inside:
        return None
    first, last = inside[0], inside[-1]
    best: tuple[str, str, int, int, tuple[str, ...]] | None = None
    for b in range(0, BEFORE + 1):
        i = first - b
        if i < 0 or not _joined(context, tokens, i, first):
            break
        for a in range(0, AFTER + 1):
            j = last + a
            if j >= len(tokens) or not _joined(context, tokens, last, j):
                break
            start, end = tokens[i].start(), tokens[j].end()
            if best is not None and end - start <= best[3] - best[2]:
                continue
            nid = kb.resolve(context[start:end])
            if nid is None or nid == base:
                continue
            # the parser's own words: a reviewed entry wins over a packaged heading
            # ("underweight" is MeSH "Thinness" to the lexicon)
            same_words = a == 0 and b == 0 and base.startswith("mesh_") and kb.curated(nid)
            if not (same_words or kb.is_a(nid, base)):
                continue
            node = kb.node(nid)
            words = tuple(t.group().lower() for t in tokens[i:j + 1])
            best = (nid, node.name if node is not None else nid, start, end, words)
    return best


@lru_cache(maxsize=16_384)
def _own_name(cid: str, text: str) -> frozenset[str]:
    """The words of ``text`` when it is the concept's own name ("severe renal impairment"
    for that concept): words that name it, not qualifiers of something broader."""
    kb = knowledge()
    node = kb.node(cid) if cid else None
    if node is None or normalize_term(text) != normalize_term(node.name):
        return frozenset()
    return frozenset(t.group().lower() for t in _TOKEN.finditer(text))


def _joined(context: str, tokens: list[re.Match[str]], i: int, j: int) -> bool:
    """Whether tokens ``i``..``j`` are one phrase (only spaces, hyphens or brackets between)."""
    return all(_GAP.match(context[tokens[k].end():tokens[k + 1].start()])
               for k in range(i, j))


_ANTI: Final = re.compile(r"\banti[- ]?$", re.IGNORECASE)


def treatment_against(constraint: Constraint, context: str) -> Constraint | bool | None:
    """A condition written after "anti-" names a treatment against it ("anti-tuberculosis
    medicines"), not the condition: the constraint about the drug class that phrase names,
    False when the phrase names none (a record of the disease must not meet it), None
    when the concept is not written that way."""
    concept = constraint.concept
    if concept is None or not concept.text:
        return None
    at, end = concept.span.start, concept.span.end
    if context[at:end].lower() != concept.text.lower():
        return None
    anti = _ANTI.search(context[max(0, at - 6):at])
    if anti is None:
        return None
    start = max(0, at - 6) + anti.start()
    found = _drug_phrase(context[start:], len(context[start:end]))
    if found is None:
        return False
    nid, name, length = found
    return constraint.model_copy(update={"concept": Concept(
        id=nid, name=name, kind="drug", text=context[start:start + length],
        span=Span(start=start, end=start + length))})


@lru_cache(maxsize=4096)
def _drug_phrase(text: str, least: int) -> tuple[str, str, int] | None:
    """The longest start of ``text`` (at least ``least`` characters, at most three words
    more) that names a drug class or drug, with its length."""
    kb = knowledge()
    ends = [m.end() for m in _TOKEN.finditer(text) if m.end() >= least][:4]
    for end in reversed(ends):
        nid = kb.resolve(text[:end])
        node = kb.node(nid) if nid is not None else None
        if node is not None and node.kind in {"drug_class", "drug"}:
            return nid or "", node.name, end
    return None
