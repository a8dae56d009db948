"""One loader for the rule files (YAML data inside the package), each read through a schema.

Every rule file carries a ``version`` and a ``tuned_on`` list: the benchmark sets that
shaped it (names from ``evaluation/benchmark_sets.yaml``), ``[]`` when none did. A schema
is a pydantic model that forbids unknown fields, so a misspelt or forgotten key fails at
load instead of being silently ignored; ``tests/test_rules_schemas.py`` also checks that
every field a schema declares is read somewhere in the code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

PACKAGE_DIR = Path(__file__).parent
SETS_FILE = PACKAGE_DIR / "evaluation" / "benchmark_sets.yaml"


class RulesError(ValueError):
    """A rule file that is missing, not a mapping, or does not fit its schema."""


def read_yaml(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


@cache
def known_sets() -> frozenset[str]:
    """The benchmark set names a ``tuned_on`` list may use."""
    data = read_yaml(SETS_FILE)
    return frozenset(str(name) for name in (data.get("sets") or {}))


class Strict(BaseModel):
    """A part of a rule file: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RuleFile(Strict):
    """What every rule file starts with."""

    version: int
    tuned_on: list[str]

    @field_validator("tuned_on")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        unknown = sorted(set(names) - known_sets())
        if unknown:
            raise ValueError(f"unknown benchmark sets {unknown}; known: {sorted(known_sets())}")
        return names


Schema = TypeVar("Schema", bound=RuleFile)


def validate(path: Path, schema: type[Schema]) -> tuple[Schema, dict[str, Any]]:
    """The file at ``path`` read through ``schema``: (model, the mapping as written)."""
    try:
        data = read_yaml(path)
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError(f"{path.name}: expected a mapping with a 'version'")
    try:
        return schema.model_validate(data), data
    except ValueError as exc:
        raise RulesError(f"{path.name} does not fit {schema.__name__} (add a new field to "
                         f"the schema, with the code that reads it): {exc}") from exc


@cache
def load(path: Path, schema: type[Schema]) -> Schema:
    """The validated model of a rule file, read once per process."""
    return validate(path, schema)[0]


@cache
def load_mapping(path: Path, schema: type[RuleFile]) -> dict[str, Any]:
    """A rule file validated by ``schema`` but handed back as the plain mapping, for code
    that reads it by key."""
    return validate(path, schema)[1]
