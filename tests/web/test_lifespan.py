"""Server start-up and background work: warm-up before serving, the hourly session purge."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.loops import run_isolated
from trialscout.app import create_app
from trialscout.sample import sample_path
from trialscout.web import create_web_app, factory


@pytest.mark.parametrize(("mode", "loaded"), [("wait", True), ("off", False)])
def test_warm_up_mode_decides_whether_the_index_is_loaded_before_serving(
        tmp_path: Path, mode: str, loaded: bool) -> None:
    core = create_app(database_url=f"sqlite:///{tmp_path / 's.db'}", web_warm_up=mode,
                      search_index_dir="none")
    core.import_paths([sample_path()])
    with TestClient(create_web_app(core), base_url="http://127.0.0.1"):
        assert (core.search_engine._state is not None) is loaded
    core.close()


def test_warm_up_freezes_what_it_loaded_until_shutdown(tmp_path: Path) -> None:
    core = create_app(database_url=f"sqlite:///{tmp_path / 's.db'}", search_index_dir="none")
    core.import_paths([sample_path()])
    gc.unfreeze()
    with TestClient(create_web_app(core), base_url="http://127.0.0.1"):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    core.close()


def test_expired_sessions_are_purged_while_the_server_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    class Sessions:
        def purge_expired(self) -> int:
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("database busy")
            return 0

    async def run() -> None:
        task = asyncio.create_task(factory._purge_sessions(Sessions()))  # type: ignore[arg-type]
        for _ in range(200):
            await asyncio.sleep(0.005)
            if len(calls) >= 3:
                break
        task.cancel()

    monkeypatch.setattr(factory, "SESSION_PURGE_SECONDS", 0.001)
    run_isolated(run())
    assert len(calls) >= 3
