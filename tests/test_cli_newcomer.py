"""The newcomer's first hour: the README's CLI examples work on the demo's data, --database
takes a path or a URL, a busy port is reported before anything else, and the console does
not turn question keys into emoji."""

from __future__ import annotations

import json
import re
import shlex
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialscout.cli import _load_commands, cli, console, database_url

_load_commands()
runner = CliRunner()
README = Path(__file__).resolve().parents[1] / "README.md"
SKIPPED = {"serve"}


def _readme_examples() -> list[list[str]]:
    """The `trialscout` commands of the README's "Searching ..." section."""
    section = README.read_text().split("## Searching, criteria, matching and the web app", 1)[1]
    section = section.split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            for part in line.split(" ; "):
                words = shlex.split(part, comments=True)
                if words[:1] == ["trialscout"] and words[1] not in SKIPPED:
                    commands.append(words[1:])
    return commands


def test_the_readme_examples_run_on_the_demo_store(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIALSCOUT_DATABASE_URL", raising=False)
    demo = runner.invoke(cli, ["demo", "--no-serve"])
    assert demo.exit_code == 0, demo.output
    assert "--database trialscout-demo.db search" in demo.output
    Path("patient.txt").write_text("A 67-year-old woman with osteoporosis.\n")
    examples = _readme_examples()
    assert len(examples) >= 10
    for args in examples:
        result = runner.invoke(cli, ["--database", "trialscout-demo.db", *args])
        assert result.exit_code == 0, (args, result.output[-2000:])
    found = runner.invoke(cli, ["--database", "trialscout-demo.db", "search", "osteoporosis"])
    assert "NCT09" in found.output
    summary = runner.invoke(cli, ["--database", "trialscout-demo.db", "summary", "NCT09000001"])
    assert summary.exit_code == 0 and "not in the store" not in summary.output


def test_database_takes_a_path_or_a_url(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    assert database_url(str(path)) == f"sqlite:///{path.resolve()}"
    assert database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    by_url = runner.invoke(cli, ["demo", "--no-serve", "--database", f"sqlite:///{path}"])
    assert by_url.exit_code == 0, by_url.output
    for option in (str(path), f"sqlite:///{path}"):
        stats = runner.invoke(cli, ["--database", option, "stats"])
        assert stats.exit_code == 0 and int(stats.output.split()[0]) >= 25


def test_a_busy_port_is_reported_with_the_setting_to_change(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = runner.invoke(cli, ["demo", "--database", str(tmp_path / "d.db"),
                                     "--host", "127.0.0.1", "--port", str(port)])
    assert result.exit_code == 1
    assert "already in use" in result.output and "--port" in result.output
    assert "serving on" not in result.output
    assert not (tmp_path / "d.db").exists(), "the port is checked before loading"


def test_the_console_prints_question_keys_literally() -> None:
    with console.capture() as captured:
        console.print("condition:cancer:any")
    assert "condition:cancer:any" in captured.get()


def _demo_store(tmp_path: Path) -> str:
    db = str(tmp_path / "demo.db")
    assert runner.invoke(cli, ["demo", "--no-serve", "--database", db]).exit_code == 0
    return db


def test_match_reads_stdin_and_a_note_option(tmp_path: Path) -> None:
    db = _demo_store(tmp_path)
    note = "A 67-year-old woman with osteoporosis and a wrist fracture last year."
    by_option = runner.invoke(cli, ["--database", db, "match", "--note", note, "--json"])
    assert by_option.exit_code == 0, by_option.output
    by_stdin = runner.invoke(cli, ["--database", db, "match", "-", "--json"], input=note)
    assert by_stdin.exit_code == 0, by_stdin.output
    assert json.loads(by_option.stdout)["results"] == json.loads(by_stdin.stdout)["results"]
    neither = runner.invoke(cli, ["--database", db, "match"])
    assert neither.exit_code != 0 and "--note" in neither.output


def test_the_profile_template_is_a_valid_profile_that_matches(tmp_path: Path) -> None:
    from trialscout.patients.model import PatientProfile

    printed = runner.invoke(cli, ["patient", "template"])
    assert printed.exit_code == 0
    profile = PatientProfile.model_validate(json.loads(printed.stdout))
    assert profile.conditions and profile.sex == "female"
    path = tmp_path / "profile.json"
    path.write_text(printed.stdout)
    db = _demo_store(tmp_path)
    matched = runner.invoke(cli, ["--database", db, "match", str(path)])
    assert matched.exit_code == 0, matched.output
