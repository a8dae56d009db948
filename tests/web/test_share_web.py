"""Share links over HTTP: the recipient's passcode page with the real expiry, the
read-only noindex view with only what was chosen, wrong-passcode lockout (403 then 429
with Retry-After), expiry and revocation on a frozen clock, and escaping."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.notes.web_helpers import Actor, visitor
from tests.web.fixtures import HOSTILE_ID, IMG, SCRIPT

TRIAL = "NCT09000001"
PASS = "heron-passcode"
T0 = datetime(2026, 12, 7, 9, 30)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    state = {"now": T0}
    for module in ("ownership", "notes", "shares", "shortlist"):
        monkeypatch.setattr(f"trialscout.workspace.{module}.utcnow", lambda: state["now"])
    return state


def _actors(web: FastAPI, n: int) -> list[Actor]:
    return [visitor(f"v{i}", TestClient(web, base_url="http://127.0.0.1",
                                        client=(f"10.8.{i}.{id(web) % 200}", 5000)))
            for i in range(n)]


def _make(sharer: Actor, trial: str = TRIAL, **choice: object) -> dict[str, object]:
    response = sharer.client.post(f"/api/v1/trials/{trial}/shares", headers=sharer.headers(),
                                  json={"passcode": PASS, **choice})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_the_form_flow_shows_the_real_expiry_and_the_recipient_opens_it(
        web: FastAPI, clock) -> None:
    sharer, recipient = _actors(web, 2)
    sharer.client.post(f"/api/v1/trials/{TRIAL}/notes", headers=sharer.headers(),
                       json={"body": f"ask about {SCRIPT}"})
    sharer.client.put(f"/api/v1/trials/{TRIAL}/answers", headers=sharer.headers(),
                      json={"answers": {}})
    form = sharer.client.get(f"/trials/{TRIAL}/share")
    assert form.status_code == 200 and "7 days" in form.text
    created = sharer.client.post(f"/trials/{TRIAL}/share", data=sharer.form(
        passcode=PASS, expires_in_hours="24", include_notes="on"))
    assert created.status_code == 201
    assert "Tuesday 08 December 2026 at 09:30 UTC" in created.text
    assert "None" not in created.text
    link = re.search(r'value="(http://[^"]+/shared\?t=([A-Za-z0-9_-]{43}))"', created.text)
    assert link is not None
    token = link.group(2)

    page = recipient.client.get(f"/shared?t={token}")
    assert page.status_code == 200
    assert page.headers["x-robots-tag"].startswith("noindex")
    assert '<meta name="robots" content="noindex' in page.text
    assert "Tuesday 08 December 2026 at 09:30 UTC" in page.text
    assert "ask about" not in page.text  # nothing before the passcode
    opened = recipient.client.post("/shared", data=recipient.form(t=token, passcode=PASS))
    assert opened.status_code == 200
    assert opened.headers["x-robots-tag"].startswith("noindex")
    assert "ask about &lt;script&gt;" in opened.text and SCRIPT not in opened.text
    assert "Their self-check answers" not in opened.text  # not chosen
    assert "<form" not in opened.text.split("<main", 1)[1]  # read-only: no forms


def test_wrong_passcodes_lock_the_link_with_a_growing_delay(web: FastAPI, clock) -> None:
    sharer, guesser = _actors(web, 2)
    token = str(_make(sharer)["token"])
    for left in (4, 3, 2, 1):
        wrong = guesser.client.post("/api/v1/shared/open", headers=guesser.headers(),
                                    json={"token": token, "passcode": "guess-000"})
        assert wrong.status_code == 403 and f"{left} more wrong" in wrong.json()["detail"]
    locked = guesser.client.post("/shared", data=guesser.form(t=token, passcode="guess-5"))
    assert locked.status_code == 429 and locked.headers["retry-after"] == "900"
    assert "locked until 2026-12-07 09:45 UTC" in locked.text
    right = guesser.client.post("/api/v1/shared/open", headers=guesser.headers(),
                                json={"token": token, "passcode": PASS})
    assert right.status_code == 429
    clock["now"] = T0 + timedelta(minutes=15)
    longer = guesser.client.post("/api/v1/shared/open", headers=guesser.headers(),
                                 json={"token": token, "passcode": "guess-6"})
    assert longer.status_code == 429 and longer.headers["retry-after"] == "1800"
    [listed] = sharer.client.get("/api/v1/shares").json()["items"]
    assert listed["locked_until"] == "2026-12-07T10:15:00+00:00"
    assert listed["wrong_attempts"] == 6
    assert "6 wrong passcodes tried" in sharer.client.get("/shares").text
    clock["now"] = T0 + timedelta(minutes=45)
    assert guesser.client.post("/api/v1/shared/open", headers=guesser.headers(),
                               json={"token": token, "passcode": PASS}).status_code == 200


def test_expired_and_revoked_links_are_404_with_a_frozen_clock(web: FastAPI, clock) -> None:
    sharer, recipient = _actors(web, 2)
    hourly = _make(sharer, expires_in_hours=1)
    assert hourly["expires_at"] == "2026-12-07T10:30:00+00:00"
    weekly = _make(sharer)
    clock["now"] = T0 + timedelta(hours=1)
    for token in (hourly["token"], "A" * 43):
        assert recipient.client.get(f"/api/v1/shared?t={token}").status_code == 404
        gone = recipient.client.post("/shared", data=recipient.form(t=str(token),
                                                                    passcode=PASS))
        assert gone.status_code == 404 and "cannot be opened" in gone.text
    assert recipient.client.get(f"/api/v1/shared?t={weekly['token']}").json() == {
        "expires_at": "2026-12-14T09:30:00+00:00"}
    revoked = sharer.client.post(f"/shares/{weekly['id']}/revoke", data=sharer.form(),
                                 follow_redirects=False)
    assert revoked.status_code == 303
    assert recipient.client.post("/api/v1/shared/open", headers=recipient.headers(), json={
        "token": weekly["token"], "passcode": PASS}).status_code == 404
    states = {s["id"]: (s["active"], s["revoked_at"] is not None)
              for s in sharer.client.get("/api/v1/shares").json()["items"]}
    assert states == {hourly["id"]: (False, False), weekly["id"]: (False, True)}


def test_answers_are_shared_only_when_chosen_and_registry_text_is_escaped(
        web: FastAPI, clock) -> None:
    sharer, recipient = _actors(web, 2)
    checklist = sharer.client.get(f"/api/v1/trials/{HOSTILE_ID}/checklist").json()
    keys = [i["question_key"] for i in checklist["items"] if i["answerable"]]
    assert keys
    sharer.client.put(f"/api/v1/trials/{HOSTILE_ID}/answers", headers=sharer.headers(),
                      json={"answers": {keys[0]: "yes"}})
    token = str(_make(sharer, HOSTILE_ID, include_answers=True)["token"])
    opened = recipient.client.post("/shared", data=recipient.form(t=token, passcode=PASS))
    assert opened.status_code == 200
    assert "Their self-check answers" in opened.text and "<dd>Yes</dd>" in opened.text
    assert SCRIPT not in opened.text and IMG not in opened.text
    assert "&lt;script&gt;" in opened.text


@pytest.mark.parametrize("body", [
    {"passcode": "short"}, {"passcode": PASS, "expires_in_hours": 0},
    {"passcode": PASS, "expires_in_hours": 721}, {"passcode": PASS, "note_ids": [999999]},
])
def test_bad_share_requests_are_refused(web: FastAPI, body: dict[str, object]) -> None:
    [sharer] = _actors(web, 1)
    response = sharer.client.post(f"/api/v1/trials/{TRIAL}/shares", headers=sharer.headers(),
                                  json=body)
    assert response.status_code in {404, 422}
    assert sharer.client.get("/api/v1/shares").json()["items"] == []


def test_a_burst_beyond_the_argon2_slots_gets_503_and_counts_nothing(
        web: FastAPI, clock, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from trialscout.workspace import shares

    sharer, guesser = _actors(web, 2)
    token = str(_make(sharer)["token"])
    monkeypatch.setattr(shares, "_hash_slots", threading.BoundedSemaphore(1))
    monkeypatch.setattr(shares, "HASH_WAIT_SECONDS", 0.01)
    shares._hash_slots.acquire()  # another request holds the only slot
    try:
        busy = guesser.client.post("/api/v1/shared/open", headers=guesser.headers(),
                                   json={"token": token, "passcode": "guess-000"})
        made = sharer.client.post(f"/api/v1/trials/{TRIAL}/shares", headers=sharer.headers(),
                                  json={"passcode": PASS})
    finally:
        shares._hash_slots.release()
    assert busy.status_code == 503 and busy.headers["retry-after"] == "10"
    assert made.status_code == 503
    [listed] = sharer.client.get("/api/v1/shares").json()["items"]
    assert listed["wrong_attempts"] == 0 and listed["locked_until"] is None
    assert guesser.client.post("/api/v1/shared/open", headers=guesser.headers(),
                               json={"token": token, "passcode": PASS}).status_code == 200
