"""The summary, similar, guides, questions and evaluation commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialscout.app import create_app
from trialscout.cli import _load_commands, cli
from trialscout.sample import sample_path

_load_commands()
runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "s.db"
    app = create_app(database_url=f"sqlite:///{path}")
    app.import_paths([sample_path()])
    app.close()
    return path


def _run(db: Path, *args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["--database", f"sqlite:///{db}", *args])
    return result


def test_summary_json_lists_sentences_with_sources(db: Path) -> None:
    result = _run(db, "summary", "NCT09000001", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["backend"] == "offline" and data["sentences"]
    assert all(s["sources"] for s in data["sentences"] if s["topic"] != "note")
    text = _run(db, "summary", "nct09000001").stdout
    assert "Who can join" in text and "denosumab" in text
    missing = _run(db, "summary", "NCT00000000")
    assert missing.exit_code == 1 and "no trial" in missing.output


def test_similar_json_has_reasons_and_distances(db: Path) -> None:
    result = _run(db, "similar", "NCT09000001", "-k", "3", "--near", "42.36,-71.06", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3
    assert all(r["explanation"] and r["distance_km"] is not None for r in rows)
    assert _run(db, "similar", "NCT00000000").exit_code == 1


def test_guides_list_and_show(db: Path) -> None:
    rows = json.loads(_run(db, "guides", "list", "--json").stdout)
    by_slug = {r["slug"]: r for r in rows}
    assert by_slug["denosumab"]["trials"] >= 5
    shown = _run(db, "guides", "show", "denosumab", "--json", "--trials", "2")
    data = json.loads(shown.stdout)
    assert data["guide"]["title"] == "Denosumab" and len(data["trials"]["trials"]) == 2
    text = _run(db, "guides", "show", "osteoporosis").stdout
    assert "Sources" in text and "NCT0900" in text
    assert _run(db, "guides", "show", "nothing").exit_code == 1


def test_questions_list_and_answer(db: Path) -> None:
    app = create_app(database_url=f"sqlite:///{db}")
    asked = app.guides.ask(text="Can men take romosozumab?", client_key="cli-test",
                           email="q@example.org", guide_slug="romosozumab")
    app.close()
    listed = json.loads(_run(db, "questions", "list", "--json").stdout)
    assert [q["id"] for q in listed] == [asked.id]
    assert "Can men take romosozumab?" in _run(db, "questions", "list").stdout
    answered = _run(db, "questions", "answer", str(asked.id), "In some countries.", "--publish")
    assert answered.exit_code == 0 and "published" in answered.stdout
    assert json.loads(_run(db, "questions", "list", "--json").stdout) == []
    assert _run(db, "questions", "answer", "999", "x").exit_code == 1
    assert _run(db, "questions", "list", "--status", "bogus").exit_code == 1
    assert _run(db, "questions", "delete", str(asked.id)).exit_code == 0
    assert _run(db, "questions", "delete", str(asked.id)).exit_code == 1


def test_eval_readability_and_similar_on_the_sample() -> None:
    result = runner.invoke(cli, ["eval", "readability", "--studies", str(sample_path()),
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["studies"] == 30 and data["summaries_with_fact_problems"] == 0
    assert data["grade"]["all"]["share_at_or_below_8"] == 1.0
    result = runner.invoke(cli, ["eval", "similar", "--studies", str(sample_path()),
                                 "--backend", "lexical", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {r["mode"] for r in data["results"]} == {"combined", "text"}
    table = runner.invoke(cli, ["eval", "readability", "--studies", str(sample_path())])
    assert "share <= 8" in table.stdout
