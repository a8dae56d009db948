"""Rule files for patient import (LOINC map, ConText cues, note patterns), loaded once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).parent


class RulesError(ValueError):
    pass


@cache
def load_rules(name: str) -> dict[str, Any]:
    """Load ``rules/<name>.yaml``; each file carries a ``version``."""
    path = RULES_DIR / f"{name}.yaml"
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or "version" not in data:
        raise RulesError(f"{path.name}: expected a mapping with a 'version'")
    return data
