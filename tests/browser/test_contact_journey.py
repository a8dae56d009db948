"""End to end in Chromium: a patient sends an inquiry, the coordinator claims the trial
through the link emailed to the registry contact address (caught by a real SMTP server
on 127.0.0.1), reads the inquiry and sets it to "contacted"; the patient sees the new
status and gets the email. Screenshots go to /tmp/screens/ (outside the repository)."""

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
from tests.contact.accounts import make_account
from tests.contact.studies import TRIAL_X, X_SITE_A, write_studies
from tests.mailserver import MailServer
from trialscout.app import TrialScout, create_app
from trialscout.sessions.tables import WebSessionRow
from trialscout.sessions.tokens import hash_session_token, issue_session_id
from trialscout.web.visitor import SESSION_COOKIE

pytestmark = pytest.mark.browser
SCREENS = Path("/tmp/screens")
SECRET = "browser-contact"


def _shot(tab: Any, name: str, axe: str | None = None) -> None:
    """A screenshot, and (given axe-core's source) no serious or critical axe violation."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    if axe is not None:
        result = _axe(tab, axe)
        serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, (name, json.dumps(serious, indent=1))


@pytest.fixture
def served(tmp_path: Path, mail_server: MailServer) -> Iterator[tuple[str, TrialScout, Any]]:
    import uvicorn

    from trialscout.web import create_web_app

    core = create_app(database_url=f"sqlite:///{tmp_path / 'c.db'}", secret_key=SECRET,
                      **mail_server.settings())
    core.import_paths([write_studies(tmp_path)])
    web = create_web_app(core)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    core.settings = type(core.settings)(**{**core.settings.__dict__, "public_url": base})
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield base, core, web
    server.should_exit = True
    thread.join(timeout=10)
    core.close()


def _signed_in(browser: Any, base: str, web: Any, account_id: int) -> Any:
    """A browser context whose session is signed in to the account (accounts contract:
    web_sessions.account_id)."""
    from sqlalchemy import update

    token = issue_session_id(SECRET.encode())
    web.state.trialscout.sessions.put_answers(token, {})
    with web.state.trialscout.core.engine.begin() as conn:
        conn.execute(update(WebSessionRow).where(
            WebSessionRow.id_hash == hash_session_token(token)).values(account_id=account_id))
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base}])
    return context


def _mail_to(server: MailServer, core: TrialScout, address: str, count: int) -> list[Any]:
    """The messages to ``address`` once ``count`` arrived: the web app sends what a request
    queued right after its response, so nothing here delivers."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [m for m in server.messages if m["To"] == address]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {count} messages to {address}")


def _text(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def test_inquiry_claim_contacted_and_back_to_the_patient(
        browser: Any, served: tuple[str, TrialScout, Any], mail_server: MailServer,
        axe_source: str) -> None:
    base, core, web = served
    patient = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
    tab = patient.new_page()
    tab.goto(f"/trials/{TRIAL_X}")
    tab.locator("#contact-team").get_by_role("link", name="Contact the study team").click()
    tab.wait_for_url(re.compile(rf"/trials/{TRIAL_X}/contact$"))
    tab.get_by_label("Your name").fill("Pat Example")
    tab.get_by_label("Email").first.fill("pat@example.org")
    tab.get_by_label("Message").fill("I would like to know more about the walking visits.")
    tab.locator("details summary").click()
    tab.get_by_label("I have read what will be shared and agree to send it.").check()
    _shot(tab, "contact-form", axe_source)
    tab.get_by_role("button", name="Send inquiry").click()
    tab.wait_for_url(re.compile(r"/inquiries/[A-Za-z0-9_-]+\?sent=true$"))
    expect(tab.locator("h2 .inquiry-status")).to_have_text("Sent")
    inquiry_url = tab.url.split("?")[0]

    coordinator = _signed_in(browser, base, web,
                             make_account(web, "coord@example.org", "coordinator"))
    desk = coordinator.new_page()
    desk.goto(f"/coordinator/trials/{TRIAL_X}/claim")
    _shot(desk, "coordinator-claim", axe_source)
    desk.get_by_label(X_SITE_A).first.check()
    desk.get_by_role("button", name="Email me a claim link").click()
    expect(desk.get_by_role("status")).to_contain_text("We emailed a claim link")
    claim_mail = _mail_to(mail_server, core, X_SITE_A, 2)
    access = re.search(r"(http://\S+/inquiries/access/\S+)", _text(claim_mail[0]))
    assert access is not None, "the first email to the site is the inquiry's secure link"
    forwarded = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
    outsider = forwarded.new_page()
    outsider.goto(access.group(1))
    expect(outsider.get_by_role("button", name="Email me a code")).to_be_visible()
    assert "Pat Example" not in outsider.content()
    _shot(outsider, "emailed-link-locked", axe_source)
    forwarded.close()
    link = re.search(r"(http://\S+/coordinator/claim/\S+)", _text(claim_mail[-1]))
    assert link is not None
    desk.goto(link.group(1))
    desk.get_by_role("button", name="Confirm claim").click()
    desk.wait_for_url(re.compile(rf"/coordinator\?nct_id={TRIAL_X}$"))
    row = desk.locator("table.inquiry-table tbody tr")
    expect(row).to_have_count(1)
    _shot(desk, "coordinator-workspace", axe_source)
    row.get_by_role("link", name="Pat Example").click()
    expect(desk.locator("h2 .inquiry-status")).to_have_text("Seen by the study team")
    expect(desk.locator("table.prescreen")).to_contain_text("Postmenopausal women")
    desk.get_by_label("New status").select_option("contacted")
    desk.get_by_label("Note").fill("We left a voicemail.")
    desk.get_by_role("button", name="Save status").click()
    expect(desk.locator("h2 .inquiry-status")).to_have_text("Contacted")
    _shot(desk, "coordinator-inquiry", axe_source)

    tab.goto(inquiry_url)
    expect(tab.locator("h2 .inquiry-status")).to_have_text("Contacted")
    expect(tab.locator(".inquiry-history")).to_contain_text("We left a voicemail.")
    _shot(tab, "patient-inquiry", axe_source)
    mails = _mail_to(mail_server, core, "pat@example.org", 3)
    assert [str(m["Subject"]).rsplit(": ", 1)[1] for m in mails] == [
        "Sent", "Seen by the study team", "Contacted"]
    assert inquiry_url.split("/")[-1] in _text(mails[-1])
    tab.goto("/inquiries")
    expect(tab.locator("ul.inquiries .inquiry-status")).to_have_text("Contacted")
    _shot(tab, "patient-inquiries", axe_source)
    tab.goto(f"/trials/{TRIAL_X}")
    tab.locator("#contact-team").screenshot(path=str(SCREENS / "trial-contact-section.png"))

    admin = _signed_in(browser, base, web, make_account(web, "admin@example.org", "admin"))
    audit = admin.new_page()
    audit.goto("/admin/audit")
    rows = audit.locator("table.audit-table tbody tr")
    assert rows.count() >= 3
    # the coordinator opened the inquiry, and saw it again after saving the status
    expect(rows.filter(has_text="read")).to_have_count(2)
    expect(rows.filter(has_text="list")).to_have_count(1)
    _shot(audit, "admin-audit", axe_source)
    for context in (patient, coordinator, admin):
        context.close()
