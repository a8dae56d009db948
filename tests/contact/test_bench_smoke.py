"""The contact benchmark runs end to end on a few inquiries (it prints numbers, asserts none)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_contact_benchmark_smoke_run() -> None:
    done = subprocess.run([sys.executable, "bench/bench_contact.py", "--n", "12"], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(done.stdout)
    assert report["inquiries"] == report["exported"] == 12
    assert report["count"] == 10, "the public count is rounded down to a multiple of 5"
