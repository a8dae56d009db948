"""Reading level of the offline summaries over a whole studies file.

Every study is normalized, its criteria parsed (when the criteria parser is installed) and
summarized offline; the Flesch-Kincaid grade (textstat) of each summary's text is collected.
The report gives the distribution for all studies and for the subsets that have structured
fields (conditions or interventions) and eligibility criteria, since most old registry
records have only a title and a description. It also re-checks every summary against the
whole record with the fact check, and counts the sentences the generator dropped because
they failed it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialscout.evaluation.sets import SetRoles, roles_for
from trialscout.registry.errors import RecordError
from trialscout.registry.importer import parse_item
from trialscout.registry.model import Trial
from trialscout.registry.sources import iter_path
from trialscout.summaries.grounding import check_text, record_facts
from trialscout.summaries.readability import GradeDistribution, distribution
from trialscout.summaries.service import offline_summary


def iter_trials(path: Path, counts: dict[str, int] | None = None) -> Iterator[Trial]:
    """Trials from any studies file TrialScout imports; unreadable records are counted."""
    for item in iter_path(Path(path)):
        try:
            yield parse_item(item).trial
        except RecordError:
            if counts is not None:
                counts["rejected"] = counts.get("rejected", 0) + 1


@dataclass
class ReadabilityReport:
    studies: int = 0
    rejected: int = 0
    dropped_sentences: int = 0
    summaries_with_fact_problems: int = 0
    sentences: int = 0
    seconds: float = 0.0
    grades: dict[str, GradeDistribution] = field(default_factory=dict)
    worst: list[dict[str, Any]] = field(default_factory=list)
    sets: SetRoles = field(default_factory=SetRoles)

    def as_dict(self) -> dict[str, Any]:
        return {"benchmark_sets": self.sets.as_dict(),
                "studies": self.studies, "rejected": self.rejected,
                "sentences": self.sentences, "dropped_sentences": self.dropped_sentences,
                "summaries_with_fact_problems": self.summaries_with_fact_problems,
                "seconds": round(self.seconds, 1),
                "grade": {name: d.as_dict() for name, d in self.grades.items()},
                "worst": self.worst}


def evaluate_readability(path: Path, *, limit: int | None = None, check_facts: bool = True,
                         on_study: Callable[[], None] | None = None) -> ReadabilityReport:
    """Summarize every study in ``path`` and report the grade distribution."""
    started = time.perf_counter()
    counts: dict[str, int] = {}
    report = ReadabilityReport(sets=roles_for([path]))
    groups: dict[str, list[float]] = {"all": [], "structured": [], "with_criteria": []}
    worst: list[tuple[float, str, str]] = []
    for trial in iter_trials(path, counts):
        if limit is not None and report.studies >= limit:
            break
        summary = offline_summary(trial)
        level = summary.grade or 0.0
        report.studies += 1
        report.sentences += len(summary.sentences)
        report.dropped_sentences += summary.dropped
        groups["all"].append(level)
        if trial.conditions or trial.interventions:
            groups["structured"].append(level)
        if trial.eligibility.criteria:
            groups["with_criteria"].append(level)
        if check_facts:
            facts = record_facts(trial)
            if any(check_text(s.text, facts) for s in summary.sentences):
                report.summaries_with_fact_problems += 1
        worst.append((level, trial.nct_id, summary.text))
        worst = sorted(worst, reverse=True)[:5]
        if on_study:
            on_study()
    report.rejected = counts.get("rejected", 0)
    report.grades = {name: distribution(values) for name, values in groups.items()}
    report.worst = [{"nct_id": n, "grade": g, "text": t} for g, n, t in worst]
    report.seconds = time.perf_counter() - started
    return report
