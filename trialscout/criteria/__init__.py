"""Eligibility criteria: free text to typed constraints and patient-facing questions.

``parse_criteria(text)`` returns a :class:`ParsedCriteria`; ``PARSER_VERSION`` changes
whenever its output would, so stored results can be refreshed
(:mod:`trialscout.criteria.store`).
"""

from trialscout.criteria.model import (
    Constraint,
    Item,
    ParsedCriteria,
    Question,
)
from trialscout.criteria.parser import PARSER_VERSION, parse_criteria

__all__ = ["PARSER_VERSION", "Constraint", "Item", "ParsedCriteria", "Question",
           "parse_criteria"]
