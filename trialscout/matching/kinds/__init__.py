"""The truth of one constraint's statement, dispatched by its kind to one module per kind."""

from __future__ import annotations

from collections.abc import Callable

from trialscout.criteria.model import Constraint
from trialscout.matching.facts import PatientFacts
from trialscout.matching.kinds.demographics import age, sex
from trialscout.matching.kinds.duration import duration
from trialscout.matching.kinds.measurement import measurement
from trialscout.matching.kinds.performance import performance
from trialscout.matching.kinds.presence import presence
from trialscout.matching.kinds.status import reproductive_status
from trialscout.matching.kinds.unchecked import from_note_rules, other, unchecked
from trialscout.matching.outcome import Outcome

Evaluator = Callable[[PatientFacts, Constraint, list[str]], Outcome]
_EVALUATORS: dict[str, Evaluator] = {
    "age": lambda f, c, e: age(f, c),
    "sex": lambda f, c, e: sex(f, c),
    "pregnancy": lambda f, c, e: reproductive_status(f, c),
    "lactation": lambda f, c, e: reproductive_status(f, c),
    "menopause": lambda f, c, e: reproductive_status(f, c),
    "condition": lambda f, c, e: (from_note_rules(f, c) if c.concept is None and not c.any_of
                                  else None) or presence(f, c, "condition", e),
    "medication": lambda f, c, e: presence(f, c, "medication", e),
    "procedure": lambda f, c, e: presence(f, c, "procedure", e),
    "allergy": lambda f, c, e: presence(f, c, "allergy", e),
    "measurement": lambda f, c, e: measurement(f, c),
    "performance_status": lambda f, c, e: performance(f, c),
    "disease_duration": lambda f, c, e: duration(f, c),
    "consent": lambda f, c, e: unchecked(f, c),
    "administrative": lambda f, c, e: unchecked(f, c),
    "investigator": lambda f, c, e: unchecked(f, c),
    "other": other,
}


def evaluate_constraint(facts: PatientFacts, constraint: Constraint,
                        exceptions: list[str] | None = None, context: str = "") -> Outcome:
    """The truth of one constraint's statement; ``context`` is its item's full text."""
    if constraint.kind in {"condition", "medication", "procedure", "allergy"} and (
            constraint.concept is not None or constraint.any_of):
        return presence(facts, constraint, constraint.kind, exceptions or [], context)
    evaluator = _EVALUATORS.get(constraint.kind, other)
    return evaluator(facts, constraint, exceptions or [])
