"""Combine relevance, eligibility and distance into one score, and order the trials.

score = relevance x eligibility factor x distance factor (``rules/ranking.yaml``).
Relevance is normalized by the best score among the candidates, so the score does not
depend on the query's length; multiplying keeps the search order among equally eligible
trials.

The eligibility factor (:func:`trialscout.matching.trial.eligibility_score`) weighs a
failing criterion by how sure its verdict is (:mod:`trialscout.matching.confidence`)
instead of demoting every not-eligible trial alike: the registry's sex and age range, the
patient's answers and structured facts sink a trial; one failure read from a note mention,
from a criterion the parser understood only in part, or through a double negation costs
little, so it cannot put a relevant trial below an irrelevant one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trialscout.matching.model import TrialMatch
from trialscout.matching.rules import load_rules
from trialscout.matching.trial import eligibility_score


def settings() -> dict[str, Any]:
    return load_rules("ranking")


def distance_factor(distance_km: float | None, radius_km: float | None) -> float:
    spec = settings()["distance"]
    if distance_km is None:
        return float(spec["floor"])
    reach = radius_km or float(spec["default_reach_km"])
    floor = float(spec["floor"])
    return floor + (1.0 - floor) * max(0.0, 1.0 - distance_km / reach)


def combine(relevance: float, eligibility: float, distance_km: float | None = None, *,
            use_distance: bool = False, radius_km: float | None = None) -> float:
    """One score in 0..1 from normalized relevance, the eligibility factor and distance."""
    score = relevance * eligibility
    if use_distance:
        score *= distance_factor(distance_km, radius_km)
    return score


def rank(matches: Sequence[TrialMatch], *, radius_km: float | None = None,
         use_distance: bool = False) -> list[TrialMatch]:
    """Score and order ``matches`` (relevance and distance_km already filled in)."""
    best = max((m.relevance for m in matches), default=0.0)
    out = []
    for match in matches:
        rel = match.relevance / best if best > 0 else 1.0
        elig = eligibility_score(match)
        score = combine(rel, elig, match.distance_km, use_distance=use_distance,
                        radius_km=radius_km)
        out.append(match.model_copy(update={"eligibility": round(elig, 4),
                                            "score": round(score, 6)}))
    out.sort(key=lambda m: (-m.score, m.nct_id))
    return [m.model_copy(update={"rank": i}) for i, m in enumerate(out, start=1)]
