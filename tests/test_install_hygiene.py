"""The default install is pure Python and quick, and a newcomer's working files stay out of git."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_the_build_needs_no_mypy_and_does_not_compile_by_default() -> None:
    with open(REPO / "pyproject.toml", "rb") as handle:
        requires = tomllib.load(handle)["build-system"]["requires"]
    assert not any(r.startswith("mypy") for r in requires)
    probe = ("import runpy, sys, setuptools\n"
             "setuptools.setup = lambda **kw: print(len(kw.get('ext_modules') or []))\n"
             "sys.argv = ['setup.py', 'bdist_wheel']\n"
             "runpy.run_path('setup.py')\n")
    env = {k: v for k, v in os.environ.items() if k != "TRIALSCOUT_COMPILE"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0", "no extension modules without TRIALSCOUT_COMPILE=1"


@pytest.mark.parametrize("path", ["trialscout-demo.db.search/index.bin", "trialscout-demo.db-wal",
                                  "trialscout-demo.db-shm", "store.db"])
def test_demo_and_store_files_are_ignored(path: str) -> None:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=REPO,
                            timeout=30)
    assert result.returncode == 0, f"{path} is not ignored"


def test_scripts_test_says_when_it_replaces_a_regular_install() -> None:
    script = (REPO / "scripts" / "test").read_text()
    assert "replacing the regular TrialScout install" in script
    assert "TRIALSCOUT_TEST_VENV" in script
