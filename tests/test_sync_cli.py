"""`trialscout sync` on the command line, including a sync killed with SIGKILL mid-run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import trialscout.cli.sync_cmd  # noqa: F401 - registers the command
from tests.ctgov_replay import Fault, ReplayServer, load_studies, nct_id, store_snapshot
from trialscout.app import create_app
from trialscout.cli import cli
from trialscout.registry.sync_query import since_filter
from trialscout.store.tables import SyncRunRow

REPO = Path(__file__).resolve().parents[1]
STUDIES = 120
PAGE_SIZE = 30
RUNS = SyncRunRow.__table__


@pytest.fixture(scope="module")
def studies(shared_data: Path) -> list[dict[str, Any]]:
    return load_studies(shared_data, STUDIES)


@pytest.fixture
def server(studies: list[dict[str, Any]]) -> Iterator[ReplayServer]:
    with ReplayServer(studies) as replay:
        yield replay


def options(database: str, base_url: str, *extra: str) -> list[str]:
    out = ["--database", database, "--set", f"ctgov_base_url={base_url}",
           "--set", f"sync_page_size={PAGE_SIZE}", "--set", "sync_backoff_base=0.01",
           "--set", "sync_backoff_max=0.05"]
    for setting in extra:
        out += ["--set", setting]
    return out


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_sync_prints_json_and_the_next_run_is_incremental(tmp_path: Path,
                                                          server: ReplayServer) -> None:
    database = f"sqlite:///{tmp_path / 'store.db'}"
    first = invoke(*options(database, server.base_url), "sync", "--json")
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert (summary["imported"], summary["pages"], summary["rejected"]) == (STUDIES, 4, 0)
    assert summary["since"] is None and summary["resumed_from_page"] is None

    server.requests.clear()
    second = invoke(*options(database, server.base_url), "sync", "--json")
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)
    app = create_app(database_url=database)
    with app.connect() as conn:
        started = conn.execute(select(RUNS.c.started_at).where(
            RUNS.c.id == summary["run_id"])).scalar_one()
    app.close()
    assert again["since"] == (started.date() - timedelta(days=1)).isoformat()
    assert (again["studies"], again["imported"], again["pages"]) == (0, 0, 1)
    assert server.requests[0].params["filter.advanced"] == since_filter(again["since"])

    third = invoke(*options(database, server.base_url), "sync", "--full")
    assert third.exit_code == 0, third.output
    assert f"synced 4 pages, full: imported 0, updated 0, unchanged {STUDIES}" in third.stdout


def test_filters_are_sent(tmp_path: Path, server: ReplayServer) -> None:
    database = f"sqlite:///{tmp_path / 'store.db'}"
    result = invoke(*options(database, server.base_url), "sync", "--condition", "hiv",
                    "--term", "trial", "--status", "recruiting", "--status",
                    "completed,UNKNOWN")
    assert result.exit_code == 0, result.output
    params = server.requests[0].params
    assert params["query.cond"] == "hiv" and params["query.term"] == "trial"
    assert params["filter.overallStatus"] == "COMPLETED,RECRUITING,UNKNOWN"


def test_invalid_status_is_a_clear_error(tmp_path: Path, server: ReplayServer) -> None:
    database = f"sqlite:///{tmp_path / 'store.db'}"
    result = invoke(*options(database, server.base_url), "sync", "--status", "RECRUITNG")
    assert result.exit_code == 1
    assert "unknown status 'RECRUITNG'" in result.stderr and "RECRUITING" in result.stderr
    assert "Traceback" not in result.output
    assert server.requests == []


@pytest.mark.parametrize(("base", "message"), [
    ("not a url", "ctgov_base_url"),
    ("ftp://127.0.0.1/api", "ctgov_base_url must be an http"),
    ("{server}/wrong", "HTTP 404"),
    ("http://127.0.0.1:{closed}", "cannot connect"),
])
def test_bad_base_url_is_a_readable_error(tmp_path: Path, server: ReplayServer, base: str,
                                          message: str) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    url = base.format(server=server.base_url, closed=closed)
    database = f"sqlite:///{tmp_path / 'store.db'}"
    result = invoke(*options(database, url, "sync_max_retries=2"), "sync")
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_rejected_records_are_listed(tmp_path: Path, server: ReplayServer,
                                     studies: list[dict[str, Any]]) -> None:
    broken = {**studies[5], "protocolSection": {**studies[5]["protocolSection"],
                                                "designModule": {"studyType": "ODD"}}}
    server.replace(5, broken)
    database = f"sqlite:///{tmp_path / 'store.db'}"
    result = invoke(*options(database, server.base_url), "sync")
    assert result.exit_code == 0, result.output
    assert f"page 1:6 [{nct_id(studies[5])}]" in result.stderr and "ODD" in result.stderr
    assert f"imported {STUDIES - 1}" in result.stdout and "rejected 1" in result.stdout


def test_retries_are_announced_and_give_up_tells_how_to_resume(tmp_path: Path,
                                                               server: ReplayServer) -> None:
    database = f"sqlite:///{tmp_path / 'store.db'}"
    server.fault_page(2, Fault.http(503), Fault.http(503))
    result = invoke(*options(database, server.base_url, "sync_max_retries=2"), "sync")
    assert result.exit_code == 1
    assert "retrying page 2" in result.stderr and "HTTP 503" in result.stderr
    assert "gave up on page 2 after 2 attempts" in result.stderr
    assert "run the same command again to resume" in result.stderr
    resumed = invoke(*options(database, server.base_url), "sync", "--json")
    assert json.loads(resumed.stdout)["resumed_from_page"] == 2


def _sync_process(database: str, base_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from trialscout.cli import main; main()",
         *options(database, base_url, "sync_timeout=120"), "sync", "--json"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_killed_sync_resumes_and_ends_like_a_clean_one(tmp_path: Path,
                                                       server: ReplayServer) -> None:
    database = f"sqlite:///{tmp_path / 'store.db'}"
    server.fault_page(3, Fault.stall())
    process = _sync_process(database, server.base_url)
    deadline = time.monotonic() + 60
    while 3 not in server.pages_requested():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the sync never asked for page 3"
        time.sleep(0.05)
    stalled = next(r for r in server.requests if r.page == 3)
    process.kill()
    process.communicate(timeout=30)

    app = create_app(database_url=database)
    with app.connect() as conn:
        (run,) = conn.execute(select(RUNS)).all()
    assert (run.status, run.pages_done, run.page_token) == (
        "running", 2, stalled.params["pageToken"])
    assert app.trial_count() == 2 * PAGE_SIZE
    app.close()

    before = len(server.requests)
    rerun = _sync_process(database, server.base_url)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    summary = json.loads(out)
    assert (summary["resumed_from_page"], summary["pages"], summary["imported"]) == (
        3, 2, STUDIES - 2 * PAGE_SIZE)
    assert server.requests[before].params["pageToken"] == stalled.params["pageToken"]
    assert server.pages_requested()[before:] == [3, 4]

    resumed = create_app(database_url=database)
    clean = create_app(database_url="sqlite://", ctgov_base_url=server.base_url,
                       sync_page_size=PAGE_SIZE)
    clean.sync()
    assert store_snapshot(resumed) == store_snapshot(clean)
    resumed.close()
    clean.close()
