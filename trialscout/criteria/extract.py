"""Typed constraints from one criterion: who it is about, what must (not) be true, and when.

The extractor works on mentions (:mod:`trialscout.criteria.mentions`) and attaches them to
each other by position inside a clause: a value to the lab before it, a time window to the
drug it follows, a negation cue to the concepts in its scope. What it cannot type becomes
an ``other`` constraint carrying the item text, so nothing is dropped.

Polarity: an inclusion item's constraints are ``required`` and an exclusion item's are
``must_not``; a negated mention ("no history of", "without", "-naive") flips that.

The pieces live in modules named for what they hold: :mod:`~trialscout.criteria.item_kinds`
(whole-item kinds), :mod:`~trialscout.criteria.measures` (measurements and scores with
their values) and :mod:`~trialscout.criteria.draft` (the draft and the passes that merge
drafts). This module reads ages, status, sex, allergies, exposures and their time
windows, and turns drafts into constraints. Callers keep importing ``analyze``,
``finalize``, ``extract``, ``build_drafts`` and ``Draft`` from here.
"""

from __future__ import annotations

import re
from operator import attrgetter
from typing import Any, Final, cast

from trialscout.criteria import rules
from trialscout.criteria.construct import build, shared_span
from trialscout.criteria.draft import Draft as Draft
from trialscout.criteria.draft import dedupe, drop_generic, group_disjunctions, mark_exceptions
from trialscout.criteria.found import same_clause
from trialscout.criteria.item_kinds import kinds
from trialscout.criteria.measures import measurements, qualitative_near
from trialscout.criteria.mentions import Found, Mention, find
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
from trialscout.criteria.units import DAYS_PER_UNIT

_STABLE: Final = re.compile(r"\bstable\s+(?:dose|doses|dosage|regimen|therapy|treatment)\b|"
                     r"\bunchanged\s+dose", re.IGNORECASE)
_DIAGNOSED: Final = re.compile(r"\bdiagnos", re.IGNORECASE)
_CURRENT_IN_NAME: Final = re.compile(r"(?:current(?:ly)?|active(?:ly)?)\s", re.IGNORECASE)
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
    for kind, match in kinds().patterns.matches(text, found.words):
        if kind == "consent" and _CONSENT_AS_TIME.search(text, 0, match.start()):
            # "aged 18 or over at the time of signing informed consent": when, not what
            continue
        drafts.append(Draft(kind, [], start=match.start(), end=match.end()))
    drafts.extend(_ages(found))
    drafts.extend(_status(found))
    drafts.extend(_sex(found, section, drafts))
    drafts.extend(measurements(found))
    drafts.extend(_allergies(found))
    drafts.extend(_exposures_and_conditions(found))
    drafts = indications(found, drafts, kinds().generic)
    apply_context(found, drafts)
    negate(found, drafts, section)
    mark_exceptions(found, drafts)
    drafts = group_disjunctions(found, drafts)
    drafts = drop_generic(drafts)
    drafts = dedupe(drafts)
    if not drafts:
        drafts.append(Draft("other", [], start=0, end=len(text)))
    unread = _unread_finding(text, drafts)
    if unread is not None:
        drafts.append(unread)
    for d in drafts:
        if d.mentions:
            d.start = min(d.start, *map(_START, d.mentions))
            d.end = max(d.end, *map(_END, d.mentions))
    drafts.sort(key=_POSITION)
    return drafts


# "... on a recent CT", "... by MRI": the scan is how a finding is shown
_MEANS: Final = re.compile(r"\b(?:on|by|at|via|using|per)\s+(?:an?\s+|the\s+)?(?:(?:recent|prior|"
                           r"previous|baseline|screening|chest|contrast|repeat)\s+)*$",
                           re.IGNORECASE)
_CONTENT_WORD: Final = re.compile(r"[a-z]{4,}", re.IGNORECASE)
_NOT_FINDINGS: Final = frozenset({"patients", "patient", "subjects", "participants", "with",
                                  "evidence", "history", "documented", "confirmed", "seen",
                                  "shown", "visible", "detected", "assessed", "performed"})


