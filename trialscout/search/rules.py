"""The search rules kept as data (``rules/*.yaml``): field weights, BM25 constants, stopwords.

Loaded once per process; a change to these files changes :data:`RULES_DIGEST`, which makes
stored index snapshots stale so that they are rebuilt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from trialscout.rulefiles import RuleFile, Strict, load_mapping

_FILES = ("ranking.yaml", "stopwords.yaml")
RULES_DIR = Path(__file__).with_name("rules")


@dataclass(frozen=True)
class QueryRules:
    auto_any_min_terms: int
    max_terms: int
    max_depth: int
    min_prefix: int
    max_prefix_expansions: int
    expand_free_text: bool = False


@dataclass(frozen=True)
class SearchRules:
    k1: float
    b: float
    field_weights: dict[str, int]
    stopwords: frozenset[str]
    query: QueryRules
    digest: str


class _BM25(Strict):
    k1: float
    b: float


class _Query(Strict):
    auto_any_min_terms: int
    expand_free_text: bool = False
    max_terms: int
    max_depth: int
    min_prefix: int
    max_prefix_expansions: int


class RankingFile(RuleFile):
    """The schema of ``rules/ranking.yaml``."""

    bm25: _BM25
    fields: dict[str, int]
    query: _Query


class StopwordFile(RuleFile):
    """The schema of ``rules/stopwords.yaml``."""

    stopwords: list[str]


class PlacesFile(RuleFile):
    """The schema of ``rules/places.yaml``."""

    country_aliases: dict[str, str]
    city_over_region_population: int


class _LayName(Strict):
    concept: str
    forms: list[str]
    source: str


class LayNamesFile(RuleFile):
    """The schema of ``rules/lay_names.yaml``: everyday names of vocabulary concepts."""

    names: list[_LayName]


SCHEMAS: dict[str, type[RuleFile]] = {
    "ranking.yaml": RankingFile, "stopwords.yaml": StopwordFile, "places.yaml": PlacesFile,
    "lay_names.yaml": LayNamesFile}


def lay_names() -> list[tuple[str, str]]:
    """``(form, concept_id)`` pairs of everyday names (``rules/lay_names.yaml``)."""
    data = read_rules("lay_names.yaml")
    return [(str(form), str(entry["concept"])) for entry in data["names"]
            for form in entry["forms"]]


def read_rules(name: str) -> dict[str, Any]:
    """``rules/<name>``, validated by its schema."""
    return load_mapping(RULES_DIR / name, SCHEMAS[name])


def _read(name: str) -> tuple[str, Any]:
    return (RULES_DIR / name).read_text("utf-8"), read_rules(name)


@cache
def search_rules() -> SearchRules:
    texts = []
    ranking_text, ranking = _read("ranking.yaml")
    stop_text, stop = _read("stopwords.yaml")
    texts += [ranking_text, stop_text]
    weights = {str(k): int(v) for k, v in ranking["fields"].items()}
    if any(w <= 0 for w in weights.values()):
        raise ValueError("ranking.yaml: field weights must be positive integers")
    q = ranking["query"]
    return SearchRules(
        k1=float(ranking["bm25"]["k1"]),
        b=float(ranking["bm25"]["b"]),
        field_weights=weights,
        stopwords=frozenset(str(w).casefold() for w in stop["stopwords"]),
        query=QueryRules(
            auto_any_min_terms=int(q["auto_any_min_terms"]),
            max_terms=int(q["max_terms"]),
            max_depth=int(q["max_depth"]),
            min_prefix=int(q["min_prefix"]),
            max_prefix_expansions=int(q["max_prefix_expansions"]),
            expand_free_text=bool(q.get("expand_free_text", False)),
        ),
        digest=hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16],
    )
