"""End to end in Chromium: sign up, confirm the address through the email a real SMTP
server on 127.0.0.1 caught, sign in, join the volunteer registry, withdraw, sign out; and
axe-core on every account and volunteer page (no serious or critical violation)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import _axe
from tests.factories import study
from tests.mailserver import MailServer
from trialscout.app import TrialScout, create_app
from trialscout.mail.delivery import deliver_pending

pytestmark = pytest.mark.browser
PASSWORD = "a long enough password"
LINK = re.compile(r"(https?://\S+/account/verify\?token=\S+)")


@pytest.fixture
def served(tmp_path: Path, mail_server: MailServer) -> Iterator[tuple[str, TrialScout]]:
    import uvicorn

    from trialscout.web import create_web_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    studies = tmp_path / "studies.jsonl"
    studies.write_text(json.dumps(study("NCT09990801", conditionsModule={
        "conditions": ["Asthma"]})) + "\n")
    core = create_app(database_url=f"sqlite:///{tmp_path / 'a.db'}", public_url=base,
                      password_hash_memory_kib=8192, **mail_server.settings())
    core.import_paths([studies])
    server = uvicorn.Server(uvicorn.Config(create_web_app(core), log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield base, core
    server.should_exit = True
    thread.join(timeout=10)
    core.close()


def _no_serious(tab: Any, axe_source: str, where: str) -> None:
    result = _axe(tab, axe_source)
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, (where, json.dumps(serious, indent=1))


def test_sign_up_verify_by_email_and_sign_in(browser: Any, served: tuple[str, TrialScout],
                                             mail_server: MailServer,
                                             axe_source: str) -> None:
    base, core = served
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
    tab = context.new_page()
    tab.goto("/account/signup")
    _no_serious(tab, axe_source, "signup")
    tab.get_by_label("Email address", exact=True).fill("Walker@Example.org")
    tab.get_by_role("textbox", name="Password").fill(PASSWORD)
    tab.get_by_role("button", name="Create account").click()
    expect(tab.get_by_role("status")).to_contain_text("Check your email")
    _no_serious(tab, axe_source, "signin")

    deliver_pending(core)  # the web sends it right after the response too; either is fine
    messages = mail_server.wait_for(1)
    assert messages[0]["To"] == "walker@example.org"
    body = messages[0].get_body(("plain",))
    assert body is not None
    link = LINK.search(body.get_content())
    assert link, body.get_content()
    tab.goto(link.group(1))
    _no_serious(tab, axe_source, "verify")
    tab.get_by_role("button", name="Confirm my email address").click()
    expect(tab.get_by_role("status")).to_contain_text("confirmed")

    tab.get_by_label("Email address", exact=True).fill("walker@example.org")
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    tab.get_by_role("button", name="Sign in", exact=True).click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("My account")
    expect(tab.get_by_text("walker@example.org")).to_be_visible()
    expect(tab.get_by_role("link", name="My account")).to_be_visible()
    _no_serious(tab, axe_source, "account")

    tab.goto("/volunteer")
    _no_serious(tab, axe_source, "volunteer")
    tab.get_by_label("Conditions").select_option("Asthma")
    tab.get_by_label("Near").fill("Boston")
    tab.get_by_label("I agree").check()
    tab.get_by_role("button", name="Join").click()
    expect(tab.get_by_role("status")).to_contain_text("registration is saved")
    expect(tab.get_by_role("heading", name="My consent records")).to_be_visible()
    _no_serious(tab, axe_source, "volunteer-registered")
    tab.get_by_role("button", name="Withdraw from the registry").click()
    expect(tab.get_by_role("status")).to_contain_text("withdrawn")

    tab.goto("/account")
    tab.get_by_role("button", name="Sign out", exact=True).click()
    expect(tab.get_by_role("status")).to_contain_text("signed out")
    expect(tab.get_by_role("link", name="Sign in")).to_be_visible()
    context.close()


def test_admin_counts_page(browser: Any, served: tuple[str, TrialScout],
                           axe_source: str) -> None:
    from trialscout.accounts.service import AccountPolicy, AccountService

    base, core = served
    service = AccountService(core.engine, AccountPolicy.from_settings(core.settings))
    with core.engine.begin() as conn:
        service.create(conn, "boss@example.org", PASSWORD, role="admin", verified=True)
    context = browser.new_context(viewport={"width": 390, "height": 900}, base_url=base)
    tab = context.new_page()
    assert tab.goto("/admin/volunteers").status == 404
    tab.goto("/account/signin")
    tab.get_by_label("Email address", exact=True).fill("boss@example.org")
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    tab.get_by_role("button", name="Sign in", exact=True).click()
    expect(tab.get_by_role("link", name="Volunteer counts (admin)")).to_be_visible()
    tab.get_by_role("link", name="Volunteer counts (admin)").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Volunteer registry counts")
    _no_serious(tab, axe_source, "admin-counts")
    context.close()