def _unread_finding(text: str, drafts: list[Draft]) -> Draft | None:
    """An ``other`` draft for the words before "on a recent CT" when the scan is all the
    parser read ("pulmonary nodule on a recent CT"): the finding is the requirement, and
    a record of the scan alone must not meet it."""
    if not drafts or any(d.kind != "procedure" for d in drafts):
        return None
    first = min(d.start for d in drafts)
    means = _MEANS.search(text, 0, first)
    if means is None:
        return None
    words = [w.lower() for w in _CONTENT_WORD.findall(text[:means.start()])]
    if not any(w not in _NOT_FINDINGS for w in words):
        return None
    return Draft("other", [], start=0, end=means.start())


_CONSENT_AS_TIME: Final = re.compile(
    r"\b(?:at\s+the\s+(?:time|date|day)\s+of|(?:prior\s+)?to|before|on\s+the\s+(?:day|date)\s+of|"
    r"upon|when)\s+(?:(?:signing|giving|obtaining|providing|signature\s+of)\s+)?(?:the\s+|an?\s+)?"
    r"(?:written\s+)?(?:informed\s+)?$", re.IGNORECASE)


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
        per_year = {"month": 12.0, "week": DAYS_PER_UNIT["year"] / 7,
                    "day": DAYS_PER_UNIT["year"]}.get(unit)
        if per_year is not None:
            quantity.normalized_value = round(v.value / per_year, 3)
            quantity.normalized_value_high = round(v.value_high / per_year, 3) \
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
            qual = qualitative_near(found, m)
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
                   and same_clause(found, cue.end, m.start)]
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
        if _ALLERGY_TEST.match(found.text, cue.end):
            # "negative allergy skin test": a result of the study's own test, which a
            # record of allergies (or of none) does not give
            out.append(Draft("other", [cue], start=cue.start, end=cue.end))
        else:
            out.append(Draft("allergy", [cue], concept=generic, start=cue.start,
                             end=cue.end))
    return out


_ALLERGY_TEST = re.compile(r"\s*(?:skin\s+|prick\s+|patch\s+|blood\s+)?(?:test|tests|testing)\b",
                           re.IGNORECASE)


def _window_after(found: Found, m: Mention, relations: set[str]) -> Mention | None:
    best = None
    for t in found.temporal:
        if t.subtype != "window" or t.relation not in relations:
            continue
        if t.start >= m.end - 1 and t.start - m.end <= 60 and \
                same_clause(found, m.end, t.start) and (best is None or t.start < best.start):
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
        if t.subtype != "window" or not same_clause(found, m.start, t.start):
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


def _absent_for(found: Found, m: Mention) -> bool:
    """Whether a negation cue closes on the condition ("free of X", "no X", "X-free"), so a
    duration after it says how long the condition has been absent, not present."""
    for n in found.negations:
        if n.subtype == "pre" and n.end <= m.start and m.start - n.end <= 30 and \
                same_clause(found, n.start, m.start):
            return True
        if n.subtype == "post" and 0 <= n.start - m.end <= 2:
            return True
    return False


def _temporal_word_before(found: Found, m: Mention) -> str | None:
    best = None
    for t in found.temporal:
        if t.subtype != "word" or t.end > m.start + 1 or m.start - t.end > 40:
            continue
        if not same_clause(found, t.start, m.start):
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
            if kind == "condition" and relation == "duration" and _absent_for(found, m):
                # "free of malignancy for >= 5 years": how long it has been absent, so
                # none within that time (the negation cue still applies)
                relation = "within"
            if kind == "condition" and relation == "duration":
                draft.kind = "disease_duration"
            if kind == "medication" and relation == "duration" and _STABLE.search(text):
                draft.value = "stable"
            draft.window, draft.window_relation = window, relation
            draft.mentions.append(window)
        else:
            word = _temporal_word_before(found, m)
            if word is None and _CURRENT_IN_NAME.match(text, m.start, m.end):
                # the concept's own words say now: "current smoker", "active smoking"
                word = "current"
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
                                days=round(amount * DAYS_PER_UNIT[unit], 3),
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
