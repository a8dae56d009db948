"""Rule files for matching (item rules, analyte extras, ranking), each read through its
schema (:mod:`trialscout.rulefiles`) and handed back as the mapping the code reads by key."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field

from trialscout.rulefiles import RuleFile, Strict, load_mapping

RULES_DIR = Path(__file__).parent


class NoteRule(Strict):
    when: str
    note: str


class Another(Strict):
    cue: str
    same_disease: list[str]


class ItemRules(RuleFile):
    note_rules: list[NoteRule]
    qualifiers: list[str]
    qualifier_cues: dict[str, list[str]] = Field(default_factory=dict)
    unparsed_threshold: str
    generic_concepts: list[str]
    permissive: str
    conditional_permission: str
    subgroup_only: str
    another: Another


class UpperLimit(Strict):
    value: float
    unit: str


class AnalyteExtras(RuleFile):
    uln: dict[str, UpperLimit]
    normal_cues: dict[str, list[str]]


class Bands(Strict):
    verdicts: list[str]
    main_condition: list[str]
    sure_failure: float


class Distance(Strict):
    floor: float
    default_reach_km: float


class RankingRules(RuleFile):
    bands: Bands
    confidence: dict[str, float]
    distance: Distance
    candidates: int
    check_limit: int


SCHEMAS: dict[str, type[RuleFile]] = {
    "items": ItemRules,
    "analytes": AnalyteExtras,
    "ranking": RankingRules,
}


@cache
def load_rules(name: str) -> dict[str, Any]:
    """``rules/<name>.yaml``, validated by its schema, read once per process."""
    return load_mapping(RULES_DIR / f"{name}.yaml", SCHEMAS[name])
