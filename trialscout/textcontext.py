"""Context for notes and criteria: whether a mention is negated, a relative's, supposed,
past, to come, or only the occasion of something else, from one rules file
(``patients/rules/context.yaml``).

Notes are read by :class:`~trialscout.patients.context.ConText` (cue scopes in a sentence,
re-exported here). Criteria are short and written in their own register, so matching asks
narrower questions of the words next to a constraint's concept ("is there a negation in
its clause?", "is it spoken of as to come?"); :func:`criterion_cues` builds those patterns
from the ``criteria`` lists of the same file, so a cue is added in one place.
"""

from __future__ import annotations

import re
from functools import cache

from trialscout.criteria.rules import phrase_regex
from trialscout.patients.context import Category, ConText, Modifier, default_context
from trialscout.patients.rules import load_rules

__all__ = ["Category", "ConText", "CriterionCues", "Modifier", "criterion_cues",
           "default_context"]

_GAP = r"(?:[\w/-]+\s+)"


class CriterionCues:
    """The compiled criterion patterns (plain class: built once, read on every item)."""

    __slots__ = ("effect", "event_before", "inability", "negation", "prospective",
                 "rationale", "says_excluded")

    def __init__(self, lists: dict[str, list[str]]) -> None:
        def words(key: str) -> str:
            return phrase_regex(lists[key])

        flags = re.IGNORECASE
        self.negation = re.compile(words("negation"), flags)
        self.inability = re.compile(words("inability"), flags)
        # an occasion and up to three words before the concept, or the study treatment's
        # anchor ("first dose of") and one word
        self.event_before = re.compile(
            rf"(?:{words('occasion')}\s+{_GAP}{{0,3}}|{words('anchor')}\s+(?:of\s+)?"
            rf"(?:treatment\s+with\s+|study\s+)?{_GAP}{{0,1}})$", flags)
        self.effect = re.compile(rf"[\s-]*{words('effect')}", flags)
        self.prospective = re.compile(
            rf"{words('prospective')}\s+(?:to|for)\s+{_GAP}{{0,6}}$|"
            rf"\b(?:will|would)\s+{words('prospective_verbs')}\s+(?:\w+\s+){{0,2}}$", flags)
        self.rationale = re.compile(words("rationale"), flags)
        self.says_excluded = re.compile(words("says_excluded"), flags)


@cache
def criterion_cues() -> CriterionCues:
    return CriterionCues(load_rules("context")["criteria"])
