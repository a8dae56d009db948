"""The criteria commands: parse (text, stdin, stored trial), reparse, and eval criteria."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.factories import study
from trialscout.cli import _load_commands, cli

_load_commands()
runner = CliRunner()


def _invoke(db: Path, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, ["--database", f"sqlite:///{db}", *args], input=stdin)


def test_parse_text_json(tmp_path: Path) -> None:
    result = _invoke(tmp_path / "s.db", "criteria", "parse",
                     "Exclusion Criteria:\n* Prolia within the past 6 months", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["items"][0]["section"] == "exclusion"
    assert data["items"][0]["question"]["key"] == "drug:denosumab:within:6mo"


def test_parse_stdin_table(tmp_path: Path) -> None:
    result = _invoke(tmp_path / "s.db", "criteria", "parse", "-",
                     stdin="Inclusion Criteria:\n* HbA1c >= 7%\n")
    assert result.exit_code == 0, result.output
    assert "HbA1c" in result.stdout and "lab:hba1c:ge:7:%" in result.stdout


def test_parse_stored_trial(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps(study("NCT09990001")) + "\n")
    db = tmp_path / "s.db"
    assert _invoke(db, "import", str(src)).exit_code == 0
    result = _invoke(db, "criteria", "parse", "--nct", "NCT09990001", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"][0]["kind"] == "age"


def test_parse_errors(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert _invoke(db, "criteria", "parse").exit_code == 1
    assert _invoke(db, "criteria", "parse", "x", "--nct", "NCT09990001").exit_code == 1
    missing = _invoke(db, "criteria", "parse", "--nct", "NCT00000001")
    assert missing.exit_code == 1 and "no trial" in missing.output


def test_reparse(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps(study("NCT09990001")) + "\n")
    db = tmp_path / "s.db"
    _invoke(db, "import", str(src))
    result = _invoke(db, "criteria", "reparse", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["parsed"] == 0
    result = _invoke(db, "criteria", "reparse", "--all")
    assert result.exit_code == 0 and "parsed 1 trials" in result.stdout


def _brat(tmp_path: Path) -> Path:
    folder = tmp_path / "brat"
    folder.mkdir()
    (folder / "NCT1_inc.txt").write_text("History of type 2 diabetes\nHbA1c > 7%\n")
    (folder / "NCT1_inc.ann").write_text(
        "T1\tCondition 11 26\ttype 2 diabetes\nT2\tMeasurement 27 32\tHbA1c\n"
        "T3\tValue 33 37\t> 7%\nT4\tTemporal 0 7\tHistory\nR1\tHas_value Arg1:T2 Arg2:T3\t\n")
    return folder


def test_eval_criteria_brat_json(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["eval", "criteria", "--brat", str(_brat(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["corpus"] == "chia" and data["documents"] == 1
    assert data["types"]["Condition"]["exact"]["recall"] == 1.0
    assert data["overall"]["gold"] == 4


def test_eval_criteria_table_and_errors(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["eval", "criteria", "--brat", str(_brat(tmp_path))])
    assert result.exit_code == 0 and "overall" in result.stdout
    assert runner.invoke(cli, ["eval", "criteria"]).exit_code == 1
    assert runner.invoke(cli, ["eval", "criteria", "--tsv", str(tmp_path / "no.tsv")]
                         ).exit_code == 1
    assert runner.invoke(cli, ["eval", "criteria", "--brat", str(tmp_path),
                               "--corpus", "nope"]).exit_code == 1
