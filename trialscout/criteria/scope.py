"""How far a cue reaches in a criterion: negation, person and modality.

A negation cue negates the first concept after it and the concepts listed with that one
("no history of cancer or IBD"); it does not jump a coordinator to reach its first
concept ("no spontaneous menses for 5 years, or bilateral oophorectomy": the
oophorectomy is the other way to qualify, not something negated). A "non-" adjective
("non-infectious pneumonitis") belongs to its concept and negates nothing; "non-smoker"
still does. In an exclusion list, an item that opens with "No" ("No history of MI within
6 months") names the excluding event: the patient is excluded by an MI, not required to
have one.

Context cues (``rules/context.yaml``) say whose a fact is (a relative's: family history)
and how the criterion speaks of it (planned, a contraindication, a supposition). A
condition after "for" / "to treat" behind a drug or procedure is that treatment's
indication, not a criterion of its own: "never treated with bisphosphonates for
osteoporosis" negates the bisphosphonates, not the osteoporosis.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from trialscout.criteria import rules
from trialscout.criteria.lexicon import lexicon
from trialscout.criteria.mentions import Found, Mention
from trialscout.vocabulary import normalize_term

if TYPE_CHECKING:
    from trialscout.criteria.extract import Draft

_COORDINATOR: Final = re.compile(r"\b(?:or|nor)\b|,\s*and\b|\band/or\b", re.IGNORECASE)
_LEADING: Final = frozenset(" \t-*•·.:;()[]")
_CONTEXT_KINDS: Final = {
    "family": frozenset({"condition", "disease_duration"}),
    "planned": frozenset({"procedure", "medication", "pregnancy"}),
    "contraindication": frozenset({"procedure", "medication"}),
    "hypothetical": frozenset({"condition", "disease_duration", "procedure", "medication",
                               "pregnancy"}),
}
_LINK_SKIP: Final = frozenset({"or", "and", "a", "an", "any", "their", "his", "her", "the",
                               "both", "either", "one"})
_BOTH_PRE_GAP: Final = 25
_CONDITIONAL_REACH: Final = 100
_INDICATION: Final = re.compile(
    r"^\s*(?:\([^()]{0,60}\)\s*)?"
    r"(?:(?:used|given|prescribed|taken|received|indicated|approved)\s+)?"
    r"(?:for\s+(?:the\s+)?(?:treatment|prevention|management|therapy)\s+of|for|"
    r"to\s+(?:treat|prevent|manage|control))\s+"
    r"(?:(?:the|a|an|any|their|his|her|its)\s+)?(?:(?!\d)[\w'-]+\s+){0,4}$",
    re.IGNORECASE)
_LIST_GAP: Final = re.compile(r"^\s*(?:,\s*)?(?:or|and|and/or|nor|,)?\s*(?:other\s+|any\s+)?$",
                              re.IGNORECASE)
_POST_FOLLOW: Final = re.compile(
    r"\s*(?:$|[,;:.)(]|(?:during|in|within|for|at|by|before|prior|after|until|to|this|the|"
    r"next|over|throughout|while)\b)", re.IGNORECASE)
_ALSO_ACTUAL: Final = re.compile(
    r"\b(?:had|has|have|received|receiving|currently|current|recent|undergone|undergoing|"
    r"taking|using|on|ongoing)\s*,?\s*(?:or|and/or)\s+(?:is\s+|are\s+)?$", re.IGNORECASE)
# between two concepts of one list, and between a concept and a post cue
_CHAIN_GAP: Final = re.compile(
    r"\s*(?:[,/(]\s*)?(?:\b(?:or|and|and/or|nor|with|of)\b\s*)?(?:\b(?:any|other|a|an|the)\s+)?"
    r"|\s*\([^()]{0,60}", re.IGNORECASE)
_AHEAD: Final = re.compile(r"\b(?:next|coming|upcoming|following|future)\b", re.IGNORECASE)
_POST_GAP: Final = re.compile(r"[^;:]{0,40}?", re.IGNORECASE)
_CLASS_WORDS: Final = ("medication", "medications", "treatment", "therapy", "drug", "drugs")
_PRESENCE: Final = frozenset({"condition", "disease_duration"})
_TREATMENTS: Final = frozenset({"medication", "procedure"})
_DEFINED_BY_VALUE: Final = frozenset({"condition", "observation"})


class _ContextSpec:
    __slots__ = ("post", "pre", "restart", "shared")

    def __init__(self, pre: int, post: int, restart: re.Pattern[str],
                 shared: re.Pattern[str]) -> None:
        self.pre = pre
        self.post = post
        self.restart = restart
        self.shared = shared


@lru_cache(maxsize=1)
def _spec() -> _ContextSpec:
    spec = rules.context()
    restart = re.compile(r"(?:,|;|\bor\b|\band\b)\s+(?:a\s+|any\s+)?(?:"
                         + "|".join(re.escape(w) for w in spec.restart) + r")\b",
                         re.IGNORECASE)
    shared = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in spec.shared)
                        + r")\s*(?:or|and/or|and|/)\s*(?:immediate\s+|close\s+)?$",
                        re.IGNORECASE)
    return _ContextSpec(spec.reach["pre"], spec.reach["post"], restart, shared)


def negate(found: Found, drafts: Sequence[Draft], section: str) -> None:
    """Flip the drafts a negation cue reaches (see the module docstring for the reach)."""
    if not found.negations:
        return
    starts = [m.start for m in found.concepts]
    for d in drafts:
        if d.concept is None or d.kind in {"age", "sex"}:
            continue
        anchor = d.concept
        for cue in found.negations:
            if cue.subtype == "pre" and cue.end <= anchor.start:
                if anchor.start - cue.end > 100 or \
                        found.clause(cue.start) != found.clause(anchor.start):
                    continue
                if found.breaks_between(cue.end, anchor.start):
                    continue
                if not _reaches(found, cue, anchor, starts):
                    continue
                if d.quantity is not None and _bound_after_gap(found, cue, anchor, starts):
                    continue
                d.mentions.append(cue)
                if not (section == "exclusion" and (_leading_no(found.text, cue)
                                                    or _prohibition(found.text, cue))):
                    d.negated = not d.negated
                break
            if cue.subtype == "post" and 0 <= cue.start - anchor.end <= 2:
                d.negated = not d.negated
                d.mentions.append(cue)
                break


def _reaches(found: Found, cue: Mention, anchor: Mention, starts: list[int]) -> bool:
    """Whether a negation cue's scope reaches ``anchor``: not through a "non-" adjective,
    and not past a coordinator that follows a phrase the cue already closed with a time
    or a value before any concept ("no menses for 5 years, or oophorectomy")."""
    text = found.text
    if anchor.start - cue.end > 1 and text[cue.start:cue.end].casefold() == "non":
        return False
    i = bisect_left(starts, cue.end)
    first = min(found.concepts[i].start if i < len(starts) else anchor.start, anchor.start)
    if first - cue.end < 8:
        return True
    for m in found.temporal:
        if m.subtype == "window" and cue.end <= m.start and m.end <= first and \
                _COORDINATOR.search(text, m.end, first) is not None:
            return False
    for v in found.values:
        if cue.end <= v.start and v.end <= first and \
                _COORDINATOR.search(text, v.end, first) is not None:
            return False
    return True


def _bound_after_gap(found: Found, cue: Mention, anchor: Mention, starts: list[int]) -> bool:
    """Whether a measured bound stands apart from what a negation cue closed on: "No
    severe cardiac dysfunction, LVEF >= 50%" and "without transfusional support (hemoglobin
    > 9 g/dL)" state the bound as required; "no LVEF < 40%" and "no heart failure with
    LVEF < 40%" negate it."""
    gap = found.text[cue.end:anchor.start]
    if re.search(r"[,;]", gap):
        return True
    # a parenthesis after a named condition defines it: "no CHF (LVEF < 40%)" stays
    # negated; after a treatment it is the requirement ("without transfusions (Hb > 9)")
    if "(" not in gap:
        return False
    i = bisect_left(starts, cue.end)
    return not (i < len(starts) and starts[i] < anchor.start
                and found.concepts[i].type in _DEFINED_BY_VALUE)


