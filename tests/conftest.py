"""Shared fixtures: apps on SQLite (default) or PostgreSQL (marked `postgres`), real data paths."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.mailserver import mail_server  # noqa: F401 - a fixture for every test
from trialscout.app import TrialScout, create_app

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
POSTGRES_URL = os.environ.get("TRIALSCOUT_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data; tests that need it skip only when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def app() -> Iterator[TrialScout]:
    """A migrated app on a fresh in-memory SQLite database."""
    instance = create_app(database_url="sqlite://")
    yield instance
    instance.close()


@pytest.fixture
def file_app(tmp_path: Path) -> Iterator[TrialScout]:
    """A migrated app on a SQLite file, for tests that need several connections."""
    instance = create_app(database_url=f"sqlite:///{tmp_path / 'store.db'}")
    yield instance
    instance.close()


def _postgres_schema_url() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL tier needs a server at {POSTGRES_URL}: {exc}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrialScout]:
    """The same test on SQLite and, in the postgres tier, on PostgreSQL (own schema)."""
    if request.param == "sqlite":
        instance = create_app(database_url=f"sqlite:///{tmp_path / 'store.db'}")
        yield instance
        instance.close()
        return
    gen = _postgres_schema_url()
    url = next(gen)
    instance = create_app(database_url=url)
    try:
        yield instance
    finally:
        instance.close()
        gen.close()
