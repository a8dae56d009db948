"""A visitor's profile journey in real Chromium: fill in the profile and a note, open my
matches, see the verdicts, check the matches page with axe-core, and delete it all."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import _axe

pytestmark = pytest.mark.browser

NOTE = ("67-year-old woman with postmenopausal osteoporosis. Denies diabetes. "
        "No prior denosumab.")
VERDICTS = {"eligible", "possibly_eligible", "not_eligible"}


def _fill_profile(tab) -> None:  # type: ignore[no-untyped-def]
    tab.goto("/profile")
    tab.get_by_label("Age in years").fill("67")
    tab.get_by_label("Female", exact=True).check()
    tab.get_by_label("Where you are").fill("Boston, MA")
    tab.get_by_label("How far you can travel").fill("2000")
    tab.get_by_role("button", name="Save profile").click()
    tab.wait_for_url(re.compile(r"/profile\?saved=1"))
    tab.get_by_label("Or write or paste a clinical note").fill(NOTE)
    tab.get_by_role("button", name="Read my medical history").click()
    tab.wait_for_url(re.compile(r"record=saved"))


def test_fill_in_profile_open_my_matches_and_see_verdicts(page, axe_source) -> None:  # type: ignore[no-untyped-def]
    _fill_profile(page)
    history = page.locator("#medical-history")
    expect(history).to_contain_text("Your medical history has been read")
    expect(history).to_contain_text("postmenopausal osteoporosis")
    expect(history.locator("dt", has_text="You said you do not have")).to_be_visible()
    screenshot(page, "profile-desktop")

    page.get_by_role("link", name="My matches").first.click()
    page.wait_for_url(re.compile(r"/matches"))
    matches = page.locator("ol.matches > li")
    assert matches.count() >= 1
    first = matches.first
    assert first.get_attribute("data-verdict") in VERDICTS
    badge = first.locator("[data-match]").first
    expect(badge).to_be_visible()
    assert badge.inner_text() in {"Eligible", "Possibly eligible", "Not eligible"}
    expect(first.locator(".result-site")).to_contain_text("km")
    details = first.locator("details.match-criteria")
    assert details.get_attribute("open") is None
    details.locator("summary").click()
    expect(details.locator(".criterion-verdict").first).to_be_visible()
    expect(details).to_contain_text("Your profile")
    screenshot(page, "matches-desktop")

    result = _axe(page, axe_source)
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert result["passes"] > 10
    assert not serious, json.dumps(serious, indent=1)

    page.get_by_label("Near a place").fill("Qwzxqwzx")
    page.get_by_role("button", name="Update my matches").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown place")

    page.goto("/search?q=osteoporosis")
    expect(page.locator(".profile-match [data-match]").first).to_be_visible()

    page.goto("/profile")
    page.get_by_role("button", name="Delete my profile", exact=True).click()
    page.wait_for_url(re.compile(r"deleted=1"))
    assert page.get_by_label("Age in years").input_value() == ""
    page.goto("/matches")
    expect(page.get_by_role("link", name="Fill in my profile")).to_be_visible()


def test_matches_page_on_a_phone_has_no_serious_axe_violations(browser, base_url,  # type: ignore[no-untyped-def]
                                                               axe_source) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=base_url)
    tab = context.new_page()
    _fill_profile(tab)
    tab.goto("/matches")
    assert tab.locator("ol.matches > li").count() >= 1
    tab.locator("details.match-criteria summary").first.click()
    result = _axe(tab, axe_source)
    width = tab.evaluate("document.documentElement.scrollWidth")
    screenshot(tab, "matches-mobile")
    context.close()
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, json.dumps(serious, indent=1)
    assert width <= 390, "no sideways scrolling on a phone"


def test_profile_and_matches_work_without_javascript(browser, base_url) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False, base_url=base_url)
    tab = context.new_page()
    _fill_profile(tab)
    tab.goto("/matches")
    first = tab.locator("ol.matches > li").first
    assert first.get_attribute("data-verdict") in VERDICTS
    first.locator("details.match-criteria summary").click()
    assert first.locator(".criterion-verdict").first.is_visible()
    context.close()
