"""Folding criterion verdicts through a section's logic tree (three-valued).

Each leaf is an item's verdict, read as the truth of the item's own statement (its
``holds``): for an inclusion, that the patient meets it; for an exclusion, that the
excluding condition is present. True, False, or None when not known (or not checked yet).
``all`` is false as soon as one member is false and true when every member is true;
``any`` is true as soon as one member is true and false when every member is false;
``at_least k`` is true with k true members and false when fewer than k can still be.

The inclusion tree must come out true and the exclusion tree false. A criterion the
patient cannot check (consent, investigator judgement, administrative) or one that only
lets a group in holds nobody back: it is left out of an inclusion ``all``, counts as not
known among alternatives (it might be the one met), and never excludes.

Besides the value, the fold says which leaves make the tree fail and which leave it open:
a failed alternative inside a satisfied ``any`` fails nothing, and the alternatives still
open inside a satisfied group are not asked. A failing tree also carries the confidence
of its failure: a group that fails through one member as sure as that member, one that
fails only because every alternative failed as sure as its least sure alternative.
"""

from __future__ import annotations

from typing import Final

from trialscout.criteria.model import LogicNode, LogicOp, ParsedCriteria
from trialscout.matching.model import CriterionVerdict

INCLUSION: Final = "inclusion"
EXCLUSION: Final = "exclusion"
# A leaf that holds nobody back (see the module docstring).
NEUTRAL: Final = 2


class Fold:
    """The value of a (sub)tree and the leaves behind it.

    ``failing``: leaves that make it fail (empty unless it fails); ``unknown``: leaves
    whose answer could still change it (empty when it is satisfied); ``confidence``: how
    sure a failure is (0 when it does not fail).
    """

    __slots__ = ("confidence", "failing", "unknown", "value")

    def __init__(self, value: bool | None, failing: list[int], unknown: list[int],
                 confidence: float = 0.0) -> None:
        self.value = value
        self.failing = failing
        self.unknown = unknown
        self.confidence = confidence

    def __repr__(self) -> str:
        return (f"Fold(value={self.value}, failing={self.failing}, unknown={self.unknown}, "
                f"confidence={self.confidence})")


def leaf_truth(verdict: CriterionVerdict | None, section: str) -> bool | int | None:
    """The truth of a leaf in the tree of ``section``: the verdict's ``holds`` (negated
    when matching read the item as the other section's, as an inclusion that says it
    excludes), None when not known or not evaluated, :data:`NEUTRAL` when it holds
    nobody back."""
    if verdict is None:
        return None
    if not verdict.checkable or not verdict.applicable:
        return NEUTRAL
    if verdict.verdict == "UNKNOWN":
        return None
    holds = verdict.holds
    if holds is None:
        passed = verdict.verdict == "MET"
        holds = passed if verdict.section == INCLUSION else not passed
    return holds if verdict.section == section else not holds


def fold(node: LogicNode, verdicts: dict[int, CriterionVerdict], section: str,
         default_confidence: float = 1.0) -> Fold:
    """Fold ``verdicts`` (by item index; a missing one is not known) through ``node``."""
    target = section == INCLUSION
    members: list[tuple[bool | None, Fold]] = []
    for index in node.items:
        verdict = verdicts.get(index)
        truth = leaf_truth(verdict, section)
        neutral = truth == NEUTRAL
        if neutral:
            if not target:
                truth = False
            elif node.op == "all":
                continue
            else:
                truth = None
        value: bool | None = None if truth is None else bool(truth)
        if value is None:
            asked = verdict is not None and not neutral
            members.append((None, Fold(None, [], [index] if asked else [])))
        elif value == target:
            members.append((value, Fold(value, [], [])))
        else:
            confidence = verdict.confidence if verdict is not None and \
                verdict.confidence is not None else (
                    1.0 if index < 0 else default_confidence)
            members.append((value, Fold(value, [index], [], confidence)))
    for child in node.children:
        result = fold(child, verdicts, section, default_confidence)
        members.append((result.value, result))
    value = _combine(node, [m[0] for m in members], target)
    if value == target:
        return Fold(value, [], [])
    if value is None:
        return Fold(None, [], [i for v, f in members if v is None for i in f.unknown])
    # what is open inside a failing member still matters should its failure be undone
    unknown = [i for v, f in members if v != target for i in f.unknown]
    failed = [f for v, f in members if v is not None and v != target]
    failing = [i for f in failed for i in f.failing]
    one_suffices = (node.op == "all") if target else (node.op == "any")
    confidences = [f.confidence for f in failed]
    confidence = (max(confidences) if one_suffices else min(confidences)) if confidences \
        else 0.0
    return Fold(value, failing, unknown, confidence)


