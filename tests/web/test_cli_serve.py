"""`trialscout serve` hands uvicorn the web app with the chosen address and settings."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from trialscout.cli import _load_commands, cli


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    _load_commands()
    return calls


def _free_port() -> str:
    """A port nothing listens on, so the start-up port check passes whatever else runs here."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def test_serve_runs_the_web_app_on_the_given_address(uvicorn_calls, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from fastapi import FastAPI

    port = _free_port()
    result = CliRunner().invoke(cli, ["--database", f"sqlite:///{tmp_path / 's.db'}", "serve",
                                      "--host", "127.0.0.1", "--port", port])
    assert result.exit_code == 0, result.output
    app, options = uvicorn_calls[0]
    assert isinstance(app, FastAPI)
    assert options["host"] == "127.0.0.1" and options["port"] == int(port)
    assert options["access_log"] is False, "uvicorn's access log would record query strings"


def test_serve_with_workers_uses_the_factory_and_one_shared_secret(
        uvicorn_calls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith("TRIALSCOUT_")}
    monkeypatch.setattr(os, "environ", environment)
    url = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(cli, ["--database", url, "serve", "--workers", "2",
                                      "--host", "127.0.0.1", "--port", _free_port()])
    assert result.exit_code == 0, result.output
    target, options = uvicorn_calls[0]
    assert target == "trialscout.web.asgi:create_from_environment" and options["factory"]
    assert options["workers"] == 2
    assert os.environ["TRIALSCOUT_DATABASE_URL"] == url
    assert len(os.environ["TRIALSCOUT_SECRET_KEY"]) >= 32


def test_demo_loads_the_sample_and_serves_it(uvicorn_calls, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", "--database", str(tmp_path / "demo.db"),
                                      "--host", "127.0.0.1", "--port", _free_port()])
    assert result.exit_code == 0, result.output
    assert uvicorn_calls, "demo serves the web app"
