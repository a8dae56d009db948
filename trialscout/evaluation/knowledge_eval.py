"""Coverage of the knowledge base over real eligibility criteria.

A *mention* is what the criteria parser turns into something matching must look up: each
concept (the main one and every alternative) of a condition, medication, procedure or
allergy constraint. Text the parser did not read as such a constraint is not counted
(it is the parser's recall, measured by ``eval criteria``, not the knowledge base's).

A mention *resolves* when its concept is a node of the knowledge base that takes part in
the hierarchy: it is a kind of something, or something is a kind of it, so a class in a
criterion can be met by a member in a record, or a record's narrower condition by a
broader criterion. *Known* counts the weaker fact that the node exists at all.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from trialscout.criteria.parser import parse_criteria
from trialscout.knowledge import KnowledgeBase, knowledge

KINDS: Final = frozenset({"condition", "medication", "procedure", "allergy"})
SET_ROLE: Final = ("development: the knowledge files' gaps were reviewed against this "
                   "set's unresolved mentions (see the files' tuned_on)")


class KnowledgeEvalError(ValueError):
    """The studies file cannot be read."""


@dataclass
class KindCoverage:
    mentions: int = 0
    known: int = 0
    resolved: int = 0

    def share(self) -> float:
        return self.resolved / self.mentions if self.mentions else 0.0


@dataclass
class CoverageReport:
    studies: int = 0
    with_criteria: int = 0
    kinds: dict[str, KindCoverage] = field(default_factory=dict)
    unresolved: Counter[str] = field(default_factory=Counter)
    unknown: Counter[str] = field(default_factory=Counter)
    tuned_on: list[str] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> KindCoverage:
        out = KindCoverage()
        for cov in self.kinds.values():
            out.mentions += cov.mentions
            out.known += cov.known
            out.resolved += cov.resolved
        return out

    def as_dict(self, top: int = 30) -> dict[str, Any]:
        total = self.total
        return {
            "studies": self.studies, "with_criteria": self.with_criteria,
            "mentions": total.mentions, "known": total.known, "resolved": total.resolved,
            "coverage": round(total.share(), 4),
            "known_coverage": round(total.known / total.mentions, 4) if total.mentions else 0.0,
            "by_kind": {k: {"mentions": v.mentions, "known": v.known, "resolved": v.resolved,
                            "coverage": round(v.share(), 4)}
                        for k, v in sorted(self.kinds.items())},
            "top_unresolved": self.unresolved.most_common(top),
            "top_unknown": self.unknown.most_common(top),
            "sets": {"ctgov studies": SET_ROLE},
            "knowledge_tuned_on": self.tuned_on, "knowledge_versions": self.versions,
        }


def _criteria_texts(path: Path, limit: int | None) -> Iterator[str | None]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for n, line in enumerate(handle):
                if limit is not None and n >= limit:
                    return
                if not line.strip():
                    continue
                study = json.loads(line)
                yield (study.get("protocolSection", {}).get("eligibilityModule", {})
                       .get("eligibilityCriteria"))
    except (OSError, ValueError) as exc:
        raise KnowledgeEvalError(f"cannot read studies {path}: {exc}") from exc


def placed(kb: KnowledgeBase, concept_id: str) -> bool:
    """Whether a concept takes part in the hierarchy (has an ancestor or a descendant)."""
    return bool(kb.ancestors(concept_id) or kb.descendants(concept_id))


def evaluate_coverage(studies: Path, *, limit: int | None = None,
                      kb: KnowledgeBase | None = None) -> CoverageReport:
    """Parse every criteria text of ``studies`` and count which mentions resolve."""
    kb = kb or knowledge()
    report = CoverageReport(tuned_on=list(kb.tuned_on), versions=dict(kb.versions))
    for text in _criteria_texts(studies, limit):
        report.studies += 1
        if not text:
            continue
        report.with_criteria += 1
        for item in parse_criteria(text).items:
            for constraint in item.constraints:
                if constraint.kind not in KINDS:
                    continue
                cov = report.kinds.setdefault(constraint.kind, KindCoverage())
                concepts = ([constraint.concept] if constraint.concept else []) \
                    + list(constraint.any_of)
                for concept in concepts:
                    cov.mentions += 1
                    nid = kb.node_id(concept.id) or kb.resolve(concept.text)
                    label = concept.text.lower().strip()
                    if nid is None:
                        report.unknown[label] += 1
                        report.unresolved[label] += 1
                        continue
                    cov.known += 1
                    if placed(kb, nid):
                        cov.resolved += 1
                    else:
                        report.unresolved[label] += 1
    return report


def render(report: CoverageReport, top: int = 30) -> list[str]:
    """The report as plain lines (the CLI prints them)."""
    data = report.as_dict(top)
    lines = [f"{data['with_criteria']} criteria texts of {data['studies']} studies: "
             f"{data['mentions']} condition, medication, procedure and allergy mentions",
             f"resolve to a known concept of the knowledge base: {data['known']} = "
             f"{data['known_coverage']:.1%}",
             f"placed in its hierarchy (stricter: a kind of something, or has kinds): "
             f"{data['resolved']} = {data['coverage']:.1%}"]
    for kind, cov in data["by_kind"].items():
        lines.append(f"  {kind}: known {cov['known']}/{cov['mentions']}, placed "
                     f"{cov['resolved']} = {cov['coverage']:.1%}")
    lines.append(f"top {top} mentions not placed in the hierarchy:")
    lines += [f"  {count:6d}  {text}" for text, count in data["top_unresolved"]]
    lines.append("sets: " + "; ".join(f"{k}: {v}" for k, v in data["sets"].items()))
    lines.append(f"knowledge files tuned_on: {data['knowledge_tuned_on'] or '[]'}; "
                 f"versions {data['knowledge_versions']}")
    return lines
