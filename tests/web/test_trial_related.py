"""The trial page's plain-language summary, "More related trials" and guide links, and
their API endpoints."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.web.fixtures import HOSTILE_ID, IMG, SCRIPT, SHARED_A
from trialscout.app import TrialScout, create_app
from trialscout.sample import sample_path
from trialscout.web import create_web_app

PROBLEM = "application/problem+json"
DENOSUMAB_TRIAL = "NCT09000001"


def _esc(text: str) -> str:
    """Text as the templates write it (Jinja autoescape)."""
    return str(escape(text))


def _section(html: str, section_id: str) -> str:
    """The HTML of the page's ``<section id="...">``."""
    start = html.index(f'<section id="{section_id}"')
    return html[start:html.index("</section>", start)]


def _inert(fragment: str) -> None:
    assert SCRIPT not in fragment and IMG not in fragment
    assert "<script" not in fragment and "<img" not in fragment


# ---------------------------------------------------------------- the summary
def test_trial_page_shows_the_generated_summary_and_the_sponsors_summary(
        client: TestClient) -> None:
    api = client.get(f"/api/v1/trials/{DENOSUMAB_TRIAL}/summary").json()
    assert api["generated"] is True and api["backend"] == "offline"
    page = client.get(f"/trials/{DENOSUMAB_TRIAL}").text
    block = _section(page, "summary")
    assert 'data-generated="true"' in block and 'data-backend="offline"' in block
    for part in api["sections"]:
        assert f"<h3>{_esc(part['title'])}</h3>" in block
        assert _esc(part["text"]) in block
    assert "written automatically" in block.lower() and "without ai" in block.lower()
    sponsor = block.index("Summary from the sponsor")
    assert _esc(api["brief_summary"]) in block[sponsor:]
    assert block.index("data-topic=") < sponsor, "the plain summary comes first"


def test_summary_api_cites_the_record_fields_of_every_sentence(client: TestClient) -> None:
    body = client.get(f"/api/v1/trials/{DENOSUMAB_TRIAL}/summary").json()
    trial = client.get(f"/api/v1/trials/{DENOSUMAB_TRIAL}").json()
    assert body["nct_id"] == DENOSUMAB_TRIAL
    assert body["sections"] and body["text"]
    assert body == trial["summary"], "the trial JSON carries the same summary"
    sentences = [s for part in body["sections"] for s in part["sentences"]]
    assert all(s["sources"] for s in sentences if s["topic"] != "note")
    assert [p["topic"] for p in body["sections"]] == list(dict.fromkeys(
        s["topic"] for s in sentences))
    assert body["text"] == " ".join(s["text"] for s in sentences)


@pytest.mark.parametrize("path", ["summary", "similar"])
def test_summary_and_similar_of_an_unknown_trial_are_404_problems(client: TestClient,
                                                                  path: str) -> None:
    response = client.get(f"/api/v1/trials/NCT00000000/{path}")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    malformed = client.get(f"/api/v1/trials/NCT123/{path}")
    assert malformed.status_code == 422 and malformed.headers["content-type"] == PROBLEM


# ---------------------------------------------------------------- similar trials
def test_trial_page_lists_related_trials_with_their_reasons(client: TestClient) -> None:
    api = client.get(f"/api/v1/trials/{DENOSUMAB_TRIAL}/similar",
                     params={"near": "Boston, MA"}).json()
    assert 1 <= len(api["items"]) <= 5
    page = client.get(f"/trials/{DENOSUMAB_TRIAL}", params={"near": "Boston, MA"}).text
    block = _section(page, "similar")
    assert "More related trials" in block
    listed = re.findall(r'<li class="related-trial" data-nct="(NCT\d{8})"', block)
    assert listed == [item["nct_id"] for item in api["items"]]
    for item in api["items"]:
        assert re.search(rf'href="/trials/{item["nct_id"]}\?near=Boston%2C\+MA"', block)
        assert _esc(item["explanation"]) in block
        assert "km away" in item["explanation"] and item["distance_km"] is not None
    assert DENOSUMAB_TRIAL not in listed


def test_similar_api_respects_limit_and_explains_each_trial(client: TestClient) -> None:
    five = client.get(f"/api/v1/trials/{DENOSUMAB_TRIAL}/similar").json()
    two = client.get(f"/api/v1/trials/{DENOSUMAB_TRIAL}/similar", params={"limit": 2}).json()
    assert five["nct_id"] == DENOSUMAB_TRIAL and five["origin"] is None
    assert len(five["items"]) == 5 and len(two["items"]) == 2
    assert [i["nct_id"] for i in two["items"]] == [i["nct_id"] for i in five["items"][:2]]
    scores = [i["score"] for i in five["items"]]
    assert scores == sorted(scores, reverse=True)
    for item in five["items"]:
        assert item["reasons"] and item["explanation"] == ", ".join(
            r["text"] for r in item["reasons"])
        assert item["distance_km"] is None, "no place given, no distance"


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "51"}, {"limit": "many"},
                                    {"lat": "91", "lon": "0"}, {"nonsense": "1"},
                                    {"near": "Qwzxqwzx"}])
