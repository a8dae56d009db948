"""Several web nodes on PostgreSQL: two `serve` processes share one snapshot directory, a
separate sync-and-index job changes trials, and both serve the change without a restart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import _postgres_schema_url
from tests.ctgov_replay import ReplayServer, load_studies, nct_id

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
CLI = str(Path(sys.executable).with_name("trialscout"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def pg_url() -> Iterator[str]:
    gen = _postgres_schema_url()
    url = next(gen)
    yield url
    next(gen, None)


def _env(url: str, index_dir: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIALSCOUT_")}
    env.update({"TRIALSCOUT_DATABASE_URL": url, "TRIALSCOUT_SEARCH_INDEX_DIR": str(index_dir),
                "TRIALSCOUT_CTGOV_BASE_URL": base_url, "TRIALSCOUT_SYNC_PAGE_SIZE": "10",
                "TRIALSCOUT_CRITERIA_WORKERS": "1", "TRIALSCOUT_SECRET_KEY": "k" * 40})
    return env


def _run(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([CLI, *args, "--json"], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(orjson.loads(done.stdout))


def _wait_ready(port: int, proc: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "serve exited early"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/search", params={"q": "x"},
                         timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"serve on port {port} did not answer in {seconds} s")


def _titles(port: int, q: str) -> dict[str, str]:
    body = httpx.get(f"http://127.0.0.1:{port}/api/v1/search",
                     params={"q": q, "page_size": 50}, timeout=30).json()
    return {hit["nct_id"]: hit["title"] for hit in body["hits"]}


def test_two_serve_processes_follow_a_sync_and_index(pg_url: str, tmp_path: Path,
                                                     shared_data: Path) -> None:
    studies = load_studies(shared_data, 40)
    target = nct_id(studies[7])
    assert target is not None
    index_dir = tmp_path / "shared-volume" / "index"
    today = date.today()
    phrase = f'"rev {today.year} {today.month:02d} {today.day:02d}"'
    with ReplayServer(studies) as replay:
        env = _env(pg_url, index_dir, replay.base_url)
        first = _run(env, "sync")
        assert first["imported"] == len(studies)
        assert (index_dir / "CURRENT").is_file(), "the sync job published the index"
        assert _run(env, "index")["similar"] == "built"
        ports = [_free_port(), _free_port()]
        servers = [subprocess.Popen([CLI, "serve", "--host", "127.0.0.1", "--port", str(p)],
                                    env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE) for p in ports]
        try:
            for port, proc in zip(ports, servers, strict=True):
                _wait_ready(port, proc)
            for port in ports:
                assert _titles(port, phrase) == {}
            replay.touch([target], today)
            synced = _run(env | {"TRIALSCOUT_SEARCH_INDEX_ROLE": "open"}, "sync")
            assert synced["updated"] == 1
            published_before = (index_dir / "CURRENT").read_text()
            report = _run(env, "index")
            assert report["kind"] == "delta" and report["changed"] == 1
            assert (index_dir / "CURRENT").read_text() != published_before
            deadline = time.monotonic() + 30
            seen: list[dict[str, str]] = []
            while time.monotonic() < deadline:
                seen = [_titles(port, phrase) for port in ports]
                if all(target in s for s in seen):
                    break
                time.sleep(0.5)
            assert all(list(s) == [target] for s in seen), seen
            assert all(s[target].endswith(f"(rev {today.isoformat()})") for s in seen)
            for port in ports:
                related = httpx.get(f"http://127.0.0.1:{port}/api/v1/trials/{target}/similar",
                                    params={"limit": 3}, timeout=30)
                assert related.status_code == 200, related.text
            for proc in servers:
                assert proc.poll() is None, "no restart: the same processes answered"
        finally:
            for proc in servers:
                proc.terminate()
            for proc in servers:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    assert not any(p.name.startswith(".tmp-") for p in index_dir.iterdir())