def _leading_no(text: str, cue: Mention) -> bool:
    """Whether ``cue`` is the item's opening "No" (and not "No measurable disease")."""
    if text[cue.start:cue.end].casefold() != "no":
        return False
    if not all(ch in _LEADING for ch in text[:cue.start]):
        return False
    after = text[cue.end:cue.end + 30].split(None, 1)
    return not after or after[0].casefold().strip(",.;:") not in _keeps()


_PROHIBITION: Final = re.compile(
    r"(?<!\bwho )(?<!\bthat )(?<!\bwhich )\b(?:may|must|should|shall)\s*$", re.IGNORECASE)
_PROHIBITION_CUES: Final = frozenset({"must not", "should not"})


def _prohibition(text: str, cue: Mention) -> bool:
    """Whether ``cue`` is the "not" of a prohibition ("may not be receiving", "must not
    have received"): in an exclusion list it restates that the thing excludes, so it
    negates nothing. An inability ("cannot swallow") is a real negation and stays one."""
    said = text[cue.start:cue.end].casefold()
    if said in _PROHIBITION_CUES:
        return True
    return said == "not" and bool(_PROHIBITION.search(text, max(0, cue.start - 20),
                                                      cue.start))


@lru_cache(maxsize=1)
def _keeps() -> frozenset[str]:
    return frozenset(w.casefold() for w in rules.context().exclusion_no_keeps)


