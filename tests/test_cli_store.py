"""The store commands: import summaries, exit codes and readable errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.factories import study
from trialscout.cli import _load_commands, cli

_load_commands()
runner = CliRunner()


def _invoke(db: Path, *args: str):
    return runner.invoke(cli, ["--database", f"sqlite:///{db}", *args])


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_import_json_summary_and_idempotence(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "a.jsonl", [json.dumps(study("NCT09990001")), "{bad",
                                        json.dumps(study("NCT09990002"))])
    result = _invoke(tmp_path / "s.db", "import", str(src), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["imported"] == 2 and summary["rejected"] == 1
    assert summary["rejections"][0]["line"] == 2
    again = json.loads(_invoke(tmp_path / "s.db", "import", str(src), "--json").stdout)
    assert (again["imported"], again["unchanged"]) == (0, 2)


def test_strict_fails_on_any_rejection(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "a.jsonl", [json.dumps(study("NCT09990001")), "{bad"])
    assert _invoke(tmp_path / "s.db", "import", str(src), "--strict").exit_code == 1


def test_nothing_importable_is_a_failure(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "a.jsonl", ["{bad", "[]"])
    result = _invoke(tmp_path / "s.db", "import", str(src))
    assert result.exit_code == 1
    assert "rejected" in result.output


def test_text_report_names_file_line_and_reason(tmp_path: Path) -> None:
    bad = study("NCT09990003")
    bad["protocolSection"]["statusModule"]["overallStatus"] = "PAUSED"
    src = _jsonl(tmp_path / "a.jsonl", [json.dumps(study("NCT09990001")), json.dumps(bad)])
    result = _invoke(tmp_path / "s.db", "import", str(src))
    assert result.exit_code == 0
    assert f"{src}:2" in result.output and "NCT09990003" in result.output
    assert "PAUSED" in result.output


def test_missing_path_and_bad_database_are_readable(tmp_path: Path) -> None:
    missing = _invoke(tmp_path / "s.db", "import", str(tmp_path / "nope.json"))
    assert missing.exit_code == 1 and "no such file" in missing.output
    bad_db = runner.invoke(cli, ["--database", "postgresql+psycopg://nobody@127.0.0.1:1/x",
                                 "stats"])
    assert bad_db.exit_code == 1 and "cannot open the database" in bad_db.output
    assert "Traceback" not in bad_db.output


def test_settings_override_and_listing(tmp_path: Path) -> None:
    listing = runner.invoke(cli, ["settings", "--markdown"])
    assert listing.exit_code == 0 and "TRIALSCOUT_DATABASE_URL" in listing.output
    bad = runner.invoke(cli, ["--database", f"sqlite:///{tmp_path}/s.db", "--set",
                              "import_batch_size=zero", "stats"])
    assert bad.exit_code == 1 and "import_batch_size" in bad.output


def test_demo_without_serving_loads_the_sample(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = runner.invoke(cli, ["demo", "--database", str(db), "--no-serve"])
    assert result.exit_code == 0, result.output
    stats = _invoke(db, "stats")
    assert stats.output.split()[0].isdigit() and int(stats.output.split()[0]) >= 25


def test_errors_print_user_text_literally_and_unwrapped(tmp_path: Path) -> None:
    long_dir = tmp_path / ("[bold]x" + "y" * 120)
    result = _invoke(tmp_path / "s.db", "import", str(long_dir / "missing.json"))
    assert result.exit_code != 0
    assert str(long_dir) in result.stderr
