"""A visitor's journey in real Chromium: search, open a trial, self-check, clear."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.web.fixtures import HOSTILE_ID

pytestmark = pytest.mark.browser


def _verdict(tab) -> str:  # type: ignore[no-untyped-def]
    return tab.locator("#verdict").get_attribute("data-verdict")


def test_search_open_trial_answer_see_verdict_change_and_clear(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.get_by_label("Condition, treatment or keyword").fill("denosumab")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"/search\?"))
    results = page.locator("ol.results > li")
    assert results.count() >= 2
    screenshot(page, "results-desktop")

    results.first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/trials/NCT\d{8}"))
    trial_url = page.url
    page.evaluate("window.__sameDocument = true")
    assert _verdict(page) == "not_started"

    questions = page.locator("#self-check fieldset.question")
    assert questions.count() >= 2
    questions.nth(0).get_by_label("Yes", exact=True).check()
    expect(page.locator("#verdict")).not_to_have_attribute("data-verdict", "not_started")
    after_one = _verdict(page)
    assert after_one in {"possibly_eligible", "not_eligible", "eligible"}

    exclusion = page.locator("#self-check li[data-item]").filter(
        has=page.locator("fieldset.question")).last
    exclusion.get_by_label("Yes", exact=True).check()
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "not_eligible")
    assert "not eligible" in page.locator("#verdict").inner_text().lower()
    assert page.evaluate("window.__sameDocument") is True, "the verdict updated in place"
    page.locator("#self-check").scroll_into_view_if_needed()
    screenshot(page, "trial-self-check-answered", full_page=False)

    page.reload()
    assert _verdict(page) == "not_eligible", "answers are remembered in the session"

    page.get_by_role("button", name="Clear my responses").click()
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "not_started")
    assert page.locator("#self-check input[type=radio]:checked").count() == 0
    page.goto(trial_url)
    assert _verdict(page) == "not_started"
    screenshot(page, "trial-desktop")


def test_answers_carry_over_to_other_trials_asking_the_same(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/api/v1/search?q=denosumab&page_size=50")
    ids = [hit["nct_id"] for hit in page.evaluate("JSON.parse(document.body.innerText)")["hits"]]
    keys_by_trial = {}
    for nct_id in ids:
        checklist = page.evaluate(f"fetch('/api/v1/trials/{nct_id}/checklist')"
                                  ".then(r => r.json())")
        keys_by_trial[nct_id] = {i["question_key"] for i in checklist["items"]
                                 if i["answerable"]}
    pairs = [(a, b, keys_by_trial[a] & keys_by_trial[b]) for a in ids for b in ids
             if a < b and keys_by_trial[a] & keys_by_trial[b]]
    if not pairs:
        pytest.skip("no two sample denosumab trials share a question")
    first, second, shared = pairs[0]
    key = sorted(shared)[0]
    page.goto(f"/trials/{first}")
    page.locator(f'#self-check input[data-key="{key}"][value="no"]').first.check()
    expect(page.locator("#verdict")).not_to_have_attribute("data-verdict", "not_started")
    page.goto(f"/trials/{second}")
    assert page.locator(f'#self-check input[data-key="{key}"][value="no"]').first.is_checked()


def test_distance_search_lists_nearest_sites_in_order(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.get_by_label("Condition, treatment or keyword").fill("osteoporosis")
    page.get_by_label("Near a place").fill("Boston, MA")
    page.get_by_label("Within").select_option("1000")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"near=Boston"))
    # the sort applies on change (the Apply button stays for pages without JavaScript)
    page.get_by_label("Sort by").select_option("distance")
    page.wait_for_url(re.compile(r"sort=distance"))
    page.wait_for_load_state()
    sites = page.locator(".result-site").all_inner_texts()
    assert sites, "results show their nearest site"
    distances = [float(re.search(r"— ([\d.]+) km", s).group(1)) for s in sites]  # type: ignore[union-attr]
    assert distances == sorted(distances) and distances[-1] <= 1000
    screenshot(page, "results-near-boston")
    page.locator("ol.results > li").first.get_by_role("link").first.click()
    assert "Distances from" in page.locator("#sites").inner_text()


def test_hostile_registry_markup_stays_inert(page) -> None:  # type: ignore[no-untyped-def]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"/trials/{HOSTILE_ID}")
    page.goto("/search?q=bone+study")
    page.goto(f"/trials/{HOSTILE_ID}")
    assert page.evaluate("window.__pwned") is None
    assert not dialogs
    assert "<script>" in page.locator("h1").inner_text()


def test_self_check_works_without_javascript(browser, base_url) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False, base_url=base_url)
    tab = context.new_page()
    tab.goto("/search?q=denosumab")
    tab.locator("ol.results > li").first.get_by_role("link").first.click()
    assert tab.locator("#verdict").get_attribute("data-verdict") == "not_started"
    tab.locator("#self-check fieldset.question").first.get_by_label("No", exact=True).check()
    tab.get_by_role("button", name="Save answers and update the verdict").click()
    assert tab.locator("#verdict").get_attribute("data-verdict") != "not_started"
    tab.get_by_role("button", name="Clear my responses").click()
    assert tab.locator("#verdict").get_attribute("data-verdict") == "not_started"
    context.close()


def test_keyboard_only_answering(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/search?q=denosumab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.locator("ol.results > li").first.get_by_role("link").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/trials/"))
    first_yes = page.locator("#self-check fieldset.question").first.get_by_label("Yes",
                                                                                 exact=True)
    first_yes.focus()
    page.keyboard.press("Space")
    expect(page.locator("#verdict")).not_to_have_attribute("data-verdict", "not_started")
    page.keyboard.press("ArrowRight")
    assert page.locator("#self-check fieldset.question").first.get_by_label(
        "No", exact=True).is_checked()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused control shows a focus ring"


def test_api_docs_render_offline_under_the_csp(page) -> None:  # type: ignore[no-untyped-def]
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    assert page.get_by_text("/api/v1/search").first.is_visible()
    base = page.url.split("/docs")[0]
    assert all(url.startswith(base) or url.startswith("data:") for url in requested), requested