def _combine(node: LogicNode, values: list[bool | None], target: bool) -> bool | None:
    if node.op == "all":
        if any(v is False for v in values):
            return False
        return True if all(v is True for v in values) else None
    if node.op == "any":
        if any(v is True for v in values):
            return True
        return False if all(v is False for v in values) else None
    k = node.k if node.k is not None else 1
    true = sum(1 for v in values if v is True)
    open_ = sum(1 for v in values if v is None)
    if true >= k:
        return True
    if true + open_ < k:
        return False
    return None


def section_trees(parsed: ParsedCriteria | None, registry: list[int]
                  ) -> dict[str, LogicNode]:
    """The tree of each section, the registry's own criteria (``registry``: their
    verdicts' indices) joined to the inclusion root. A parse without a tree for a section
    that has items (from before trees) gets the flat one: every inclusion, any exclusion."""
    trees: dict[str, LogicNode] = {}
    logic = parsed.logic if parsed is not None else {}
    pairs: tuple[tuple[str, LogicOp], ...] = ((INCLUSION, "all"), (EXCLUSION, "any"))
    for section, op in pairs:
        tree = logic.get(section)
        if tree is None and parsed is not None:
            indices = [item.index for item in parsed.items if item.section == section]
            if indices:
                tree = LogicNode(op=op, items=indices)
        if section == INCLUSION and registry:
            tree = LogicNode(op="all", items=list(registry),
                             children=[tree] if tree is not None else [])
        if tree is not None:
            trees[section] = tree
    return trees


class TrialFold:
    """Both sections folded: whether the patient is out, in, or not known yet."""

    __slots__ = ("exclusion", "inclusion")

    def __init__(self, inclusion: Fold, exclusion: Fold) -> None:
        self.inclusion = inclusion
        self.exclusion = exclusion

    @property
    def fails(self) -> bool:
        """Decided not eligible: the inclusions fail or an exclusion applies."""
        return self.inclusion.value is False or self.exclusion.value is True

    @property
    def passes(self) -> bool:
        """Every checkable inclusion met and no exclusion met."""
        return self.inclusion.value is True and self.exclusion.value is False

    @property
    def failing(self) -> list[int]:
        return [*self.inclusion.failing, *self.exclusion.failing]

    @property
    def unknown(self) -> list[int]:
        return [*self.inclusion.unknown, *self.exclusion.unknown]

    @property
    def confidence(self) -> float:
        """How sure the surest reason for not being eligible is (0 when none)."""
        out = 0.0
        if self.inclusion.value is False:
            out = self.inclusion.confidence
        if self.exclusion.value is True:
            out = max(out, self.exclusion.confidence)
        return out


_EMPTY_INCLUSION: Final = LogicNode(op="all")
_EMPTY_EXCLUSION: Final = LogicNode(op="any")


def fold_trial(trees: dict[str, LogicNode], verdicts: dict[int, CriterionVerdict],
               default_confidence: float = 1.0) -> TrialFold:
    """Fold both sections (an absent section neither requires nor excludes anything)."""
    return TrialFold(
        fold(trees.get(INCLUSION, _EMPTY_INCLUSION), verdicts, INCLUSION,
             default_confidence),
        fold(trees.get(EXCLUSION, _EMPTY_EXCLUSION), verdicts, EXCLUSION,
             default_confidence))