def test_similar_api_refuses_invalid_parameters(client: TestClient,
                                                params: dict[str, str]) -> None:
    response = client.get(f"/api/v1/trials/{DENOSUMAB_TRIAL}/similar", params=params)
    assert response.status_code == 422, params
    assert response.headers["content-type"] == PROBLEM


def test_a_place_the_gazetteer_does_not_know_still_shows_related_trials(
        client: TestClient) -> None:
    page = client.get(f"/trials/{DENOSUMAB_TRIAL}", params={"near": "Qwzxqwzx"})
    assert page.status_code == 200
    block = _section(page.text, "similar")
    assert 'class="related-trial"' in block and "km away" not in block


# ---------------------------------------------------------------- guide links
def test_trial_page_links_the_guides_about_its_conditions_and_drugs(
        client: TestClient) -> None:
    body = client.get(f"/api/v1/trials/{DENOSUMAB_TRIAL}").json()
    slugs = {g["slug"] for g in body["guides"]}
    assert {"denosumab", "osteoporosis"} <= slugs
    page = client.get(f"/trials/{DENOSUMAB_TRIAL}").text
    for guide in body["guides"]:
        assert f'<a href="/guides/{guide["slug"]}">{_esc(guide["title"])}</a>' in page
    for slug in slugs:
        assert client.get(f"/guides/{slug}").status_code == 200


def test_the_nav_links_the_guides(client: TestClient) -> None:
    nav = client.get("/").text.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert '<a href="/guides">Guides</a>' in nav
    guide_nav = client.get("/guides/denosumab").text.split('<nav aria-label="Main">')[1]
    assert '<a href="/guides" aria-current="page">Guides</a>' in guide_nav.split("</nav>")[0]


# ---------------------------------------------------------------- escaping
def test_hostile_registry_text_is_inert_in_the_summary_block(client: TestClient) -> None:
    api = client.get(f"/api/v1/trials/{HOSTILE_ID}/summary").json()
    assert IMG in api["text"], "the summary restates the hostile condition (as data)"
    block = _section(client.get(f"/trials/{HOSTILE_ID}").text, "summary")
    _inert(block)
    assert "&lt;img src=x onerror=" in block and "&lt;script&gt;" in block


def test_hostile_registry_text_is_inert_in_related_trials(client: TestClient) -> None:
    holders = [nct for nct in (DENOSUMAB_TRIAL, SHARED_A)
               if HOSTILE_ID in {i["nct_id"] for i in client.get(
                   f"/api/v1/trials/{nct}/similar").json()["items"]}]
    assert holders, "the hostile trial is related to an osteoporosis trial"
    for nct in holders:
        block = _section(client.get(f"/trials/{nct}").text, "similar")
        assert f'data-nct="{HOSTILE_ID}"' in block
        _inert(block)
        assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in block


# ---------------------------------------------------------------- LLM-written summaries
@dataclass
class LLMStore:
    core: TrialScout
    fail: bool = False


@pytest.fixture(scope="module")
def llm_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMStore]:
    """A store whose summaries go through a fake LLM: it repeats the offline sentences
    (which pass the fact check), or fails when ``fail`` is set."""
    folder = tmp_path_factory.mktemp("llm")
    app = create_app(database_url=f"sqlite:///{folder / 'llm.db'}", secret_key="test-secret",
                     llm_base_url="http://llm.invalid/v1", llm_model="test-model")
    app.import_paths([sample_path()])
    store = LLMStore(app)

    def reply(request: httpx.Request) -> httpx.Response:
        if store.fail:
            return httpx.Response(500, json={"error": "down"})
        draft = json.loads(json.loads(request.content)["messages"][1]["content"])["draft"]
        content = json.dumps({"sentences": draft})
        return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})

    app.summaries.transport = httpx.MockTransport(reply)
    yield store
    app.close()


def _llm_page(store: LLMStore, nct_id: str, fail: bool) -> tuple[dict[str, Any], str]:
    store.fail = fail
    with TestClient(create_web_app(store.core), base_url="http://127.0.0.1") as client:
        page = client.get(f"/trials/{nct_id}").text
        return client.get(f"/api/v1/trials/{nct_id}/summary").json(), page


def test_an_llm_summary_says_it_was_written_by_a_model_and_checked(
        llm_store: LLMStore) -> None:
    body, page = _llm_page(llm_store, DENOSUMAB_TRIAL, fail=False)
    assert body["backend"] == "llm" and body["model"] == "test-model"
    assert body["llm_fallback"] is False
    block = _section(page, "summary")
    assert 'data-backend="llm"' in block and "test-model" in block
    assert "checked every sentence against the record" in block


def test_a_failed_llm_rewrite_falls_back_to_the_offline_summary_and_says_so(
        llm_store: LLMStore) -> None:
    body, page = _llm_page(llm_store, "NCT09000002", fail=True)
    assert body["backend"] == "offline" and body["llm_fallback"] is True
    block = _section(page, "summary")
    assert 'data-backend="offline"' in block and "was not used" in block
    assert "HTTP 500" not in page, "the LLM's error stays out of the page"
