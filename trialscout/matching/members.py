"""Readings of an item's parts that the fold in :mod:`trialscout.matching.item` relies on:
what the constraint's own time window covers in the text, and "A, B or C" read member by
member, so a note that rules out one member does not rule out the list."""

from __future__ import annotations

from trialscout.criteria.model import Constraint, Item
from trialscout.matching.facts import PatientFacts
from trialscout.matching.kinds import evaluate_constraint
from trialscout.matching.outcome import PRESENCE_KINDS, Outcome


def without_windows(item: Item, context: str) -> str:
    """The item's text with its parsed time windows blanked: "for >= 5 years" is a window
    the constraint checks, not a number bound it left unread."""
    for c in item.constraints:
        span = c.window.span if c.window is not None else None
        if span is not None and 0 <= span.start < span.end <= len(context) and \
                len(context) == len(item.text):
            context = context[:span.start] + " " * (span.end - span.start) + context[span.end:]
    return context


def every_member_absent(facts: PatientFacts, constraint: Constraint, outcome: Outcome,
                         exceptions: list[str], context: str) -> Outcome:
    """"A, B or C" is absent only when each of A, B and C is: a note that rules out A
    alone leaves B and C open ("no Paget's disease" says nothing of the thyroid)."""
    if outcome.holds is not False or len(constraint.any_of) < 2 or \
            constraint.kind not in PRESENCE_KINDS or constraint.modality != "actual" or \
            constraint.experiencer == "family":
        return outcome
    open_members: list[str] = []
    silent = True
    for member in constraint.any_of:
        alone = constraint.model_copy(update={"concept": member, "any_of": []})
        got = evaluate_constraint(facts, alone, exceptions, context)
        if got.holds is not False:
            open_members.append(member.name)
            silent = silent and got.no_information
    if not open_members:
        return outcome
    # the record's silence about the rest: a closed-world reading takes them as absent
    return Outcome(None, f"{outcome.reason}; not known for {', '.join(open_members)}",
                   outcome.evidence, outcome.applicable, no_information=silent)
