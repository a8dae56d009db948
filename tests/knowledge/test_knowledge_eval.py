"""`eval knowledge` on a small studies file of our own."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from trialscout.evaluation.knowledge_eval import evaluate_coverage, render

CRITERIA = ("Inclusion Criteria:\n* Postmenopausal osteoporosis\n* Prior treatment with "
            "alendronate\nExclusion Criteria:\n* Any malignancy\n* Use of glucocorticoids")


def test_coverage_counts_mentions_and_reports_the_sets(tmp_path: Path) -> None:
    path = tmp_path / "studies.jsonl.gz"
    rows = [{"protocolSection": {"eligibilityModule": {"eligibilityCriteria": CRITERIA}}},
            {"protocolSection": {}}]
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(r) for r in rows) + "\n")
    report = evaluate_coverage(path)
    data = report.as_dict()
    assert data["studies"] == 2 and data["with_criteria"] == 1
    assert data["mentions"] >= 3
    assert data["resolved"] <= data["known"] <= data["mentions"]
    assert data["coverage"] > 0.5
    text = "\n".join(render(report))
    assert "development" in text and "tuned_on" in text
