"""axe-core on the main pages: no serious or critical violation."""

from __future__ import annotations

import json

import pytest

from tests.web.fixtures import HOSTILE_ID

pytestmark = pytest.mark.browser

PAGES = {
    "home": "/",
    "results": "/search?q=osteoporosis&near=Boston%2C+MA&radius=1000",
    "trial": "/trials/NCT09000001?near=Boston%2C+MA",
    "trial-hostile": f"/trials/{HOSTILE_ID}",
    "browse": "/conditions",
    "condition": "/conditions/Osteoporosis",
    "profile": "/profile",
    "guides": "/guides",
    "guide": "/guides/denosumab",
    "guide-condition": "/guides/osteoporosis?page_size=5&page=2",
}


def _axe(tab, source: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    tab.evaluate(source)
    return tab.evaluate("""async () => {
        const result = await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                            'best-practice']}});
        return {violations: result.violations.map(v => ({id: v.id, impact: v.impact,
                 help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})),
                passes: result.passes.length};
    }""")


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "mobile"])
def test_no_serious_or_critical_axe_violations(browser, base_url, axe_source, name, width):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  base_url=base_url)
    tab = context.new_page()
    tab.goto(PAGES[name])
    result = _axe(tab, axe_source)
    context.close()
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert result["passes"] > 10
    assert not serious, json.dumps(serious, indent=1)


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "mobile"])
def test_question_form_errors_have_no_serious_or_critical_axe_violations(  # type: ignore[no-untyped-def]
        browser, base_url, axe_source, width):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  base_url=base_url)
    tab = context.new_page()
    tab.goto("/guides/denosumab")
    tab.get_by_label("Your question").fill("Why?")
    tab.get_by_label("Email").fill("not an email")
    tab.locator("#ask form").evaluate("form => form.noValidate = true")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Send question").click()
    assert tab.locator("#ask [role=alert]").is_visible()
    result = _axe(tab, axe_source)
    context.close()
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, json.dumps(serious, indent=1)