def apply_context(found: Found, drafts: Sequence[Draft]) -> None:
    """Set each draft's experiencer and modality from the context cues that reach it.

    A ``pre`` cue reaches the first concept after it and those listed with it ("planned
    or anticipated revascularization", "family history of breast or ovarian cancer"); a
    ``post`` cue the concept just before it and those listed with that one ("dental
    procedure (extraction, implant) planned during the study"). Something the criterion
    dates in the past ("within 30 days before ..., or planned use during the study")
    stays actual, and so does one it also names as present ("receiving or will require
    anticoagulation").
    """
    if not found.contexts:
        return
    spec = _spec()
    text = found.text
    targets = sorted((d for d in drafts if d.concept is not None), key=_start)
    if not targets:
        return
    for cue in found.contexts:
        category = cue.subtype or ""
        kinds = _CONTEXT_KINDS.get(category)
        if kinds is None:
            continue
        direction = cue.relation
        if direction == "link" and not _linked(found, cue):
            continue
        if category == "family" and spec.shared.search(text, max(0, cue.start - 40), cue.start):
            continue
        if direction == "conditional":
            _conditional(found, cue, targets)
            continue
        if direction == "both":
            direction = "post" if _POST_FOLLOW.match(text, cue.end) else "pre"
        if category != "family" and _ALSO_ACTUAL.search(text, max(0, cue.start - 40),
                                                        cue.start):
            continue
        if direction in {"pre", "link"}:
            # "a sister who had ...": a relative's link word may be a scope break
            reached = _chain_after(found, cue, targets, spec.pre, direction != "link")
        elif direction == "post":
            reached = _chain_before(found, cue, targets, spec.post)
        else:
            continue
        for d in reached:
            if d.kind not in kinds:
                continue
            if category == "family" and spec.restart.search(text, cue.end, _start(d)):
                continue
            if category != "family" and direction == "post" and d.window is not None and \
                    d.window_relation in {"within", "before", "duration"} and \
                    not _AHEAD.search(text, d.window.start, d.window.end):
                continue
            _set(d, category)


def _chain_after(found: Found, cue: Mention, targets: list[Draft], reach: int,
                 strict: bool = True) -> list[Draft]:
    text = found.text
    out: list[Draft] = []
    for d in targets:
        a = _start(d)
        if a < cue.end:
            continue
        if not out:
            if a - cue.end > reach or found.clause(cue.end) != found.clause(a) or \
                    (strict and found.breaks_between(cue.end, a)):
                return out
            out.append(d)
            continue
        gap_from = _end(out[-1])
        if a < gap_from:
            continue
        if not _CHAIN_GAP.fullmatch(text, gap_from, a):
            break
        out.append(d)
    return out


def _chain_before(found: Found, cue: Mention, targets: list[Draft], reach: int
                  ) -> list[Draft]:
    text = found.text
    out: list[Draft] = []
    for d in reversed(targets):
        b = _end(d)
        if b > cue.start:
            continue
        if not out:
            if cue.start - b > reach or not _same_span(found, b, cue.start):
                return out
            if not _POST_GAP.fullmatch(text, b, cue.start):
                return out
            out.append(d)
            continue
        gap_to = _start(out[-1])
        if b > gap_to:
            continue
        if not _CHAIN_GAP.fullmatch(text, b, gap_to):
            break
        out.append(d)
    return out


