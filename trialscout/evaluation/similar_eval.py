"""How often similar trials are really about the same thing, lexical against embeddings.

Every study of the file is indexed. The queries are the studies that list conditions (for
the condition measure) or interventions (for the intervention measure) in their record.
For each query the top ``k`` similar trials are taken from the whole file, and:

* **condition share**: the share of those ``k`` whose conditions include the query's first
  listed (primary) condition, compared as canonical keys (vocabulary concept, else the
  normalized name; a neighbour that lists no conditions is judged on the concepts its title
  names);
* **condition hit**: the share of queries with at least one such neighbour;
* **intervention share / hit**: the same for sharing at least one intervention (placebo and
  the like excluded).

Each backend runs in two modes: ``combined`` is the ranking users see (text, condition and
intervention overlap, population); ``text`` ranks on text similarity alone, which is the
fair comparison of lexical TF-IDF against embeddings because the structured overlap terms
would otherwise decide the measure they are scored on. A random ranking's expected share is
given as a floor.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trialscout.evaluation.readability_eval import iter_trials
from trialscout.evaluation.sets import SetRoles, roles_for
from trialscout.similar.features import TrialFeatures, features_from_document, rules
from trialscout.similar.index import SimilarIndex
from trialscout.similar.service import make_encoder

TEXT_ONLY = {"text": 1.0, "conditions": 0.0, "interventions": 0.0}


@dataclass
class ModeResult:
    backend: str
    mode: str
    condition_queries: int
    condition_share: float
    condition_hit: float
    intervention_queries: int
    intervention_share: float
    intervention_hit: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in vars(self).items()}


@dataclass
class SimilarEvalReport:
    studies: int
    k: int
    results: list[ModeResult] = field(default_factory=list)
    random_condition_share: float = 0.0
    random_intervention_share: float = 0.0
    skipped: dict[str, str] = field(default_factory=dict)
    build_seconds: dict[str, float] = field(default_factory=dict)
    sets: SetRoles = field(default_factory=SetRoles)

    def as_dict(self) -> dict[str, Any]:
        return {"benchmark_sets": self.sets.as_dict(), "studies": self.studies, "k": self.k,
                "results": [r.as_dict() for r in self.results],
                "random_condition_share": round(self.random_condition_share, 4),
                "random_intervention_share": round(self.random_intervention_share, 4),
                "build_seconds": {k: round(v, 1) for k, v in self.build_seconds.items()},
                "skipped": self.skipped}


def _measure(features: list[TrialFeatures], neighbours: np.ndarray, rows: list[int],
             wanted: str) -> tuple[float, float]:
    shares, hits = [], []
    for r, i in enumerate(rows):
        query = features[i]
        picked = [j for j in neighbours[r] if j >= 0]
        if wanted == "condition":
            good = [query.primary_condition in features[j].conditions for j in picked]
        else:
            good = [bool(query.interventions.keys() & features[j].interventions.keys())
                    for j in picked]
        shares.append(sum(good) / neighbours.shape[1])
        hits.append(any(good))
    return (float(np.mean(shares)) if shares else 0.0,
            float(np.mean(hits)) if hits else 0.0)


def _random_share(features: list[TrialFeatures], rows: list[int], wanted: str,
                  samples: int = 2000, seed: int = 7) -> float:
    rng = np.random.default_rng(seed)
    n = len(features)
    picks = rng.integers(0, n, size=(min(len(rows), samples), 5))
    chosen = rng.choice(rows, size=len(picks), replace=len(rows) < len(picks))
    share, _ = _measure(features, picks, list(chosen), wanted)
    return share


def evaluate_similar(path: Path, *, k: int = 5, backends: Sequence[str] = ("lexical",
                                                                          "embeddings"),
                     limit: int | None = None) -> SimilarEvalReport:
    """Index every study in ``path`` with each backend and measure the top ``k``."""
    documents: list[dict[str, Any]] = []
    for trial in iter_trials(path):
        if limit is not None and len(documents) >= limit:
            break
        documents.append(trial.model_dump(exclude_none=True))
    summary_chars = int(rules()["summary_chars"])
    reference = [features_from_document(d, summary_chars) for d in documents]
    condition_rows = [i for i, f in enumerate(reference)
                      if f.structured_conditions and f.primary_condition]
    intervention_rows = [i for i, f in enumerate(reference)
                         if f.structured_interventions and f.interventions]
    report = SimilarEvalReport(studies=len(documents), k=k, sets=roles_for([path]))
    report.random_condition_share = _random_share(reference, condition_rows, "condition")
    report.random_intervention_share = _random_share(reference, intervention_rows,
                                                     "intervention")
    for backend in backends:
        try:
            encoder = make_encoder(backend)
        except RuntimeError as exc:
            report.skipped[backend] = str(exc)
            continue
        started = time.perf_counter()
        base = SimilarIndex(encoder)
        base.add([features_from_document(d, summary_chars) for d in documents])
        base.all_neighbors(1, rows=[0])
        report.build_seconds[backend] = time.perf_counter() - started
        for mode, weights in (("combined", None), ("text", TEXT_ONLY)):
            base.weights = weights
            started = time.perf_counter()
            rows = sorted(set(condition_rows) | set(intervention_rows))
            top, _ = base.all_neighbors(k, rows=rows)
            at = {row: n for n, row in enumerate(rows)}
            cond = top[[at[r] for r in condition_rows]] if condition_rows else top[:0]
            drug = top[[at[r] for r in intervention_rows]] if intervention_rows else top[:0]
            c_share, c_hit = _measure(reference, cond, condition_rows, "condition")
            d_share, d_hit = _measure(reference, drug, intervention_rows, "intervention")
            report.results.append(ModeResult(
                backend=backend, mode=mode, condition_queries=len(condition_rows),
                condition_share=c_share, condition_hit=c_hit,
                intervention_queries=len(intervention_rows), intervention_share=d_share,
                intervention_hit=d_hit, seconds=time.perf_counter() - started))
    return report
