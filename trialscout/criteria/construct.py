"""Building the parser's pydantic models without validating them again, and sharing spans.

The parser builds tens of models per criterion from values it made itself, of the right
types, so validating them again took about a seventh of the parse. These helpers live
apart from the model definitions so that wheels can compile them with the rest of the
parser's hot path (see ``setup.py``); the models themselves stay pydantic classes.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

from pydantic import BaseModel

from trialscout.criteria.model import Span

M = TypeVar("M", bound=BaseModel)
_object_new: Final = object.__new__
# The setters of the attributes BaseModel keeps per instance (its __slots__).
_set_dict, _set_fields, _set_extra, _set_private = (
    BaseModel.__dict__[name].__set__ for name in (
        "__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"))


def build(cls: type[M], values: dict[str, Any]) -> M:
    """``cls(**values)`` without validating ``values``: the parser's own, already valid.

    What :meth:`~pydantic.BaseModel.model_construct` does for a model whose every field
    is given (in declaration order, as validation would store them), only faster: the
    result equals the validated model, fields set included (tests check both). Quantity
    and TimeWindow are still validated where they are made.
    """
    model = _object_new(cls)
    _set_dict(model, values)
    _set_fields(model, set(values))
    _set_extra(model, None)
    _set_private(model, None)
    return model


# Parses share equal spans: fewer objects to build, and fewer for the garbage collector
# to walk while analyses stay memoized (:mod:`trialscout.criteria.parser`). Parsed models
# are read-only, so sharing is safe. The table stops growing at SHARED_SPANS entries;
# spans first seen after that are simply not shared.
SHARED_SPANS: Final = 8_192
_spans: Final[dict[tuple[int, int], Span]] = {}


def shared_span(start: int, end: int) -> Span:
    """``Span(start=start, end=end)``, the same object for the same offsets."""
    key = (start, end)
    span = _spans.get(key)
    if span is None:
        span = build(Span, {"start": start, "end": end})
        if len(_spans) < SHARED_SPANS:
            _spans[key] = span
    return span
