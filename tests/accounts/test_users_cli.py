"""`trialscout users`: create an admin, list, change role, disable, delete."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from trialscout.cli import _load_commands, cli

_load_commands()
runner = CliRunner()


def _invoke(db: Path, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(cli, ["--database", f"sqlite:///{db}", *args], input=stdin)


def _listed(db: Path) -> list[dict[str, object]]:
    result = _invoke(db, "users", "list", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_users_lifecycle(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    created = _invoke(db, "users", "create", "Boss@Example.org", "--password-stdin",
                      stdin="a long admin password\n")
    assert created.exit_code == 0, created.output
    rows = _listed(db)
    assert [(r["email"], r["role"], r["verified"], r["disabled"]) for r in rows] == \
        [("boss@example.org", "admin", True, False)]
    assert "password" not in json.dumps(rows)
    again = _invoke(db, "users", "create", "boss@example.org", "--password-stdin",
                    stdin="a long admin password\n")
    assert again.exit_code == 1 and "exists already" in again.output
    short = _invoke(db, "users", "create", "x@example.org", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "at least 10" in short.output
    assert _invoke(db, "users", "role", "boss@example.org", "coordinator").exit_code == 0
    assert _invoke(db, "users", "role", "boss@example.org", "king").exit_code == 1
    assert _invoke(db, "users", "disable", "boss@example.org").exit_code == 0
    assert [(r["role"], r["disabled"]) for r in _listed(db)] == [("coordinator", True)]
    assert _invoke(db, "users", "disable", "nobody@example.org").exit_code == 1
    assert _invoke(db, "users", "delete", "boss@example.org", "--yes").exit_code == 0
    assert _listed(db) == []
