"""Notes, share links and the shortlist in real Chromium: select text on a trial page and
attach a note, make a passcode link, open it in a fresh browser context, lock a link with
wrong passcodes, and compare and print the shortlist. Screenshots go to /tmp/screens/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import _axe

pytestmark = pytest.mark.browser

TRIAL, OTHER = "NCT09000001", "NCT09000002"
PASSCODE = "heron-42-lake"
SCREENS = Path("/tmp/screens")


def shot(tab, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def no_serious_axe_violations(tab, axe_source: str) -> None:  # type: ignore[no-untyped-def]
    result = _axe(tab, axe_source)
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, json.dumps(serious, indent=1)


def _note_on_selection(tab) -> str:  # type: ignore[no-untyped-def]
    tab.goto(f"/trials/{TRIAL}")
    target = tab.locator("#snapshot dd").first
    target.select_text()
    selected = target.inner_text().strip()
    panel = tab.locator("section#notes")
    preview = panel.locator("[data-quote-preview]")
    expect(preview).to_be_visible()
    expect(preview).to_have_text(selected)
    panel.get_by_label("New note").fill("Ask whether <b>this</b> matters for me")
    panel.get_by_role("button", name="Save note").click()
    item = panel.locator("li.note").first
    expect(item.locator(".note-quote")).to_have_text(selected)
    expect(item.locator(".note-body")).to_have_text("Ask whether <b>this</b> matters for me")
    expect(preview).to_be_hidden()
    return selected


def _create_link(tab) -> str:  # type: ignore[no-untyped-def]
    tab.goto(f"/trials/{TRIAL}/share")
    shot(tab, "share-form")
    tab.get_by_label("Passcode (6 to 128 characters)").fill(PASSCODE)
    tab.get_by_label("My self-check answers").check()
    tab.get_by_role("button", name="Create link").click()
    expect(tab.get_by_role("heading", name="Your share link is ready")).to_be_visible()
    expect(tab.locator("[data-expires]")).to_contain_text(re.compile(
        r"expires on \w+ \d{2} \w+ \d{4} at \d{2}:\d{2} UTC"))
    shot(tab, "share-created")
    return str(tab.locator("#share-link").input_value())


def test_select_text_note_share_and_open_with_passcode(page, browser, base_url, axe_source) -> None:  # type: ignore[no-untyped-def]
    selected = _note_on_selection(page)
    with page.expect_response(lambda r: r.url.endswith("/answers") and r.ok):
        page.locator('#self-check input[type="radio"][value="yes"]').first.check()
    page.locator("section#notes").screenshot(path=str(SCREENS / "trial-notes.png"))
    page.goto("/notes")
    expect(page.locator("li.note")).to_have_count(1)
    shot(page, "my-notes")
    no_serious_axe_violations(page, axe_source)
    link = _create_link(page)
    assert "/shared?t=" in link

    fresh = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    try:
        tab = fresh.new_page()
        tab.goto(link)
        assert tab.locator('meta[name="robots"]').get_attribute("content").startswith("noindex")
        expect(tab.locator("[data-expires]")).to_contain_text("UTC")
        expect(tab.locator("body")).not_to_contain_text("matters for me")
        shot(tab, "shared-passcode")
        tab.get_by_label("Passcode").fill(PASSCODE)
        tab.get_by_role("button", name="Open").click()
        expect(tab.locator("h1")).to_be_visible()
        notes = tab.locator("li.note")
        expect(notes).to_have_count(1)
        expect(notes.first.locator(".note-quote")).to_have_text(selected)
        expect(tab.get_by_role("heading", name="Their self-check answers")).to_be_visible()
        expect(tab.locator("dl.answers dd").first).to_have_text("Yes")
        expect(tab.locator("main form")).to_have_count(0)
        shot(tab, "shared-view")
        no_serious_axe_violations(tab, axe_source)
    finally:
        fresh.close()


def test_wrong_passcodes_lock_the_link(page, browser, base_url, axe_source) -> None:  # type: ignore[no-untyped-def]
    link = _create_link(page)
    fresh = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    try:
        tab = fresh.new_page()
        tab.goto(link)
        for attempt in range(5):
            tab.get_by_label("Passcode").fill(f"wrong-{attempt}-guess")
            tab.get_by_role("button", name="Open").click()
            alert = tab.get_by_role("alert")
            if attempt < 4:
                expect(alert).to_contain_text(f"{4 - attempt} more wrong passcode")
        expect(tab.get_by_role("alert")).to_contain_text("locked until")
        tab.get_by_label("Passcode").fill(PASSCODE)
        tab.get_by_role("button", name="Open").click()
        expect(tab.get_by_role("alert")).to_contain_text("locked until")
        expect(tab.locator("li.note")).to_have_count(0)
        shot(tab, "shared-locked")
    finally:
        fresh.close()
    page.goto("/shares")
    expect(page.locator("tbody tr").first).to_contain_text("Locked until")
    shot(page, "my-shares")
    no_serious_axe_violations(page, axe_source)
    page.goto(f"/trials/{TRIAL}/share")
    no_serious_axe_violations(page, axe_source)


def test_shortlist_compare_and_print(page, axe_source) -> None:  # type: ignore[no-untyped-def]
    for nct in (TRIAL, OTHER):
        page.goto(f"/trials/{nct}")
        page.get_by_role("button", name="Save to my shortlist").click()
        page.wait_for_url(re.compile(r"/shortlist$"))
    expect(page.locator("ul.shortlist li")).to_have_count(2)
    shot(page, "shortlist")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"/shortlist/compare\?"))
    expect(page.locator("table.compare thead th")).to_have_count(3)
    expect(page.locator("table.compare")).to_contain_text("Still to confirm")
    shot(page, "compare")
    no_serious_axe_violations(page, axe_source)
    page.get_by_role("link", name="Doctor summary (print)").click()
    page.wait_for_url(re.compile(r"/shortlist/print\?"))
    expect(page.locator("article.doctor-sheet")).to_have_count(2)
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    breaks = page.locator("article.doctor-sheet").first.evaluate(
        "el => getComputedStyle(el).breakAfter")
    assert breaks == "page"
    shot(page, "doctor-summary-print")


def test_an_expired_link_opens_nothing_with_a_frozen_clock(page, browser, base_url,  # type: ignore[no-untyped-def]
                                                           monkeypatch) -> None:
    """The server runs in this process, so freezing the workspace clock an hour and a
    minute ahead expires a one-hour link for the recipient's browser."""
    from datetime import timedelta

    from trialscout.workspace import ownership, shares

    page.goto(f"/trials/{TRIAL}/share")
    page.get_by_label("Link expires after").select_option(label="1 hour")
    page.get_by_label("Passcode (6 to 128 characters)").fill(PASSCODE)
    page.get_by_role("button", name="Create link").click()
    expect(page.locator("[data-expires]")).to_contain_text("UTC")
    link = str(page.locator("#share-link").input_value())
    later = ownership.utcnow() + timedelta(hours=1, minutes=1)
    monkeypatch.setattr(shares, "utcnow", lambda: later)
    fresh = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    try:
        tab = fresh.new_page()
        response = tab.goto(link)
        assert response is not None and response.status == 404
        expect(tab.get_by_role("heading", name="This link cannot be opened")).to_be_visible()
        shot(tab, "shared-expired")
    finally:
        fresh.close()
