"""Fixtures for search tests: the bundled sample and a small hand-made set of trials."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.search.helpers import fixture_studies, load
from trialscout.app import TrialScout, create_app
from trialscout.sample import sample_path


@pytest.fixture(scope="module")
def sample_app() -> Iterator[TrialScout]:
    """In-memory store with the bundled sample (read-only: tests must not write to it)."""
    app = create_app(database_url="sqlite://")
    app.import_paths([sample_path()])
    yield app
    app.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialScout]:
    """In-memory store with the hand-made studies of helpers.fixture_studies (read-only)."""
    app = create_app(database_url="sqlite://")
    load(app, fixture_studies(), tmp_path_factory.mktemp("world"))
    yield app
    app.close()


@pytest.fixture
def write_app(tmp_path: Path) -> Iterator[TrialScout]:
    """A SQLite file store with a saved index directory, for tests that write."""
    app = create_app(database_url=f"sqlite:///{tmp_path / 'store.db'}")
    yield app
    app.close()
