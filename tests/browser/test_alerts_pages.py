"""Save a search in real Chromium and check the alert pages with axe-core (no serious or
critical violation). Screenshots go to /tmp/screens/."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import _axe

pytestmark = pytest.mark.browser


def _serious(result: dict) -> list:  # type: ignore[type-arg]
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "mobile"])
def test_save_this_search_and_the_alert_pages_are_accessible(  # type: ignore[no-untyped-def]
        browser, base_url, axe_source, width):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  base_url=base_url)
    tab = context.new_page()
    tab.goto("/search?q=osteoporosis&status=RECRUITING")
    form = tab.locator("form.save-search")
    form.get_by_label("Email me").select_option("daily")
    form.get_by_role("button", name="Save this search").click()
    expect(tab.get_by_role("status")).to_contain_text("Search saved")
    expect(tab.get_by_label("Email me")).to_have_value("daily")
    screenshot(tab, f"alert-detail-{width}")
    detail = _axe(tab, axe_source)
    assert not _serious(detail), json.dumps(_serious(detail), indent=1)
    feed = tab.locator("a[type='application/atom+xml']").get_attribute("href")
    assert feed and feed.startswith("/alerts/feed/")
    tab.goto("/alerts")
    expect(tab.locator("main article.card")).to_have_count(1)
    screenshot(tab, f"alerts-list-{width}")
    listing = _axe(tab, axe_source)
    assert not _serious(listing), json.dumps(_serious(listing), indent=1)
    tab.goto("/conditions/Osteoporosis")
    expect(tab.get_by_role("button", name="Get alerts like this")).to_be_visible()
    condition = _axe(tab, axe_source)
    assert not _serious(condition), json.dumps(_serious(condition), indent=1)
    context.close()
