"""The authorization matrix of the workspace routes: every route that names a note, a
share link or a shortlisted trial, for every role (anonymous, visitor A, visitor B, a
signed-in member, the coordinator who claimed the trial, a coordinator of another trial, an
admin), each cell checked. Another's object is 404, lists never show it, and
nothing of A's changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from tests.notes.web_helpers import Actor, sign_in, visitor
from trialscout.app import TrialScout

TRIAL, OTHER, OTHER_CLAIM = "NCT09000001", "NCT09000002", "NCT09000003"
SECRET_NOTE = "A-private-note-7f3a"


@dataclass
class Owned:
    note: int
    share: int
    token: str


def _owned(a: Actor) -> Owned:
    note = a.client.post(f"/api/v1/trials/{TRIAL}/notes", headers=a.headers(),
                         json={"body": SECRET_NOTE, "quote": "osteoporosis",
                               "anchor": {"section": "summary", "start": 3, "end": 15}})
    assert note.status_code == 201, note.text
    share = a.client.post(f"/api/v1/trials/{TRIAL}/shares", headers=a.headers(),
                          json={"passcode": "passcode-A"})
    assert share.status_code == 201, share.text
    for nct in (TRIAL, OTHER):
        assert a.client.put(f"/api/v1/shortlist/{nct}", headers=a.headers()).status_code == 200
    return Owned(note.json()["id"], share.json()["id"], share.json()["token"])


Call = Callable[[Actor, Owned], Response]
COMPARE = f"ids={TRIAL}&ids={OTHER}"

# Routes that name one of A's objects: anyone else gets 404.
OBJECT_ROUTES: dict[str, Call] = {
    "GET api note": lambda x, o: x.client.get(f"/api/v1/notes/{o.note}"),
    "PUT api note": lambda x, o: x.client.put(f"/api/v1/notes/{o.note}", headers=x.headers(),
                                              json={"body": "overwritten"}),
    "DELETE api note": lambda x, o: x.client.delete(f"/api/v1/notes/{o.note}",
                                                    headers=x.headers()),
    "GET page note": lambda x, o: x.client.get(f"/notes/{o.note}"),
    "POST page note edit": lambda x, o: x.client.post(
        f"/notes/{o.note}", data=x.form(body="overwritten"), follow_redirects=False),
    "POST page note delete": lambda x, o: x.client.post(
        f"/notes/{o.note}/delete", data=x.form(), follow_redirects=False),
    "DELETE api share": lambda x, o: x.client.delete(f"/api/v1/shares/{o.share}",
                                                     headers=x.headers()),
    "POST page share revoke": lambda x, o: x.client.post(
        f"/shares/{o.share}/revoke", data=x.form(), follow_redirects=False),
    "GET api compare": lambda x, o: x.client.get(f"/api/v1/shortlist/compare?{COMPARE}"),
    "GET page compare": lambda x, o: x.client.get(f"/shortlist/compare?{COMPARE}"),
    "GET api print": lambda x, o: x.client.get(f"/api/v1/shortlist/print?ids={TRIAL}"),
    "GET page print": lambda x, o: x.client.get(f"/shortlist/print?ids={TRIAL}"),
    "DELETE api shortlist": lambda x, o: x.client.delete(f"/api/v1/shortlist/{TRIAL}",
                                                         headers=x.headers()),
    "POST page shortlist remove": lambda x, o: x.client.post(
        "/shortlist/remove", data=x.form(nct_id=TRIAL), follow_redirects=False),
}

# Lists: everyone gets their own (empty) list, never A's rows.
LIST_ROUTES: dict[str, Call] = {
    "GET api notes": lambda x, o: x.client.get("/api/v1/notes"),
    "GET page notes": lambda x, o: x.client.get("/notes"),
    "GET api trial notes": lambda x, o: x.client.get(f"/api/v1/trials/{TRIAL}/notes"),
    "GET page trial notes": lambda x, o: x.client.get(f"/trials/{TRIAL}/notes"),
    "GET api shares": lambda x, o: x.client.get("/api/v1/shares"),
    "GET page shares": lambda x, o: x.client.get("/shares"),
    "GET api share form": lambda x, o: x.client.get(f"/api/v1/trials/{TRIAL}/share"),
    "GET page share form": lambda x, o: x.client.get(f"/trials/{TRIAL}/share"),
    "GET api shortlist": lambda x, o: x.client.get("/api/v1/shortlist"),
    "GET page shortlist": lambda x, o: x.client.get("/shortlist"),
}

OTHERS = ("anonymous", "visitor B", "member", "coordinator of this trial",
          "coordinator of another trial", "admin")


@pytest.fixture
def cast(web: FastAPI, core: TrialScout) -> dict[str, Actor]:
    clients = [TestClient(web, base_url="http://127.0.0.1", client=(f"10.9.0.{i}", 5000))
               for i in range(1, 8)]
    actors = {name: visitor(name, client) for name, client in zip(
        ("visitor A", "visitor B", "member", "coordinator of this trial",
         "coordinator of another trial", "admin"), clients, strict=False)}
    sign_in(core, actors["member"])
    admin = sign_in(core, actors["admin"], role="admin")
    for name, nct in (("coordinator of this trial", TRIAL),
                      ("coordinator of another trial", OTHER_CLAIM)):
        account = sign_in(core, actors[name], role="coordinator")
        trial = core.trial(nct)
        assert trial is not None
        core.contact.grant(trial, account, "*", admin_id=admin)
    actors["anonymous"] = Actor("anonymous", clients[6], "")  # no cookie, no token
    return actors


def _a_unchanged(a: Actor, owned: Owned) -> None:
    note = a.client.get(f"/api/v1/notes/{owned.note}")
    assert note.status_code == 200 and note.json()["body"] == SECRET_NOTE
    [share] = [s for s in a.client.get("/api/v1/shares").json()["items"]
               if s["id"] == owned.share]
    assert share["active"] is True
    assert [i["nct_id"] for i in a.client.get("/api/v1/shortlist").json()["items"]] == \
        [TRIAL, OTHER]


@pytest.mark.parametrize("route", sorted(OBJECT_ROUTES))
def test_another_owners_object_is_404_for_every_role(cast: dict[str, Actor],
                                                     route: str) -> None:
    a = cast["visitor A"]
    owned = _owned(a)
    for role in OTHERS:
        response = OBJECT_ROUTES[route](cast[role], owned)
        if role == "anonymous" and route.split()[0] in {"PUT", "DELETE", "POST"}:
            assert response.status_code == 403, (role, route)  # no session: CSRF refusal
        else:
            assert response.status_code == 404, (role, route, response.status_code)
        assert SECRET_NOTE not in response.text
    _a_unchanged(a, owned)
    response = OBJECT_ROUTES[route](a, owned)  # the owner's own cell
    assert response.status_code in {200, 204, 303}, (route, response.status_code)


@pytest.mark.parametrize("route", sorted(LIST_ROUTES))
def test_lists_hold_only_the_callers_own_rows(cast: dict[str, Actor], route: str) -> None:
    a = cast["visitor A"]
    owned = _owned(a)
    for role in OTHERS:
        response = LIST_ROUTES[route](cast[role], owned)
        assert response.status_code == 200, (role, route)
        assert SECRET_NOTE not in response.text, (role, route)
        if response.headers["content-type"].startswith("application/json"):
            body = response.json()
            assert body.get("items", body.get("notes", [])) == [], (role, route)
            assert body.get("shares", []) == []
    own = LIST_ROUTES[route](a, owned)
    assert own.status_code == 200
    if "note" in route or "share form" in route:
        assert SECRET_NOTE in own.text
    _a_unchanged(a, owned)


def test_a_signed_in_members_rows_belong_to_the_account(web: FastAPI, core: TrialScout
                                                         ) -> None:
    with TestClient(web, base_url="http://127.0.0.1") as first, \
            TestClient(web, base_url="http://127.0.0.1") as stranger:
        member = visitor("member", first)
        account = sign_in(core, member)
        created = first.post(f"/api/v1/trials/{TRIAL}/notes", headers=member.headers(),
                             json={"body": "the member's note"})
        assert created.status_code == 201
        from sqlalchemy import select

        from trialscout.workspace.tables import NoteRow
        with core.engine.connect() as conn:
            owner = conn.execute(select(NoteRow.owner).where(
                NoteRow.id == created.json()["id"])).scalar_one()
        assert owner == f"account:{account}"
        other = visitor("stranger", stranger)
        assert stranger.get(f"/api/v1/notes/{created.json()['id']}").status_code == 404
        assert stranger.delete(f"/api/v1/notes/{created.json()['id']}",
                               headers=other.headers()).status_code == 404
