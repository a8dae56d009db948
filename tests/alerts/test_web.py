"""Saved-search pages and API: the authorization matrix, forms, feed and one-click
unsubscribe (no session, no CSRF token)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from tests.alerts.helpers import store, trial
from tests.notes.web_helpers import Actor, sign_in, visitor
from trialscout.app import TrialScout, create_app
from trialscout.web import create_web_app

SECRET_NAME = "Private-search-name-91c2"


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialScout]:
    folder = tmp_path_factory.mktemp("alerts-web")
    app = create_app(database_url=f"sqlite:///{folder / 'web.db'}", secret_key="test-secret")
    store(app, folder, [trial("NCT09001001"), trial("NCT09001002", status="COMPLETED")])
    yield app
    app.close()


@pytest.fixture(scope="module")
def web(core: TrialScout) -> FastAPI:
    return create_web_app(core)


@pytest.fixture
def cast(web: FastAPI, core: TrialScout) -> dict[str, Actor]:
    clients = [TestClient(web, base_url="http://127.0.0.1", client=(f"10.8.0.{i}", 5000))
               for i in range(1, 5)]
    a = visitor("visitor A", clients[0])
    b = visitor("visitor B", clients[1])
    member = visitor("member", clients[2])
    sign_in(core, member)
    return {"visitor A": a, "visitor B": b, "member": member,
            "anonymous": Actor("anonymous", clients[3], "")}


def _save(a: Actor) -> dict:
    response = a.client.post("/api/v1/alerts", headers=a.headers(), json={
        "request": {"q": "osteoporosis", "status": ["RECRUITING"]}, "name": SECRET_NAME,
        "delivery": "daily"})
    assert response.status_code == 201, response.text
    return response.json()


Call = Callable[[Actor, dict], Response]
OBJECT_ROUTES: dict[str, Call] = {
    "GET api search": lambda x, s: x.client.get(f"/api/v1/alerts/{s['id']}"),
    "GET page search": lambda x, s: x.client.get(f"/alerts/{s['id']}"),
    "PATCH api search": lambda x, s: x.client.patch(
        f"/api/v1/alerts/{s['id']}", headers=x.headers(), json={"delivery": "none"}),
    "DELETE api search": lambda x, s: x.client.delete(f"/api/v1/alerts/{s['id']}",
                                                      headers=x.headers()),
    "POST page update": lambda x, s: x.client.post(
        f"/alerts/{s['id']}", data=x.form(delivery="none"), follow_redirects=False),
    "POST page delete": lambda x, s: x.client.post(
        f"/alerts/{s['id']}/delete", data=x.form(), follow_redirects=False),
}
LIST_ROUTES: dict[str, Call] = {
    "GET api list": lambda x, s: x.client.get("/api/v1/alerts"),
    "GET page list": lambda x, s: x.client.get("/alerts"),
}
OTHERS = ("anonymous", "visitor B", "member")


@pytest.mark.parametrize("route", sorted(OBJECT_ROUTES))
def test_another_owners_saved_search_is_404_for_every_role(cast: dict[str, Actor],
                                                           route: str) -> None:
    a = cast["visitor A"]
    saved = _save(a)
    for role in OTHERS:
        response = OBJECT_ROUTES[route](cast[role], saved)
        if role == "anonymous" and route.split()[0] in {"PATCH", "DELETE", "POST"}:
            assert response.status_code == 403, (role, route)  # no session: CSRF refusal
        else:
            assert response.status_code == 404, (role, route, response.status_code)
        assert SECRET_NAME not in response.text
        assert saved["feed_path"] not in response.text
    mine = a.client.get(f"/api/v1/alerts/{saved['id']}").json()
    assert mine["search"]["delivery"] == "daily" and mine["search"]["name"] == SECRET_NAME
    response = OBJECT_ROUTES[route](a, saved)
    assert response.status_code in {200, 204, 303}, (route, response.status_code)


@pytest.mark.parametrize("route", sorted(LIST_ROUTES))
def test_lists_hold_only_the_callers_own_searches(cast: dict[str, Actor], route: str) -> None:
    a = cast["visitor A"]
    saved = _save(a)
    for role in OTHERS:
        response = LIST_ROUTES[route](cast[role], saved)
        assert response.status_code == 200
        assert SECRET_NAME not in response.text and saved["feed_path"] not in response.text
        if response.headers["content-type"].startswith("application/json"):
            assert response.json()["searches"] == []
    assert SECRET_NAME in LIST_ROUTES[route](a, saved).text


def test_save_this_search_form_and_condition_button(cast: dict[str, Actor]) -> None:
    a = cast["visitor A"]
    page = a.client.get("/search?q=osteoporosis&status=RECRUITING&sort=last_update")
    assert "Save this search" in page.text
    response = a.client.post("/alerts", data=a.form(
        search="q=osteoporosis&status=RECRUITING&sort=last_update&page=2",
        delivery="weekly"), follow_redirects=False)
    assert response.status_code == 303
    detail = a.client.get(response.headers["location"])
    assert detail.status_code == 200 and "Search saved" in detail.text
    saved = a.client.get("/api/v1/alerts").json()["searches"][-1]
    assert saved["request"]["q"] == "osteoporosis"
    assert saved["request"]["status"] == ["RECRUITING"] and saved["delivery"] == "weekly"
    condition = a.client.get("/conditions/Osteoporosis")
    assert "Get alerts like this" in condition.text
    bad = a.client.post("/alerts", data=a.form(search="status=SOMETIMES"),
                        follow_redirects=False)
    assert bad.status_code == 422
    no_csrf = a.client.post("/alerts", data={"search": "q=x"}, follow_redirects=False)
    assert no_csrf.status_code == 403


def test_feed_and_one_click_unsubscribe_work_without_a_session(
        cast: dict[str, Actor], core: TrialScout, web: FastAPI) -> None:
    from trialscout.alerts.service import AlertService

    a = cast["visitor A"]
    saved = _save(a)
    store(core, Path(core.settings.database_url.removeprefix("sqlite:///")).parent,
          [trial("NCT09001003")])
    AlertService(core).run(deliver=False)
    stranger = TestClient(web, base_url="http://127.0.0.1")
    feed = stranger.get(saved["feed_path"])
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(feed.content)
    assert parsed.bozo == 0 and [e.link.rsplit("/", 1)[1] for e in parsed.entries] == \
        ["NCT09001003"]
    assert stranger.get(saved["feed_path"][:-3] + "abc").status_code == 404
    from sqlalchemy import select

    from trialscout.alerts.tables import SavedSearchRow

    with core.engine.connect() as conn:
        token = conn.execute(select(SavedSearchRow.unsubscribe_token).where(
            SavedSearchRow.id == saved["id"])).scalar_one()
    page = stranger.get(f"/alerts/unsubscribe/{token}")
    assert page.status_code == 200 and "Unsubscribe" in page.text
    assert a.client.get(f"/api/v1/alerts/{saved['id']}").json()["search"]["delivery"] == \
        "daily"  # the GET changed nothing
    response = stranger.post(f"/alerts/unsubscribe/{token}",
                             content="List-Unsubscribe=One-Click",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 204
    assert a.client.get(f"/api/v1/alerts/{saved['id']}").json()["search"]["delivery"] == \
        "none"
    assert stranger.post("/alerts/unsubscribe/" + "x" * 43).status_code == 404
