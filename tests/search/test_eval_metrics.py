"""The shared evaluation helpers: loaders, measures, the BM25 baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialscout.evaluation.search_eval import (
    EvaluationInputError,
    bm25_baseline,
    load_qrels,
    load_topics,
    measure,
)


def test_measures_on_a_known_run() -> None:
    qrels = {"q": {"a": 2, "b": 1, "c": 0, "d": 1}}
    run = {"q": {"c": 3.0, "a": 2.0, "x": 1.0}}
    m = measure(run, qrels)
    assert m["RR"] == pytest.approx(0.5)
    assert m["P@10"] == pytest.approx(0.1)
    assert m["R@100"] == pytest.approx(1 / 3)
    assert 0 < m["nDCG@10"] < 1


def test_loaders_validate(tmp_path: Path) -> None:
    good = tmp_path / "q.tsv"
    good.write_text("query-id\tcorpus-id\tscore\nq1\tNCT1\t2\n")
    assert load_qrels(good) == {"q1": {"NCT1": 2}}
    bad = tmp_path / "bad.tsv"
    bad.write_text("q1\tNCT1\t2\n")
    with pytest.raises(EvaluationInputError):
        load_qrels(bad)
    topics = tmp_path / "t.jsonl"
    topics.write_text('{"_id": "q1", "text": "note"}\n{"id": 1}\n')
    with pytest.raises(EvaluationInputError):
        load_topics(topics)


def test_bm25_baseline_ranks_the_matching_document_first() -> None:
    run = bm25_baseline(["d1", "d2"], ["osteoporosis in women", "asthma in children"],
                        {"q": "children with asthma"})
    assert next(iter(sorted(run["q"], key=run["q"].__getitem__, reverse=True))) == "d2"
