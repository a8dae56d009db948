"""The contact pages: the form (sites nearest first, what is shared), sending by form,
errors shown again, "My inquiries", withdrawing, and the count on the trial page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.contact.conftest import body, outbox
from tests.contact.helpers import key_of
from tests.contact.studies import TRIAL_X, X_SITE_B, write_studies
from trialscout.app import TrialScout, create_app
from trialscout.web import create_web_app


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TrialScout, FastAPI]]:
    core = create_app(database_url=f"sqlite:///{tmp_path / 'p.db'}", secret_key="pages",
                      public_url="http://ts.test")
    core.import_paths([write_studies(tmp_path)])
    yield core, create_web_app(core)
    core.close()


def _browser(web: FastAPI, n: int) -> TestClient:
    return TestClient(web, base_url="http://127.0.0.1", client=(f"10.8.0.{n}", 1))


def _csrf(client: TestClient) -> str:
    return str(client.get("/api/v1/session").json()["csrf_token"])


def _form(core: TrialScout, csrf: str, **changes: str) -> dict[str, str]:
    values = {"csrf_token": csrf, "site_key": key_of(core, TRIAL_X, 1), "name": "Bea",
              "email": "bea@example.org", "preferred_way": "email",
              "message": "Hello <b>team</b>", "share_prescreen": "on", "agree": "on"}
    values.update(changes)
    return {k: v for k, v in values.items() if v != ""}


def test_form_lists_sites_nearest_first_and_what_is_shared(
        site: tuple[TrialScout, FastAPI]) -> None:
    _, web = site
    with _browser(web, 1) as client:
        page = client.get(f"/trials/{TRIAL_X}/contact?near=39.7,-105.0")
        assert page.status_code == 200
        assert page.text.index("Denver Bone Centre") < page.text.index("Boston Bone Clinic")
        assert "Postmenopausal women" in page.text and "still to confirm" in page.text
        api = client.get(f"/api/v1/trials/{TRIAL_X}/contact", params={"near": "39.7,-105.0"})
        assert [s["label"].split(" — ")[0] for s in api.json()["sites"]] == [
            "Denver Bone Centre", "Boston Bone Clinic"]


def test_send_by_form_then_follow_and_withdraw(site: tuple[TrialScout, FastAPI]) -> None:
    core, web = site
    with _browser(web, 2) as client:
        sent = client.post(f"/trials/{TRIAL_X}/contact", data=_form(core, _csrf(client)),
                           follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"].startswith("/inquiries/")
        page = client.get(sent.headers["location"])
        assert "Your inquiry was sent" in page.text and "Hello &lt;b&gt;team&lt;/b&gt;" in page.text
        listing = client.get("/inquiries").text
        assert "Denver" in listing and "Sent" in listing
        ident = sent.headers["location"].split("/")[2].split("?")[0]
        gone = client.post(f"/inquiries/{ident}/withdraw",
                           data={"csrf_token": _csrf(client), "note": "changed my mind"},
                           follow_redirects=False)
        assert gone.status_code == 303
        assert "Withdrawn" in client.get(f"/inquiries/{ident}").text
    assert any(m["To"] == X_SITE_B for m in outbox(core))
    assert "Hello" not in body(next(m for m in outbox(core) if m["To"] == X_SITE_B))
    with _browser(web, 3) as stranger:
        assert stranger.get(f"/inquiries/{ident}").status_code == 404


def test_form_errors_are_shown_again_and_nothing_is_sent(
        site: tuple[TrialScout, FastAPI]) -> None:
    core, web = site
    with _browser(web, 4) as client:
        csrf = _csrf(client)
        for changes, words in (({"agree": ""}, "agree"), ({"email": "nope"}, "email"),
                               ({"message": "x" * 2001}, "message")):
            again = client.post(f"/trials/{TRIAL_X}/contact",
                                data=_form(core, csrf, **changes), follow_redirects=False)
            assert again.status_code == 422 and "was not sent" in again.text
            assert words in again.text
        no_csrf = client.post(f"/trials/{TRIAL_X}/contact", data=_form(core, "bad"))
        assert no_csrf.status_code == 403
    assert outbox(core) == []


def test_trial_page_count_from_five_rounded_down(site: tuple[TrialScout, FastAPI]) -> None:
    core, web = site
    with _browser(web, 5) as viewer:
        for n in range(7):
            with _browser(web, 10 + n) as client:
                assert client.post(f"/trials/{TRIAL_X}/contact",
                                   data=_form(core, _csrf(client)),
                                   follow_redirects=False).status_code == 303
            text = viewer.get(f"/trials/{TRIAL_X}").text
            assert "Contact the study team" in text
            if n < 4:
                assert "people asked about this trial" not in text
            else:
                assert "5 people asked about this trial" in text
                assert f"{n + 1} people asked" not in text or n + 1 == 5


def test_emailed_link_unlocks_with_the_code_in_this_browser_only(
        site: tuple[TrialScout, FastAPI]) -> None:
    import re

    core, web = site
    with _browser(web, 30) as client:
        client.post(f"/trials/{TRIAL_X}/contact", data=_form(core, _csrf(client)))
    link = re.search(r"/inquiries/access/(\S+)", body(
        next(m for m in outbox(core) if m["To"] == X_SITE_B)))
    assert link is not None
    path = f"/inquiries/access/{link.group(1)}"
    with _browser(web, 31) as site_desk, _browser(web, 32) as forwarded:
        csrf = _csrf(site_desk)
        locked = site_desk.get(path)
        assert locked.status_code == 200 and "Bea" not in locked.text
        assert "noindex" in locked.text
        sent = site_desk.post(f"{path}/code", data={"csrf_token": csrf},
                              follow_redirects=False)
        assert sent.status_code == 303
        code = re.search(r"is (\d{6})\.", body(outbox(core)[-1]))
        assert code is not None and outbox(core)[-1]["To"] == X_SITE_B
        wrong = site_desk.post(f"{path}/verify", data={"csrf_token": csrf, "code": "abc"})
        assert wrong.status_code == 403
        opened = site_desk.post(f"{path}/verify", data={"csrf_token": csrf,
                                                        "code": code.group(1)})
        assert opened.status_code == 200 and "Bea" in opened.text
        assert "Seen by the study team" in opened.text
        assert "Bea" not in forwarded.get(path).text
        moved = site_desk.post(f"{path}/status", data={"csrf_token": csrf,
                                                       "status": "screening", "note": "ok"})
        assert moved.status_code == 200 and "Screening" in moved.text
    subjects = [str(m["Subject"]) for m in outbox(core) if m["To"] == "bea@example.org"]
    assert subjects[-1].endswith(": Screening")


def test_a_match_leads_to_the_inquiry_form(site: tuple[TrialScout, FastAPI]) -> None:
    _, web = site
    with _browser(web, 40) as client:
        saved = client.put("/api/v1/profile", json={"age": 62, "sex": "FEMALE"},
                           headers={"X-CSRF-Token": _csrf(client)})
        assert saved.status_code == 200, saved.text
        matches = client.get("/matches")
        assert matches.status_code == 200
        assert f'href="/trials/{TRIAL_X}/contact"' in matches.text


def test_over_the_limit_is_429_with_retry_after(site: tuple[TrialScout, FastAPI]) -> None:
    from trialscout.contact.inquiries import Limits

    core, web = site
    core.contact.limits = Limits(per_owner=1, per_address=5, daily_total=50)
    with _browser(web, 50) as client:
        csrf = _csrf(client)
        payload = {"site_key": key_of(core, TRIAL_X), "agree": True,
                   "contact": {"name": "Cy", "email": "cy@example.org"}}
        first = client.post(f"/api/v1/trials/{TRIAL_X}/inquiries", json=payload,
                            headers={"X-CSRF-Token": csrf})
        assert first.status_code == 201
        again = client.post(f"/api/v1/trials/{TRIAL_X}/inquiries", json=payload,
                            headers={"X-CSRF-Token": csrf})
        assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
        assert again.headers["content-type"].startswith("application/problem+json")
        form = client.post(f"/trials/{TRIAL_X}/contact", data=_form(core, csrf))
        assert form.status_code == 429 and "try again" in form.text


def test_inquiries_follow_the_session_when_its_id_rotates(
        site: tuple[TrialScout, FastAPI]) -> None:
    core, web = site
    with _browser(web, 60) as client:
        csrf = _csrf(client)
        sent = client.post(f"/api/v1/trials/{TRIAL_X}/inquiries", headers={
            "X-CSRF-Token": csrf}, json={"site_key": key_of(core, TRIAL_X), "agree": True,
                                         "contact": {"name": "Di", "email": "di@example.org"}})
        assert sent.status_code == 201
        old_cookie = client.cookies.get("ts_session")
        assert client.put("/api/v1/profile", json={"age": 60},
                          headers={"X-CSRF-Token": csrf}).status_code == 200
        assert client.cookies.get("ts_session") != old_cookie, "saving the profile rotates"
        assert [i["id"] for i in client.get("/api/v1/inquiries").json()["items"]] == [
            sent.json()["id"]]


def test_signing_in_moves_an_anonymous_inquiry_into_the_account(
        site: tuple[TrialScout, FastAPI]) -> None:
    from trialscout.accounts.service import AccountPolicy, AccountService

    core, web = site
    accounts = AccountService(core.engine, AccountPolicy.from_settings(core.settings))
    with core.engine.begin() as conn:
        accounts.create(conn, "eve@example.org", "a long enough passphrase", verified=True)
    with _browser(web, 70) as client:
        csrf = _csrf(client)
        sent = client.post(f"/api/v1/trials/{TRIAL_X}/inquiries", headers={
            "X-CSRF-Token": csrf}, json={"site_key": key_of(core, TRIAL_X), "agree": True,
                                         "contact": {"name": "Eve", "email": "eve@example.org"}})
        assert sent.status_code == 201
        signed = client.post("/api/v1/account/signin", headers={"X-CSRF-Token": csrf},
                             json={"email": "eve@example.org",
                                   "password": "a long enough passphrase"})
        assert signed.status_code == 200, signed.text
        assert [i["id"] for i in client.get("/api/v1/inquiries").json()["items"]] == [
            sent.json()["id"]]
    with _browser(web, 71) as other:
        assert other.get(f"/api/v1/inquiries/{sent.json()['id']}").status_code == 404
