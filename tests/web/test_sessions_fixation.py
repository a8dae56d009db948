"""Session fixation: only ids the server issued are kept, and the id changes when the
visitor's data does (the data moves with it; the old id no longer reaches it)."""

from __future__ import annotations

import hashlib

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.web.conftest import csrf_for
from trialscout.app import TrialScout
from trialscout.sessions import SessionStore, new_session_token
from trialscout.sessions.tokens import csrf_token, is_issued_session_id, issue_session_id

SECRET = b"test-secret"


def _with_cookie(web: FastAPI, session_id: str) -> TestClient:
    """Another browser, presenting ``session_id`` (a planted or stale id)."""
    other = TestClient(web, base_url="http://127.0.0.1")
    other.cookies.set("ts_session", session_id)
    return other


def _stored_hashes(core: TrialScout) -> set[str]:
    with core.engine.connect() as conn:
        return {row[0] for row in conn.execute(text("SELECT id_hash FROM web_sessions"))}


def test_issued_ids_are_signed_by_the_secret() -> None:
    issued = issue_session_id(SECRET)
    assert is_issued_session_id(SECRET, issued)
    assert not is_issued_session_id(b"another-secret", issued)
    nonce, signature = issued.split(".")
    assert not is_issued_session_id(SECRET, nonce)
    assert not is_issued_session_id(SECRET, f"{new_session_token()}.{signature}")
    assert not is_issued_session_id(SECRET, None)


def test_a_client_chosen_id_is_replaced_and_never_stored(web: FastAPI,
                                                         core: TrialScout) -> None:
    chosen = new_session_token()
    with _with_cookie(web, chosen) as planted:
        first = planted.get("/api/v1/session")
        issued = first.cookies["ts_session"]
        assert issued != chosen and is_issued_session_id(SECRET, issued)
        assert first.headers["X-CSRF-Token"] == first.json()["csrf_token"]
    with _with_cookie(web, chosen) as planted:
        refused = planted.put("/api/v1/profile", json={"age": 44},
                              headers={"X-CSRF-Token": csrf_token(SECRET, chosen)})
        assert refused.status_code == 403
    assert hashlib.sha256(chosen.encode()).hexdigest() not in _stored_hashes(core)


def test_saving_the_profile_rotates_the_id_and_moves_the_data(
        client: TestClient, web: FastAPI, core: TrialScout) -> None:
    token = csrf_for(client)
    client.put("/api/v1/answers", json={"answers": {"fixation-test:key": "yes"}},
               headers={"X-CSRF-Token": token})
    before = client.cookies["ts_session"]
    saved = client.put("/api/v1/profile", json={"age": 52}, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200
    after = client.cookies["ts_session"]
    assert after != before and is_issued_session_id(SECRET, after)
    new_csrf = saved.headers["X-CSRF-Token"]
    assert new_csrf == csrf_for(client) != token
    assert client.get("/api/v1/answers").json()["answers"] == {"fixation-test:key": "yes"}
    assert client.get("/api/v1/profile").json()["profile"]["age"] == 52
    with _with_cookie(web, before) as stale:
        assert stale.get("/api/v1/profile").json()["profile"]["age"] is None
    assert hashlib.sha256(before.encode()).hexdigest() not in _stored_hashes(core)
    assert client.put("/api/v1/profile", json={"age": 53},
                      headers={"X-CSRF-Token": token}).status_code == 403


def test_uploading_a_record_rotates_the_id_and_keeps_the_record(client: TestClient,
                                                                web: FastAPI) -> None:
    first = client.put("/api/v1/profile/record", json={"note": "I have osteoporosis."},
                       headers={"X-CSRF-Token": csrf_for(client)})
    assert first.status_code == 200
    before = client.cookies["ts_session"]
    second = client.put("/api/v1/profile/record", json={"note": "I have asthma."},
                        headers={"X-CSRF-Token": first.headers["X-CSRF-Token"]})
    assert second.status_code == 200
    assert client.cookies["ts_session"] != before
    assert second.json()["patient_id"] == first.json()["patient_id"]
    assert second.json()["version"] == 2
    assert client.get("/api/v1/profile/record").status_code == 200
    with _with_cookie(web, before) as stale:
        assert stale.get("/api/v1/profile/record").status_code == 404


def test_the_profile_form_rotates_the_id(client: TestClient) -> None:
    page = client.get("/profile")
    before = client.cookies["ts_session"]
    marker = 'name="csrf_token" value="'
    form_token = page.text.split(marker, 1)[1].split('"', 1)[0]
    saved = client.post("/profile", data={"csrf_token": form_token, "age": "47"},
                        follow_redirects=False)
    assert saved.status_code == 303
    assert client.cookies["ts_session"] != before
    assert 'value="47"' in client.get("/profile").text


def test_forgetting_the_session_issues_a_new_id(client: TestClient) -> None:
    token = csrf_for(client)
    saved = client.put("/api/v1/profile", json={"age": 61}, headers={"X-CSRF-Token": token})
    before = client.cookies["ts_session"]
    forgotten = client.delete("/api/v1/session",
                              headers={"X-CSRF-Token": saved.headers["X-CSRF-Token"]})
    assert forgotten.status_code == 204
    assert client.cookies["ts_session"] != before
    assert forgotten.headers["X-CSRF-Token"] == csrf_for(client)


def test_the_store_moves_answers_profile_and_record(core: TrialScout) -> None:
    from trialscout.patients.model import PatientProfile
    from trialscout.sessions import Profile

    store = SessionStore(core.engine)
    old, new = new_session_token(), new_session_token()
    store.put_answers(old, {"k": "no"})
    store.put_profile(old, Profile(age=70))
    stored = store.save_patient(old, PatientProfile(), "note")
    assert store.rotate(old, new)
    assert store.answers(new) == {"k": "no"} and store.profile(new).age == 70
    assert store.patient_id(new) == stored.patient_id
    assert store.answers(old) == {} and store.patient_id(old) is None
    assert not store.rotate(old, new_session_token()), "nothing left to move"
