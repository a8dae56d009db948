"""Sample trials parsed once for the summary tests."""

from __future__ import annotations

import json

import pytest

from trialscout.registry.api_v2 import trial_from_api_v2
from trialscout.registry.model import Trial
from trialscout.sample import sample_path


@pytest.fixture(scope="session")
def sample_trials() -> list[Trial]:
    with open(sample_path(), encoding="utf-8") as handle:
        return [trial_from_api_v2(json.loads(line)) for line in handle if line.strip()]


@pytest.fixture(scope="session")
def by_id(sample_trials: list[Trial]) -> dict[str, Trial]:
    return {t.nct_id: t for t in sample_trials}