def _set(d: Draft, category: str) -> None:
    if category == "family":
        d.experiencer = "family"
    elif d.modality == "actual":
        d.modality = category


def _start(d: Draft) -> int:
    assert d.concept is not None
    return d.concept.start


def _end(d: Draft) -> int:
    assert d.concept is not None
    return d.concept.end


def _same_span(found: Found, a: int, b: int) -> bool:
    lo, hi = (a, b) if a <= b else (b, a)
    return found.clause(lo) == found.clause(hi) and not found.breaks_between(lo, hi)


def _linked(found: Found, cue: Mention) -> bool:
    """Whether a relative's noun leads on to what they had ("mother *with*", "a sister
    *who* had", "mother or father *with*")."""
    tokens = found.tokens
    i = bisect_left([t.start for t in tokens], cue.end)
    links = _links()
    for tok in tokens[i:i + 6]:
        if tok.low in links:
            return True
        if tok.low not in _LINK_SKIP and tok.low not in _relatives():
            return False
    return False


@lru_cache(maxsize=1)
def _links() -> frozenset[str]:
    return frozenset(w.casefold() for w in rules.context().family.links)


@lru_cache(maxsize=1)
def _relatives() -> frozenset[str]:
    return frozenset(w for phrase in rules.context().family.pre
                     for w in re.findall(r"\w+", phrase.casefold()))


def _conditional(found: Found, cue: Mention, targets: Sequence[Draft]) -> None:
    """"if X occurs", "should X be needed": X is supposed, not stated."""
    end = None
    for other in found.contexts:
        if other.relation == "occurs" and other.start >= cue.end and \
                other.start - cue.end <= _CONDITIONAL_REACH and \
                found.clause(other.start) == found.clause(cue.start):
            end = other.start
            break
    if end is None:
        return
    for d in targets:
        if d.kind in _CONTEXT_KINDS["hypothetical"] and cue.end <= _start(d) < end:
            _set(d, "hypothetical")


def indications(found: Found, drafts: list[Draft], generic: frozenset[str]) -> list[Draft]:
    """Drop conditions that only say what a drug or procedure was for.

    A specific treatment keeps its concept ("bisphosphonates for osteoporosis": the
    bisphosphonates). A generic one ("medication for osteoporosis") becomes the class the
    vocabulary names for it ("osteoporosis medication") or, when there is none, an
    ``other`` constraint over the whole phrase, so that neither its negation nor its
    exclusion is read as being about the condition.
    """
    conditions = [d for d in drafts if d.kind in _PRESENCE and d.concept is not None]
    if not conditions:
        return drafts
    treatments = [d for d in drafts if d.kind in _TREATMENTS and d.concept is not None]
    if not treatments:
        return drafts
    text = found.text
    conditions.sort(key=_start)
    dropped: set[int] = set()
    for t in treatments:
        t_end = _end(t)
        run: list[Draft] = []
        for c in conditions:
            if _start(c) < t_end or id(c) in dropped:
                continue
            gap_from = _end(run[-1]) if run else t_end
            gap = text[gap_from:_start(c)]
            if (_LIST_GAP.match(gap) if run else _INDICATION.match(gap)) is None:
                break
            run.append(c)
        if not run:
            continue
        for c in run:
            dropped.add(id(c))
        assert t.concept is not None
        if t.concept.concept_id in generic:
            _generic_indication(t, run)
    if not dropped:
        return drafts
    return [d for d in drafts if id(d) not in dropped]


def _generic_indication(t: Draft, run: list[Draft]) -> None:
    entries = lexicon().entries
    first = run[0].concept
    assert first is not None
    if len(run) == 1:
        for name in (first.name or "",):
            for word in _CLASS_WORDS:
                hit = entries.get(normalize_term(f"{name} {word}"))
                if hit is not None and hit[0] == "drug":
                    assert t.concept is not None
                    t.concept = Mention("drug", t.concept.start, first.end, hit[1], hit[2],
                                        hit[3])
                    t.kind = "medication"
                    t.end = max(t.end, first.end)
                    return
    t.kind = "other"
    t.concept = None
    t.end = max(t.end, _end(run[-1]))
