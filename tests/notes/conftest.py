"""A frozen, movable clock for the workspace (notes, shares, shortlist stamp their rows with it)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher

T0 = datetime(2026, 12, 1, 9, 30)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock()
    for module in ("ownership", "notes", "shares", "shortlist"):
        monkeypatch.setattr(f"trialscout.workspace.{module}.utcnow", frozen)
    return frozen


@pytest.fixture
def fast_hasher() -> PasswordHasher:
    """argon2id with small costs, so brute-force tests stay fast (the type is unchanged)."""
    return PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
