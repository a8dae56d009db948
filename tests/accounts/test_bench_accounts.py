"""bench/bench_accounts.py runs end to end on a tiny session (it prints, asserts nothing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_bench_accounts_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_accounts.py"), "--database",
         f"sqlite:///{tmp_path / 'b.db'}", "--sizes", "5"],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "5 answers + 5 notes: sign-in merge" in result.stdout
    assert "argon2id m=65536" in result.stdout
