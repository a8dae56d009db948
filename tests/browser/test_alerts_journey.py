"""The alert journey in real Chromium, with a real SMTP server catching the mail: sign up,
verify through the caught email, save a search, a matching trial is imported, the alert
email arrives and its link opens the trial, and one-click unsubscribe stops the emails.
Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.alerts.helpers import store, trial
from tests.browser.conftest import screenshot
from tests.mailserver import MailServer, free_port
from trialscout.alerts.service import AlertService
from trialscout.app import TrialScout, create_app
from trialscout.sample import sample_path

pytestmark = pytest.mark.browser
PASSWORD = "tidal-heron-2042"
LINK = re.compile(r"https?://\S+")


@pytest.fixture
def served(tmp_path: Path, mail_server: MailServer) -> Iterator[tuple[str, TrialScout]]:
    import uvicorn

    from trialscout.web import create_web_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    core = create_app(database_url=f"sqlite:///{tmp_path / 'journey.db'}", public_url=url,
                      web_warm_up="off", **mail_server.settings())
    core.import_paths([sample_path()])
    server = uvicorn.Server(uvicorn.Config(create_web_app(core), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield url, core
    server.should_exit = True
    thread.join(timeout=10)
    core.close()


def _mail_to(mail: MailServer, to: str, count: int) -> list:  # type: ignore[type-arg]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = [m for m in mail.messages if m["To"] == to]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no mail number {count} to {to}")


def test_sign_up_save_a_search_get_the_alert_and_unsubscribe(  # type: ignore[no-untyped-def]
        browser, served, mail_server: MailServer, tmp_path: Path):
    url, core = served
    email = "journey@example.org"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=url)
    tab = context.new_page()
    tab.goto("/account/signup")
    tab.get_by_role("textbox", name="Email address").fill(email)
    tab.locator("#su-password").fill(PASSWORD)
    tab.get_by_role("button", name="Create account").click()
    verify = _mail_to(mail_server, email, 1)[-1].get_body(("plain",)).get_content()
    tab.goto(next(link for link in LINK.findall(verify) if "/account/verify" in link))
    tab.get_by_role("button", name="Confirm my email address").click()
    tab.get_by_role("textbox", name="Email address").fill(email)
    tab.locator("#si-password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab).to_have_url(re.compile(r"/account"))

    tab.goto("/search?q=heronfield")
    tab.locator("form.save-search").get_by_label("Email me").select_option("immediate")
    tab.get_by_role("button", name="Save this search").click()
    expect(tab.get_by_role("status")).to_contain_text("Search saved")
    detail_path = tab.url.split(url, 1)[1].split("?", 1)[0]

    store(core, tmp_path, [trial("NCT09009901", title="Heronfield bone density study")])
    report = AlertService(core).run()
    assert report.sent == 1, report
    alert = _mail_to(mail_server, email, 2)[-1]
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = alert.get_body(("plain",)).get_content()
    trial_link = next(link for link in LINK.findall(text) if "/trials/" in link)
    tab.goto(trial_link)
    expect(tab.locator("h1")).to_contain_text("Heronfield bone density study")
    screenshot(tab, "alert-journey-trial")

    unsubscribe = alert["List-Unsubscribe"].strip("<>")
    mail_client = browser.new_context(base_url=url)  # a mail client: no cookie, no token
    response = mail_client.request.post(unsubscribe, data="List-Unsubscribe=One-Click",
                                        headers={"Content-Type":
                                                 "application/x-www-form-urlencoded"})
    assert response.status == 204
    mail_client.close()
    tab.goto(detail_path)
    expect(tab.get_by_label("Email me")).to_have_value("none")
    screenshot(tab, "alert-journey-unsubscribed")
    store(core, tmp_path, [trial("NCT09009902", title="Heronfield follow-up study")])
    assert AlertService(core).run().emails_queued == 0
    assert len([m for m in mail_server.messages if m["To"] == email]) == 2
    context.close()
