"""A web app over the bundled sample plus the web test trials, and a client for it."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.fixtures import web_studies
from trialscout.app import TrialScout, create_app
from trialscout.sample import sample_path
from trialscout.web import create_web_app


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialScout]:
    folder = tmp_path_factory.mktemp("web")
    extra = folder / "web_studies.jsonl"
    extra.write_text("\n".join(json.dumps(s) for s in web_studies()) + "\n")
    app = create_app(database_url=f"sqlite:///{folder / 'web.db'}", secret_key="test-secret",
                     max_request_bytes=20_000)
    report = app.import_paths([sample_path(), Path(extra)])
    assert report.stored >= 33
    yield app
    app.close()


@pytest.fixture(scope="module")
def web(core: TrialScout) -> FastAPI:
    return create_web_app(core)


_browsers = itertools.count(1)


@pytest.fixture
def client(web: FastAPI) -> Iterator[TestClient]:
    """A fresh browser: its own cookie jar, so its own anonymous session, and its own
    network address (limits per address apply as they would to separate people)."""
    n = next(_browsers)
    address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    with TestClient(web, base_url="http://127.0.0.1", client=(address, 50000)) as test_client:
        yield test_client


def csrf_for(client: TestClient) -> str:
    response = client.get("/api/v1/session")
    assert response.status_code == 200
    token: str = response.json()["csrf_token"]
    return token
