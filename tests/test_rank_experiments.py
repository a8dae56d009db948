"""bench/rank_experiments.py runs end to end on made-up trials and notes: it stores each
judged pair's verdict once and scores the orders within the bands from that file."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import REPO
from tests.factories import study

NOTE = ("A 70-year-old woman with postmenopausal osteoporosis, T-score -2.9, and type 2 "
        "diabetes treated with metformin.")


def _studies(path: Path) -> None:
    trials = [
        study("NCT09990001", title="Bone density after a new osteoporosis medicine",
              eligibilityModule={"eligibilityCriteria": "Inclusion Criteria:\n\n* Women with "
                                 "osteoporosis\n", "sex": "FEMALE", "minimumAge": "50 Years"}),
        study("NCT09990002", title="A second osteoporosis medicine in older women",
              eligibilityModule={"eligibilityCriteria": "Inclusion Criteria:\n\n* Women with "
                                 "osteoporosis\n\nExclusion Criteria:\n\n* Diabetes mellitus\n",
                                 "sex": "FEMALE", "minimumAge": "50 Years"}),
        study("NCT09990003", title="Inhaled therapy for asthma in men",
              conditionsModule={"conditions": ["Asthma"]},
              eligibilityModule={"eligibilityCriteria": "Inclusion Criteria:\n\n* Asthma\n",
                                 "sex": "MALE", "minimumAge": "18 Years"}),
    ]
    path.write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in trials))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "bench/rank_experiments.py", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_dump_then_score_on_made_up_sets(tmp_path: Path) -> None:
    studies = tmp_path / "studies.jsonl"
    _studies(studies)
    topics = tmp_path / "queries.jsonl"
    topics.write_bytes(orjson.dumps({"_id": "t1", "text": NOTE}) + b"\n")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nt1\tNCT09990001\t2\nt1\tNCT09990002\t1\n"
                     "t1\tNCT09990003\t0\n", encoding="utf-8")
    patients = tmp_path / "patients.jsonl"
    patients.write_bytes(orjson.dumps({"_id": "P_NCT09990001", "text": NOTE}) + b"\n")
    trec, target = tmp_path / "trec.jsonl.gz", tmp_path / "target.jsonl.gz"
    done = _run("dump", "trec", "--topics", str(topics), "--qrels", str(qrels),
                "--studies", str(studies), "--date", "2026-01-05", "--out", str(trec))
    assert done.returncode == 0, done.stderr
    done = _run("dump", "target", "--patients", str(patients), "--studies", str(studies),
                "--date", "2026-01-05", "--out", str(target))
    assert done.returncode == 0, done.stderr

    with gzip.open(trec, "rb") as source:
        head = orjson.loads(source.readline())
        rows = {r["nct"]: r for r in map(orjson.loads, source)}
    assert head["kind"] == "trec" and head["qrels"]["t1"]["NCT09990002"] == 1
    assert set(rows) == {"NCT09990001", "NCT09990002", "NCT09990003"}
    # The men-only asthma trial fails on the registry's sex: a sure failure.
    assert rows["NCT09990003"]["match"]["verdict"] == "not_eligible"
    assert rows["NCT09990001"]["match"]["verdict"] != "not_eligible"
    failing = rows["NCT09990002"]["match"]["failing"]
    assert failing and all(i >= 0 for i in failing)   # the diabetes exclusion, read from text

    scored = _run("score", str(trec), str(target))
    assert scored.returncode == 0, scored.stderr
    lines = scored.stdout.splitlines()
    trec_lines = [line for line in lines if "AUROC" in line]
    target_lines = [line for line in lines if "MRR" in line]
    assert len(trec_lines) == len(target_lines) >= 2
    assert any("relevance (the product's order)" in line for line in trec_lines)
    # One patient whose target is retrieved: every order gives a reciprocal rank in (0, 1].
    for line in target_lines:
        mrr = float(line.split("MRR")[1].split()[0])
        assert 0.0 < mrr <= 1.0
