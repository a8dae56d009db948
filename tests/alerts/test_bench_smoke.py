"""The alerts benchmark runs end to end on a tiny input (it prints numbers, asserts none)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_alerts_benchmark_smoke_run(shared_data: Path) -> None:
    done = subprocess.run([sys.executable, "bench/bench_alerts.py", "--smoke",
                           "--skip-postgres"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "saved searches x" in done.stdout and "slowest pass" in done.stdout
