"""The search rules kept as data (``rules/*.yaml``): field weights, BM25 constants, stopwords.

Loaded once per process; a change to these files changes :data:`RULES_DIGEST`, which makes
stored index snapshots stale so that they are rebuilt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

_FILES = ("ranking.yaml", "stopwords.yaml")


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


def _read(name: str) -> tuple[str, Any]:
    text = resources.files("trialscout.search").joinpath("rules", name).read_text("utf-8")
    return text, yaml.safe_load(text)


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
