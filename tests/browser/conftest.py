"""End-to-end set-up: a real uvicorn server on loopback, Debian's Chromium, axe-core from npm.

axe-core is installed by `npm install` into a cache directory outside the repository (never
committed, never from a CDN); screenshots go to artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.fixtures import hostile_study
from trialscout.app import create_app
from trialscout.sample import sample_path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TRIALSCOUT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE_VERSION = "4.10"
SCREENSHOTS = REPO / "artifacts" / "screenshots"


def _cache_dir() -> Path:
    configured = os.environ.get("TRIALSCOUT_TEST_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "trialscout-tests"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle, installed from the npm registry on first use."""
    prefix = _cache_dir() / "npm"
    bundle = prefix / "node_modules" / "axe-core" / "axe.min.js"
    if not bundle.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("the browser tests need npm to install axe-core")
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                        "--no-save", "--silent", f"axe-core@{AXE_VERSION}"], check=True,
                       timeout=300)
    return bundle.read_text("utf-8")


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bundled sample (plus one trial with hostile markup) served by uvicorn."""
    import uvicorn

    from trialscout.web import create_web_app

    folder = tmp_path_factory.mktemp("browser")
    hostile = folder / "hostile.jsonl"
    hostile.write_text(json.dumps(hostile_study()) + "\n")
    core = create_app(database_url=f"sqlite:///{folder / 'sample.db'}")
    core.import_paths([sample_path(), hostile])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_web_app(core), log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    core.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, base_url: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser context (own cookies) with a desktop viewport; fails on CSP errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.console_problems = problems
    yield tab
    context.close()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], \
        problems


def screenshot(tab, name: str, *, full_page: bool = True) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    return path
