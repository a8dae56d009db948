"""Notes over HTTP: the trial page's note panel, form posts with a selection anchor,
edit and delete, escaping of note text, and bad input."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.notes.web_helpers import Actor, visitor
from tests.web.fixtures import SCRIPT

TRIAL = "NCT09000001"


@pytest.fixture
def me(web: FastAPI) -> Actor:
    return visitor("me", TestClient(web, base_url="http://127.0.0.1"))


def test_trial_page_offers_notes_shortlist_and_sharing(me: Actor) -> None:
    page = me.client.get(f"/trials/{TRIAL}")
    assert page.status_code == 200
    for part in ('id="notes"', f'action="/trials/{TRIAL}/notes"', 'action="/shortlist"',
                 f'href="/trials/{TRIAL}/share"', "/static/notes.js"):
        assert part in page.text


def test_form_notes_with_and_without_a_selection_edit_and_delete(me: Actor) -> None:
    posted = me.client.post(f"/trials/{TRIAL}/notes", data=me.form(
        body=f"Ask the doctor {SCRIPT}", quote="Postmenopausal women",
        anchor_section="summary", anchor_start="10", anchor_end="30"),
        follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == f"/trials/{TRIAL}/notes"
    plain = me.client.post(f"/trials/{TRIAL}/notes", data=me.form(body="No selection"),
                           follow_redirects=False)
    assert plain.status_code == 303
    notes = me.client.get(f"/api/v1/trials/{TRIAL}/notes").json()["items"]
    assert [(n["quote"], n["anchor"]) for n in notes] == [
        ("Postmenopausal women", {"section": "summary", "start": 10, "end": 30}),
        (None, None)]
    listing = me.client.get("/notes")
    assert "Ask the doctor &lt;script&gt;" in listing.text and SCRIPT not in listing.text
    first = notes[0]["id"]
    edited = me.client.post(f"/notes/{first}", data=me.form(body="Edited text"),
                            follow_redirects=False)
    assert edited.status_code == 303
    assert me.client.get(f"/api/v1/notes/{first}").json()["body"] == "Edited text"
    assert me.client.delete(f"/api/v1/notes/{first}", headers=me.headers()).status_code == 204
    assert me.client.get(f"/api/v1/notes/{first}").status_code == 404
    assert len(me.client.get("/api/v1/notes").json()["items"]) == 1


@pytest.mark.parametrize("body", [
    {"body": ""}, {"body": "x" * 4001}, {"body": "ok", "quote": "q" * 1001},
    {"body": "ok", "quote": "q", "anchor": {"section": "summary", "start": 5, "end": 1}},
    {"body": "nul\u0000"}, {"body": "ok", "extra": True},
])
def test_bad_notes_get_422_and_store_nothing(me: Actor, body: dict[str, object]) -> None:
    response = me.client.post(f"/api/v1/trials/{TRIAL}/notes", headers=me.headers(),
                              json=body)
    assert response.status_code == 422
    assert me.client.get("/api/v1/notes").json()["items"] == []


def test_notes_on_unknown_trials_are_404(me: Actor) -> None:
    assert me.client.post("/api/v1/trials/NCT99999999/notes", headers=me.headers(),
                          json={"body": "x"}).status_code == 404
    assert me.client.post("/api/v1/trials/NCT1/notes", headers=me.headers(),
                          json={"body": "x"}).status_code == 422
