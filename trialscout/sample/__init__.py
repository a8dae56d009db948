"""The bundled sample: about thirty fictional trials written for TrialScout's demo and tests."""

from __future__ import annotations

from pathlib import Path


def sample_path() -> Path:
    return Path(__file__).parent / "trials.jsonl"
