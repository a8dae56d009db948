"""NUL characters in what a visitor sends never reach the database as NUL: PostgreSQL text
cannot hold them, so the web refuses or escapes them alike on both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from trialscout.app import TrialScout
from trialscout.sample import sample_path
from trialscout.sessions import SessionStore, new_session_token
from trialscout.web import create_web_app


@pytest.fixture
def client(backend_app: TrialScout) -> Iterator[TestClient]:
    backend_app.import_paths([sample_path()])
    with TestClient(create_web_app(backend_app), base_url="http://127.0.0.1") as test_client:
        yield test_client


def _csrf(client: TestClient) -> str:
    token: str = client.get("/api/v1/session").json()["csrf_token"]
    return token


def test_nul_in_an_answer_key_is_refused(client: TestClient) -> None:
    token = _csrf(client)
    refused = client.put("/api/v1/answers", json={"answers": {"age:\u0000x": "yes"}},
                         headers={"X-CSRF-Token": token})
    assert refused.status_code == 422
    kept = client.put("/api/v1/answers", json={"answers": {"age:over-18": "yes"}},
                      headers={"X-CSRF-Token": token})
    assert kept.status_code == 200
    assert client.get("/api/v1/answers").json()["answers"] == {"age:over-18": "yes"}


def test_nul_in_the_profile_and_the_note_is_stored_safely(client: TestClient) -> None:
    saved = client.put("/api/v1/profile", json={"age": 50, "near": "Bos\u0000ton"},
                       headers={"X-CSRF-Token": _csrf(client)})
    assert saved.status_code < 500
    record = client.put("/api/v1/profile/record",
                        json={"note": "Diagnosed with osteo\u0000porosis. Has asthma.\u0000"},
                        headers={"X-CSRF-Token": _csrf(client)})
    assert record.status_code in (200, 422), record.text
    assert client.get("/api/v1/profile").status_code == 200


def test_the_store_refuses_nul_keys_and_ignores_them_in_lookups(
        backend_app: TrialScout) -> None:
    store = SessionStore(backend_app.engine)
    token = new_session_token()
    with pytest.raises(ValueError, match="NUL"):
        store.put_answers(token, {"a\u0000b": "yes"})
    store.put_answers(token, {"ok": "no"})
    assert store.answers(token, ["ok", "a\u0000b"]) == {"ok": "no"}
    store.clear_answers(token, ["a\u0000b"])
    assert store.answers(token) == {"ok": "no"}
