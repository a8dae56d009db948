"""The search, browse, reindex and eval search commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialscout.cli import _load_commands, cli
from trialscout.sample import sample_path

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> list[str]:
    _load_commands()
    args = ["--database", f"sqlite:///{tmp_path / 'cli.db'}"]
    result = runner.invoke(cli, [*args, "import", str(sample_path())])
    assert result.exit_code == 0, result.output
    return args


def test_search_table_and_json(db: list[str]) -> None:
    result = runner.invoke(cli, [*db, "search", "osteoporosis", "--near", "Boston, MA",
                                 "--status", "RECRUITING", "--page-size", "3"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "NCT09000001" in result.output and "Boston" in result.output
    result = runner.invoke(cli, [*db, "search", "diabetes", "--age", "40", "--sex", "male",
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == len(data["hits"]) > 0
    assert "status" in data["facets"]


def test_search_errors_are_one_line(db: list[str]) -> None:
    result = runner.invoke(cli, [*db, "search", "x", "--near", "Bostn"])
    assert result.exit_code == 1
    assert "unknown place" in result.output and "Traceback" not in result.output
    result = runner.invoke(cli, [*db, "search", "--started-after", "yesterday"])
    assert result.exit_code == 1 and "YYYY-MM-DD" in result.output
    result = runner.invoke(cli, [*db, "search", "--page", "0"])
    assert result.exit_code == 1 and "page" in result.output


def test_browse_and_reindex(db: list[str]) -> None:
    result = runner.invoke(cli, [*db, "browse", "--json", "--order", "count"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0]["condition"] == "Osteoporosis" and rows[0]["count"] > 1
    result = runner.invoke(cli, [*db, "browse", "Asthma", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"] == 2
    result = runner.invoke(cli, [*db, "reindex"])
    assert result.exit_code == 0 and "indexed 30 trials" in result.output


def test_eval_search_on_tiny_files(tmp_path: Path) -> None:
    _load_commands()
    topics = tmp_path / "queries.jsonl"
    topics.write_text(
        json.dumps({"_id": "q1", "text": "postmenopausal osteoporosis denosumab"}) + "\n"
        + json.dumps({"_id": "q2", "text": "child with asthma"}) + "\n")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\tNCT09000001\t2\nq1\tNCT09000024\t0\n"
                     "q2\tNCT09000024\t2\nq2\tNCT09000001\t0\nq2\tNCT99999999\t1\n")
    result = runner.invoke(cli, ["eval", "search", "--topics", str(topics), "--qrels",
                                 str(qrels), "--studies", str(sample_path()), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["pool"] == 2 and data["topics"] == 2
    ours = data["systems"][0]
    assert ours["MRR"] == 1.0 and ours["P@10"] == pytest.approx(0.1)
    result = runner.invoke(cli, ["eval", "search", "--topics", str(topics), "--qrels",
                                 str(topics), "--studies", str(sample_path())])
    assert result.exit_code == 1 and "header" in result.output
