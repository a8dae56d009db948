"""Field paths into a :class:`Trial`: how a summary sentence says where its facts come from.

A path is written the way the model is shaped: ``conditions[0]``, ``interventions[1].name``,
``eligibility.minimum_age``, ``sites[].country`` (every site's country) or a character range
of a text field, ``eligibility.criteria[120:164]`` (the criterion a sentence restates).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from trialscout.registry.model import Trial

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[(?:\d*|\d+:\d+)\])*)")
_INDEX = re.compile(r"\[(\d*|\d+:\d+)\]")


class PathError(ValueError):
    """A field path that does not name anything in the trial model."""


def _attr(value: Any, name: str) -> Any:
    if isinstance(value, BaseModel):
        if name not in type(value).model_fields:
            raise PathError(f"no field {name!r} on {type(value).__name__}")
        return getattr(value, name)
    if isinstance(value, dict):
        return value.get(name)
    raise PathError(f"cannot read {name!r} from {type(value).__name__}")


def resolve(trial: Trial, path: str) -> list[Any]:
    """The values a path names (several for ``[]``); empty when the record lacks them
    (missing, empty text and empty lists all count as lacking)."""
    current: list[Any] = [trial]
    for part in path.split("."):
        match = _STEP.fullmatch(part)
        if match is None:
            raise PathError(f"bad path step {part!r} in {path!r}")
        current = [_attr(v, match.group(1)) for v in current]
        current = [v for v in current if v is not None]
        for index in _INDEX.findall(match.group(2)):
            nxt: list[Any] = []
            for value in current:
                if ":" in index:
                    if not isinstance(value, str):
                        raise PathError(f"a character range needs a text field: {path!r}")
                    start, end = (int(x) for x in index.split(":"))
                    if start <= end <= len(value):
                        nxt.append(value[start:end])
                elif not isinstance(value, list):
                    raise PathError(f"{match.group(1)!r} is not a list in {path!r}")
                elif index == "":
                    nxt.extend(value)
                elif int(index) < len(value):
                    nxt.append(value[int(index)])
            current = [v for v in nxt if v is not None]
    return [v for v in current if not (isinstance(v, str | list | dict) and not v)]


def leaves(value: Any) -> list[Any]:
    """Every scalar inside a value (model, dict, list), for building source facts."""
    if isinstance(value, BaseModel):
        return leaves(value.model_dump(exclude_none=True))
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    if isinstance(value, list | tuple | set):
        return [leaf for v in value for leaf in leaves(v)]
    return [] if value is None else [value]
