"""Accounts on the web: sign-up to sign-in through the emails a real SMTP server caught,
session rotation (no fixation), lockout, export and deletion."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.mailserver import MailServer
from trialscout.accounts import lockout
from trialscout.accounts.service import AccountPolicy, AccountService
from trialscout.accounts.tables import AccountRow
from trialscout.app import TrialScout, create_app
from trialscout.sessions.tables import SessionAnswerRow, WebSessionRow
from trialscout.web import create_web_app
from trialscout.web.visitor import SESSION_COOKIE

PASSWORD = "correct horse 1"
TOKEN = re.compile(r"token=([A-Za-z0-9_%-]+)")


@dataclass
class Site:
    app: TrialScout
    web: object
    mail: MailServer

    def browser(self, address: str = "10.1.0.1") -> TestClient:
        return TestClient(self.web, base_url="http://127.0.0.1",  # type: ignore[arg-type]
                          client=(address, 50000))

    def token_from_mail(self, to: str, count: int) -> str:
        messages = [m for m in self.mail.wait_for(count) if m["To"] == to]
        assert messages, f"no mail to {to}"
        body = messages[-1].get_body(("plain",))
        assert body is not None
        found = TOKEN.search(body.get_content())
        assert found
        return found.group(1)

    def member(self, email: str, role: str = "member") -> int:
        service = AccountService(self.app.engine, AccountPolicy.from_settings(self.app.settings))
        with self.app.engine.begin() as conn:
            return service.create(conn, email, PASSWORD, role=role, verified=True)


@pytest.fixture
def site(tmp_path: Path, mail_server: MailServer) -> Iterator[Site]:
    app = create_app(database_url=f"sqlite:///{tmp_path / 's.db'}", secret_key="k" * 32,
                     web_warm_up="off", password_hash_memory_kib=1024,
                     **mail_server.settings())
    yield Site(app, create_web_app(app), mail_server)
    app.close()


def csrf(client: TestClient) -> str:
    token: str = client.get("/api/v1/session").json()["csrf_token"]
    return token


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, object]:
    response = client.post("/api/v1/account/signin", json={"email": email, "password": password},
                           headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_an_unconfirmed_account_is_told_apart_only_with_its_password(site: Site) -> None:
    with site.browser() as browser:
        token = csrf(browser)
        browser.post("/api/v1/account/signup", json={"email": "una@example.org",
                                                     "password": PASSWORD},
                     headers={"X-CSRF-Token": token})
        answers = [browser.post("/api/v1/account/signin", json={"email": email,
                                                                "password": "wrong one 1"},
                                headers={"X-CSRF-Token": token})
                   for email in ("una@example.org", "nobody@example.org")]
        assert [a.status_code for a in answers] == [401, 401]
        assert answers[0].json()["detail"] == answers[1].json()["detail"]
        right = browser.post("/api/v1/account/signin", json={"email": "una@example.org",
                                                             "password": PASSWORD},
                             headers={"X-CSRF-Token": token})
        assert right.status_code == 403 and right.json()["type"].endswith("not-verified")
        assert "Confirm your email address first" in right.json()["detail"]
        page = browser.post("/account/signin", data={"email": "una@example.org",
                                                     "password": PASSWORD,
                                                     "csrf_token": token})
        assert page.status_code == 403 and "Confirm your email address first" in page.text
        assert "Email me a sign-in link instead" in page.text


def test_sign_up_verify_and_sign_in_with_the_emailed_link(site: Site) -> None:
    with site.browser() as browser:
        page = browser.get("/account/signup")
        assert page.status_code == 200 and "Create an account" in page.text
        response = browser.post("/account/signup", data={
            "email": "ann@example.org", "password": PASSWORD, "csrf_token": csrf(browser)},
            follow_redirects=False)
        assert response.status_code == 303
        token = site.token_from_mail("ann@example.org", 1)
        confirm = browser.get(f"/account/verify?token={token}")
        assert "Confirm my email address" in confirm.text
        done = browser.post("/account/verify", data={"token": token,
                                                     "csrf_token": csrf(browser)},
                            follow_redirects=False)
        assert done.headers["location"] == "/account/signin?verified=1"
        again = browser.post("/account/verify", data={"token": token,
                                                      "csrf_token": csrf(browser)})
        assert again.status_code == 410
        before = browser.cookies[SESSION_COOKIE]
        signed = browser.post("/account/signin", data={
            "email": "ann@example.org", "password": PASSWORD, "csrf_token": csrf(browser)},
            follow_redirects=False)
        assert signed.headers["location"] == "/account?signed_in=1"
        assert browser.cookies[SESSION_COOKIE] != before
        account = browser.get("/account")
        assert account.status_code == 200 and "ann@example.org" in account.text


def test_sign_in_rotates_the_session_and_moves_visitor_data(site: Site) -> None:
    site.member("ann@example.org")
    with site.browser() as browser:
        token = csrf(browser)
        browser.put("/api/v1/answers", json={"answers": {"q-one": "yes"}},
                    headers={"X-CSRF-Token": token})
        planted = browser.cookies[SESSION_COOKIE]
        body = sign_in(browser, "ann@example.org")
        assert browser.cookies[SESSION_COOKIE] != planted
        assert browser.get("/api/v1/answers").json()["answers"] == {"q-one": "yes"}
        assert body["csrf_token"] == csrf(browser)
    with site.browser("10.1.0.2") as attacker:  # holds the id from before the sign-in
        attacker.cookies.set(SESSION_COOKIE, planted)
        assert attacker.get("/api/v1/account").status_code == 404
        assert attacker.get("/api/v1/answers").json()["answers"] == {}


def test_sign_out_and_sign_out_everywhere(site: Site) -> None:
    site.member("ann@example.org")
    with site.browser() as one, site.browser("10.1.0.3") as two:
        sign_in(one, "ann@example.org")
        sign_in(two, "ann@example.org")
        before = one.cookies[SESSION_COOKIE]
        assert one.post("/api/v1/account/signout",
                        headers={"X-CSRF-Token": csrf(one)}).status_code == 204
        assert one.cookies[SESSION_COOKIE] != before
        assert one.get("/api/v1/account").status_code == 404
        with site.browser("10.1.0.4") as replay:  # the signed-out id is worth nothing
            replay.cookies.set(SESSION_COOKIE, before)
            assert replay.get("/api/v1/account").status_code == 404
        assert two.get("/api/v1/account").status_code == 200
        sign_in(one, "ann@example.org")
        assert one.post("/api/v1/account/signout-everywhere",
                        headers={"X-CSRF-Token": csrf(one)}).status_code == 204
        assert two.get("/api/v1/account").status_code == 404
        assert one.get("/api/v1/account").status_code == 404


def test_wrong_password_then_lockout_with_retry_after(site: Site) -> None:
    site.member("ann@example.org")
    with site.browser() as browser:
        token = csrf(browser)
        texts = set()
        for email in ("ann@example.org", "nobody@example.org"):
            response = browser.post("/api/v1/account/signin", json={
                "email": email, "password": "wrong guess"}, headers={"X-CSRF-Token": token})
            assert response.status_code == 401
            texts.add(response.json()["detail"])
        assert len(texts) == 1
        for _ in range(4):  # five failures in all: the next try is locked for a second
            browser.post("/api/v1/account/signin", json={
                "email": "ann@example.org", "password": "wrong guess"},
                headers={"X-CSRF-Token": token})
        with site.app.engine.begin() as conn:  # and many more earlier: a long lock
            for _ in range(8):
                lockout.record_failure(conn, lockout.email_key("ann@example.org"), "email",
                                       datetime.now(UTC).replace(tzinfo=None),
                                       lockout.LockoutPolicy())
        locked = browser.post("/api/v1/account/signin", json={
            "email": "ann@example.org", "password": PASSWORD}, headers={"X-CSRF-Token": token})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 100
        page = browser.post("/account/signin", data={
            "email": "ann@example.org", "password": PASSWORD, "csrf_token": token})
        assert page.status_code == 429 and "Too many failed attempts" in page.text


def test_reset_by_email_then_old_password_fails(site: Site) -> None:
    site.member("ann@example.org")
    with site.browser() as browser:
        assert browser.post("/api/v1/account/reset-request", json={"email": "ann@example.org"},
                            headers={"X-CSRF-Token": csrf(browser)}).status_code == 202
        token = site.token_from_mail("ann@example.org", 1)
        assert "Choose a new password" in browser.get(f"/account/reset?token={token}").text
        assert browser.post("/api/v1/account/reset", json={
            "token": token, "password": "a brand new one"},
            headers={"X-CSRF-Token": csrf(browser)}).status_code == 204
        assert browser.post("/api/v1/account/reset", json={
            "token": token, "password": "and another one"},
            headers={"X-CSRF-Token": csrf(browser)}).status_code == 410
        assert "does not work any more" in browser.get(f"/account/reset?token={token}").text
        sign_in(browser, "ann@example.org", "a brand new one")


def test_sign_in_link(site: Site) -> None:
    site.member("ann@example.org")
    with site.browser() as browser:
        browser.post("/account/link-request", data={"email": "ann@example.org",
                                                    "csrf_token": csrf(browser)})
        token = site.token_from_mail("ann@example.org", 1)
        response = browser.post("/api/v1/account/link", json={"token": token},
                                headers={"X-CSRF-Token": csrf(browser)})
        assert response.status_code == 200 and response.json()["email"] == "ann@example.org"
        assert browser.post("/api/v1/account/link", json={"token": token},
                            headers={"X-CSRF-Token": csrf(browser)}).status_code == 410


def test_export_and_delete_my_account(site: Site) -> None:
    account_id = site.member("ann@example.org")
    with site.browser() as browser:
        sign_in(browser, "ann@example.org")
        token = csrf(browser)
        browser.put("/api/v1/answers", json={"answers": {"q-one": "no"}},
                    headers={"X-CSRF-Token": token})
        browser.put("/api/v1/profile", json={"age": 44, "sex": "FEMALE"},
                    headers={"X-CSRF-Token": token})
        exported = browser.get("/account/export")
        assert exported.headers["content-disposition"].startswith("attachment")
        data = json.loads(exported.text)
        assert data["account"]["email"] == "ann@example.org"
        assert data["answers"] == {"q-one": "no"}
        assert data["profile"]["age"] == 44
        assert "password" not in json.dumps(data["account"])
        refused = browser.post("/account/delete", data={"csrf_token": csrf(browser)})
        assert refused.status_code == 422
        gone = browser.delete("/api/v1/account", headers={"X-CSRF-Token": csrf(browser)})
        assert gone.status_code == 422  # the API wants {"confirm": true}
        done = browser.post("/account/delete", data={"confirm": "yes",
                                                     "csrf_token": csrf(browser)},
                            follow_redirects=False)
        assert done.status_code == 303
        assert browser.get("/api/v1/account").status_code == 404
    with site.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AccountRow)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(WebSessionRow).where(
            WebSessionRow.account_id == account_id)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(SessionAnswerRow)).scalar_one() == 0


@given(email=st.text(max_size=300), password=st.text(max_size=300))
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_sign_up_or_sign_in_input_gets_a_clear_answer(site: Site, email: str,
                                                          password: str) -> None:
    with site.browser("10.1.9.9") as browser:
        token = csrf(browser)
        body = {"email": email, "password": password}
        up = browser.post("/api/v1/account/signup", json=body, headers={"X-CSRF-Token": token})
        assert up.status_code in (202, 422), up.text
        if up.status_code == 422:
            assert up.json()["detail"]
        signin = browser.post("/api/v1/account/signin", json=body,
                              headers={"X-CSRF-Token": token})
        assert signin.status_code in (401, 403, 422, 429), signin.text
        if signin.status_code == 403:  # the right password for the address just signed up
            assert up.status_code == 202 and signin.json()["type"].endswith("not-verified")
