"""Shortlist over HTTP: save, compare 2 to 4 with distance and fit from the visitor's own
profile, the print view, limits; and the workspace surviving a session id rotation."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.notes.web_helpers import Actor, visitor
from tests.web.fixtures import HOSTILE_ID, IMG, SCRIPT

IDS = ["NCT09000001", "NCT09000002", "NCT09000003", "NCT09000004", "NCT09000005"]


@pytest.fixture
def me(web: FastAPI) -> Actor:
    return visitor("me", TestClient(web, base_url="http://127.0.0.1"))


def _save(me: Actor, *ids: str) -> None:
    for nct in ids:
        assert me.client.put(f"/api/v1/shortlist/{nct}", headers=me.headers()).status_code == 200


def test_compare_two_to_four_with_distance_and_fit_from_my_profile(me: Actor) -> None:
    _save(me, *IDS[:4])
    before = me.client.get(f"/api/v1/shortlist/compare?ids={IDS[0]}&ids={IDS[1]}").json()
    assert [c["distance"] for c in before["columns"]] == [None, None]
    assert before["columns"][0]["fit"].startswith("No profile yet")
    profile = me.client.put("/api/v1/profile", headers=me.headers(),
                            json={"age": 62, "sex": "FEMALE", "near": "Boston"})
    assert profile.status_code == 200
    me.csrf = profile.headers.get("x-csrf-token", me.csrf)  # saving rotates the session
    query = "&".join(f"ids={i}" for i in IDS[:4])
    page = me.client.get(f"/api/v1/shortlist/compare?{query}")
    assert page.status_code == 200
    columns = page.json()["columns"]
    assert [c["nct_id"] for c in columns] == IDS[:4]
    assert page.json()["place"]
    assert any(c["distance"] is not None for c in columns)
    assert all(not c["fit"].startswith("No profile yet") for c in columns)
    assert all(c["to_confirm"] for c in columns)
    html = me.client.get(f"/shortlist/compare?{query}")
    assert html.status_code == 200 and "Still to confirm" in html.text


@pytest.mark.parametrize("ids", [IDS[:1], IDS[:5], [IDS[0], IDS[0]]])
def test_compare_needs_two_to_four_different_trials(me: Actor, ids: list[str]) -> None:
    _save(me, *IDS)
    query = "&".join(f"ids={i}" for i in ids)
    assert me.client.get(f"/api/v1/shortlist/compare?{query}").status_code == 422


def test_trials_not_on_my_shortlist_are_404(me: Actor) -> None:
    _save(me, IDS[0])
    assert me.client.get(f"/api/v1/shortlist/compare?ids={IDS[0]}&ids={IDS[1]}"
                         ).status_code == 404
    assert me.client.get(f"/shortlist/print?ids={IDS[1]}").status_code == 404
    assert me.client.delete(f"/api/v1/shortlist/{IDS[1]}", headers=me.headers()
                            ).status_code == 404


def test_print_view_is_one_page_per_trial_with_open_questions_and_escaped(me: Actor) -> None:
    _save(me, IDS[0], HOSTILE_ID)
    page = me.client.get(f"/shortlist/print?ids={IDS[0]}&ids={HOSTILE_ID}")
    assert page.status_code == 200
    assert page.text.count('class="doctor-sheet"') == 2
    assert page.text.count("Questions still open") == 2
    assert SCRIPT not in page.text and IMG not in page.text
    css = me.client.get("/static/workspace.css").text
    assert "@media print" in css and "break-after: page" in css


def test_form_posts_add_and_remove(me: Actor) -> None:
    added = me.client.post("/shortlist", data=me.form(nct_id=IDS[2]), follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == "/shortlist"
    assert IDS[2] in me.client.get("/shortlist").text
    bad = me.client.post("/shortlist", data=me.form(nct_id="<b>x</b>"))
    assert bad.status_code == 422
    assert me.client.post("/shortlist", data={"nct_id": IDS[3]}).status_code == 403  # CSRF
    removed = me.client.post("/shortlist/remove", data=me.form(nct_id=IDS[2]),
                             follow_redirects=False)
    assert removed.status_code == 303
    assert me.client.get("/api/v1/shortlist").json()["items"] == []


def test_notes_shares_and_shortlist_survive_a_session_rotation(me: Actor) -> None:
    note = me.client.post(f"/api/v1/trials/{IDS[0]}/notes", headers=me.headers(),
                          json={"body": "kept across rotation"}).json()
    _save(me, IDS[0])
    old_cookie = me.client.cookies.get("ts_session")
    rotated = me.client.put("/api/v1/profile", headers=me.headers(), json={"age": 40})
    assert rotated.status_code == 200
    assert me.client.cookies.get("ts_session") != old_cookie
    assert me.client.get(f"/api/v1/notes/{note['id']}").json()["body"] == "kept across rotation"
    assert [i["nct_id"] for i in me.client.get("/api/v1/shortlist").json()["items"]] == [IDS[0]]
    with TestClient(me.client.app, base_url="http://127.0.0.1",
                    cookies={"ts_session": old_cookie}) as stale:
        assert stale.get(f"/api/v1/notes/{note['id']}").status_code == 404
