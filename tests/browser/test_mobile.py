"""The layout on a phone: nothing overflows sideways, filters fold away, targets are large."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("name,path", [
    ("home", "/"), ("results", "/search?q=osteoporosis"),
    ("trial", "/trials/NCT09000001"), ("browse", "/conditions"),
    ("guide", "/guides/denosumab")])
def test_pages_fit_a_phone_screen(browser, base_url, name, path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, base_url=base_url, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    tab = context.new_page()
    tab.goto(path)
    overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"
    screenshot(tab, f"{name}-mobile")
    if name == "results":
        assert tab.locator("details.filters").get_attribute("open") is None
        tab.locator("details.filters > summary").click()
        assert tab.locator("details.filters").get_attribute("open") is not None
    if name == "trial":
        radio = tab.locator("#self-check .answer").first
        box = radio.bounding_box()
        assert box is not None and box["height"] >= 24
    context.close()
