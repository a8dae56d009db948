"""Guides, plain-language summaries and related trials in real Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.web.fixtures import HOSTILE_ID

pytestmark = pytest.mark.browser


def test_from_the_nav_to_a_guide_its_trials_and_back_to_the_guide(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Guides").click()
    page.wait_for_url(re.compile(r"/guides$"))
    page.get_by_role("link", name="Denosumab", exact=True).click()
    page.wait_for_url(re.compile(r"/guides/denosumab$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Denosumab")
    assert page.locator("#faq h3").count() >= 3
    trials = page.locator("#trials ol.results > li")
    assert trials.count() >= 1
    screenshot(page, "guide-desktop")

    trials.first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/trials/NCT\d{8}$"))
    summary = page.locator("#summary [data-slot=plain-summary]")
    assert summary.get_attribute("data-generated") == "true"
    assert "automatically" in summary.inner_text()
    assert page.get_by_role("heading", name="Summary from the sponsor").is_visible()
    page.locator("[data-slot=guide-links]").get_by_role("link", name="Denosumab").click()
    page.wait_for_url(re.compile(r"/guides/denosumab$"))


def test_related_trials_explain_themselves_and_lead_to_their_pages(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/trials/NCT09000001?near=Boston%2C+MA")
    related = page.locator("#similar li.related-trial")
    assert 1 <= related.count() <= 5
    first = related.first
    why = first.locator("[data-field=explanation]").inner_text()
    assert "km away" in why and ("same" in why or "related" in why or "similar" in why)
    page.locator("#similar").scroll_into_view_if_needed()
    screenshot(page, "trial-related-trials", full_page=False)
    target = first.get_attribute("data-nct")
    first.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/trials/{target}\?near="))
    assert "Distances from" in page.locator("#sites").inner_text()


def test_sending_a_question_without_javascript(browser, base_url) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False, base_url=base_url)
    tab = context.new_page()
    tab.goto("/guides/osteoporosis")
    tab.get_by_label("Your question").fill("Why?")
    tab.get_by_role("button", name="Send question").click()
    alert = tab.locator("#ask [role=alert]")
    expect(alert).to_contain_text("at least")
    assert tab.get_by_label("Your question").input_value() == "Why?"
    assert tab.get_by_label("Your question").get_attribute("aria-invalid") == "true"
    tab.get_by_label("Your question").fill("Are there trials for men with osteoporosis?")
    tab.get_by_role("button", name="Send question").click()
    tab.wait_for_url(re.compile(r"/guides/osteoporosis\?sent=true"))
    expect(tab.locator("#ask .notice")).to_contain_text("received")
    assert tab.get_by_label("Your question").input_value() == ""
    screenshot(tab, "guide-question-sent", full_page=False)
    context.close()


def test_hostile_markup_stays_inert_in_summaries_related_trials_and_guides(page) -> None:  # type: ignore[no-untyped-def]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in (f"/trials/{HOSTILE_ID}", "/trials/NCT09000001",
                 "/guides/osteoporosis?page_size=100"):
        page.goto(path)
        assert page.evaluate("window.__pwned") is None, path
    assert not dialogs
    page.goto(f"/trials/{HOSTILE_ID}")
    assert "<img" in page.locator("#summary [data-slot=plain-summary]").inner_text()
