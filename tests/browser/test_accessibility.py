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
