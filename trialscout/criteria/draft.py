"""A constraint being built (:class:`Draft`) and the passes that merge drafts.

The extractor makes one draft per reading of a mention; these passes then mark what an
exception clause excepts, join "A, B or C" into one any-of draft, keep one draft per
meaning and drop a generic concept when a specific one says more. Kept apart from the
readers so that the scope marker (:mod:`trialscout.criteria.scope`) can type against
:class:`Draft` without importing the extractor.
"""

from __future__ import annotations

import re
from typing import Final

from trialscout.criteria.found import Found, Mention
from trialscout.criteria.item_kinds import kinds
from trialscout.criteria.model import Quantity

_OR_CONNECTOR: Final = re.compile(r"^\s*(?:,\s*)?(?:or|and/or|/|nor)\s*(?:any\s+|other\s+)?$",
                           re.IGNORECASE)
_LIST_CONNECTOR: Final = re.compile(r"^\s*(?:,|and|&|\+)\s*(?:any\s+|other\s+)?$", re.IGNORECASE)
LOWER_BOUNDS: Final = frozenset({"ge", "gt"})
UPPER_BOUNDS: Final = frozenset({"le", "lt"})


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
def mark_exceptions(found: Found, drafts: list[Draft]) -> None:
    for cue in found.exceptions:
        clause = found.clause(cue.start)
        for d in drafts:
            anchor = d.concept or (d.mentions[0] if d.mentions else None)
            if anchor is None or anchor.start < cue.end:
                continue
            if found.clause(anchor.start) == clause:
                d.exception = True


def group_disjunctions(found: Found, drafts: list[Draft]) -> list[Draft]:
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


def dedupe(drafts: list[Draft]) -> list[Draft]:
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
                and {first.quantity.comparator, d.quantity.comparator} & LOWER_BOUNDS \
                and {first.quantity.comparator, d.quantity.comparator} & UPPER_BOUNDS:
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


def drop_generic(drafts: list[Draft]) -> list[Draft]:
    generic = kinds().generic
    specific = [d for d in drafts if d.concept is not None and d.concept.concept_id not in generic
                and d.kind in {"condition", "medication", "procedure", "disease_duration",
                               "allergy"}]
    if not specific:
        return drafts
    return [d for d in drafts
            if not (d.concept is not None and d.concept.concept_id in generic and not d.any_of
                    and d.kind in {"condition", "medication", "procedure", "disease_duration"})]
