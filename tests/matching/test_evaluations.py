"""The three matching evaluation commands, on tiny fixtures and (slow tier) on the real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialscout.cli import _load_commands, cli
from trialscout.evaluation.matching_eval import (
    EvalInputError,
    criterion_matching,
    label_for,
    score,
)
from trialscout.evaluation.trec_eval import auroc, pooled_auroc, target_trial, trec_matching
from trialscout.matching.model import CriterionVerdict

_load_commands()
runner = CliRunner()
DATA = Path(__file__).parent / "data"


def test_auroc() -> None:
    assert auroc([3, 4], [1, 2]) == 1.0
    assert auroc([1], [1]) == 0.5
    assert auroc([1, 3], [2]) == 0.5
    assert auroc([], [1]) is None
    qrels = {"q": {"a": 2, "b": 1, "c": 1}}
    assert pooled_auroc({"q": {"a": 0.9, "b": 0.1}}, qrels) == 1.0


def test_scores_and_labels() -> None:
    s = score("x", ["included", "excluded", "included"], ["included", "included", "included"])
    assert s.accuracy == pytest.approx(2 / 3)
    assert s.confusion["excluded"]["included"] == 1
    assert s.per_label_f1["excluded"] == 0.0

    def v(holds: bool | None, applicable: bool = True) -> CriterionVerdict:
        return CriterionVerdict(item_index=0, section="exclusion", kind="condition", text="t",
                                verdict="UNKNOWN", holds=holds, applicable=applicable,
                                reason="r")

    assert label_for("exclusion", [v(True)]) == "excluded"
    assert label_for("exclusion", [v(False), v(None)]) == "not enough information"
    assert label_for("inclusion", [v(False)]) == "not included"
    assert label_for("exclusion", [v(False, applicable=False)]) == "not applicable"
    assert label_for("inclusion", []) == "not enough information"


def test_criterion_matching_on_fixture() -> None:
    report = criterion_matching(DATA / "annotations.json")
    by_id = {p["annotation_id"]: p for p in report.predictions}
    assert by_id[0]["ours"] == "included"
    assert by_id[1]["ours"] == "not included"
    assert by_id[2]["ours"] == "not excluded"
    assert by_id[3]["ours"] == "not excluded"
    assert by_id[3]["ours_open"] == "not enough information"
    gpt4 = next(s for s in report.systems if s.name.startswith("GPT-4"))
    assert gpt4.accuracy == pytest.approx(6 / 7)
    ours = report.systems[0]
    assert sum(sum(row.values()) for row in ours.confusion.values()) == 7


def test_criterion_matching_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "a.json"
    bad.write_text(json.dumps([{"note": "x"}]))
    with pytest.raises(EvalInputError, match="pair 0"):
        criterion_matching(bad)
    result = runner.invoke(cli, ["eval", "criterion-matching", "--annotations", str(bad)])
    assert result.exit_code == 1 and "pair 0" in result.stderr


def test_trec_on_fixture_ranks_eligible_above_excluded() -> None:
    report = trec_matching(DATA / "queries.jsonl", DATA / "qrels.tsv", DATA / "studies.jsonl",
                           pool="criteria")
    assert report.trials == 4 and report.topics == 2
    systems = {s.name: s for s in report.systems}
    assert set(systems) == {"BM25 baseline (bm25s defaults)", "TrialScout search alone",
                            "TrialScout matching"}
    assert systems["TrialScout matching"].auroc == 1.0
    text = trec_matching(DATA / "queries.jsonl", DATA / "qrels.tsv", DATA / "studies.jsonl",
                         pool="text")
    assert text.trials == 5


def test_trec_cli_json() -> None:
    result = runner.invoke(cli, ["eval", "trec", "--topics", str(DATA / "queries.jsonl"),
                                 "--qrels", str(DATA / "qrels.tsv"), "--studies",
                                 str(DATA / "studies.jsonl"), "--pool", "criteria", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pool"] == "criteria" and len(data["systems"]) == 3
    bad = runner.invoke(cli, ["eval", "trec", "--topics", str(DATA / "queries.jsonl"),
                              "--qrels", str(DATA / "qrels.tsv"), "--studies",
                              str(DATA / "studies.jsonl"), "--pool", "everything"])
    assert bad.exit_code == 1


def test_target_trial_on_fixture() -> None:
    report = target_trial(DATA / "patients.jsonl", DATA / "studies.jsonl")
    matching = next(s for s in report.systems if s.name == "TrialScout matching")
    assert matching.mrr == 1.0 and matching.recall10 == 1.0
    assert report.ranks["TrialScout matching"] == {"P_NCT09990101": 1, "P_NCT09990104": 1}
    result = runner.invoke(cli, ["eval", "target-trial", "--patients",
                                 str(DATA / "patients.jsonl"), "--studies",
                                 str(DATA / "studies.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["patients"] == 2


# ---------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_notes_are_read(shared_data: Path) -> None:
    from trialscout.patients.notes import extract_note

    texts = [json.loads(line)["text"] for line in (
        shared_data / "patients" / "synthetic_patient_cases_random_30_modified.jsonl"
    ).read_text().splitlines() if line.strip()]
    texts += [json.loads(line)["text"] for line in (
        shared_data / "trec" / "sigir" / "queries.jsonl").read_text().splitlines()]
    profiles = [extract_note(t) for t in texts]
    with_age = sum(p.age_years is not None for p in profiles)
    with_sex = sum(p.sex is not None for p in profiles)
    assert with_age >= 0.9 * len(profiles) and with_sex >= 0.9 * len(profiles)


@pytest.mark.shared_data
@pytest.mark.slow
def test_criterion_matching_real(shared_data: Path) -> None:
    report = criterion_matching(shared_data / "criteria" / "trialgpt_criterion" /
                                "trialgpt_criterion_annotations.json")
    assert report.pairs == 680
    gpt4 = next(s for s in report.systems if s.name.startswith("GPT-4"))
    assert gpt4.accuracy == pytest.approx(0.871, abs=0.001)
    majority = next(s for s in report.systems if s.name.startswith("majority"))
    assert report.systems[0].accuracy > majority.accuracy


@pytest.mark.shared_data
@pytest.mark.slow
def test_trec_real_criteria_pool(shared_data: Path) -> None:
    base = shared_data / "trec" / "sigir"
    report = trec_matching(base / "queries.jsonl", base / "qrels" / "test.tsv",
                           shared_data / "ctgov" / "studies.jsonl.gz", pool="criteria")
    assert report.trials == 318
    for system in report.systems:
        assert 0.0 <= system.ndcg10 <= 1.0 and system.auroc is not None


@pytest.mark.shared_data
@pytest.mark.slow
def test_target_trial_real(shared_data: Path) -> None:
    report = target_trial(shared_data / "patients" /
                          "synthetic_patient_cases_random_30_modified.jsonl",
                          shared_data / "ctgov" / "studies.jsonl.gz")
    assert report.patients == 30 and report.studies == 30_186
    matching = next(s for s in report.systems if s.name == "TrialScout matching")
    assert matching.recall10 > 0.5
