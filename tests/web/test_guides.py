"""Guide pages and API, and the "Send us a question" form: CSRF, validation, rate limit."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.web.conftest import csrf_for
from tests.web.fixtures import HOSTILE_ID, IMG, SCRIPT
from trialscout.app import TrialScout
from trialscout.guides.links import OPEN_STATUSES
from trialscout.web.rendering import Renderer

PROBLEM = "application/problem+json"
QUESTION = "Can I join a denosumab trial if I already had a jaw problem?"


def _esc(text: str) -> str:
    """Text as the templates write it (Jinja autoescape)."""
    return str(escape(text))


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start:html.index("</section>", start)]


def _stored(core: TrialScout, slug: str) -> list[str]:
    return [q.text for q in core.guides.questions("all", guide_slug=slug, limit=1000)]


# ---------------------------------------------------------------- guide pages and API
def test_guide_list_page_shows_every_guide_with_its_trial_count(client: TestClient) -> None:
    api = client.get("/api/v1/guides").json()
    assert api["total"] == len(api["items"]) >= 1
    html = client.get("/guides").text
    assert "<h1>" in html and "Conditions" in html and "Medicines" in html
    for item in api["items"]:
        assert f'<a href="/guides/{item["slug"]}">{_esc(item["title"])}</a>' in html
        count = item["trial_count"]
        assert f"{count} trial{'' if count == 1 else 's'}" in html
    denosumab = next(i for i in api["items"] if i["slug"] == "denosumab")
    assert denosumab["kind"] == "drug" and denosumab["trial_count"] >= 1


def test_guide_page_renders_the_markdown_sections_faq_and_sources(
        client: TestClient) -> None:
    api = client.get("/api/v1/guides/denosumab").json()
    guide = api["guide"]
    html = client.get("/guides/denosumab").text
    assert f'<h1 id="guide-title">{_esc(guide["title"])}</h1>' in html
    assert _esc(guide["disclaimer"]) in html
    headings = re.findall(r"<h2 id=\"[^\"]+\">([^<]+)</h2>", html)
    assert headings[:len(guide["sections"])] == [_esc(s["heading"])
                                                 for s in guide["sections"]]
    assert "Questions people ask" in headings and "Sources" in headings
    for item in guide["faq"]:
        assert f"<h3>{_esc(item['question'])}</h3>" in html
    sources = _section(html, "sources")
    for source in guide["sources"]:
        assert source["url"].startswith("https://")
        assert (f'<a href="{_esc(source["url"])}" rel="noopener noreferrer external">'
                f'{_esc(source["title"])}</a>') in sources
    assert sources.count("<a href=") == len(guide["sources"])
    assert "<ul>" in _section(html, guide["sections"][0]["anchor"]), "Markdown lists render"
    assert "<strong>" in html, "Markdown emphasis renders"


def test_guide_page_lists_its_trials_like_the_api(client: TestClient) -> None:
    api = client.get("/api/v1/guides/osteoporosis").json()["trials"]
    assert api["total"] >= 2 and api["page"] == 1
    html = _section(client.get("/guides/osteoporosis").text, "trials")
    listed = re.findall(r'<a href="/trials/(NCT\d{8})">', html)
    assert listed == [t["nct_id"] for t in api["trials"]]
    statuses = [t["status"] in OPEN_STATUSES for t in api["trials"]]
    assert statuses == sorted(statuses, reverse=True), "open trials come first"
    for trial in api["trials"]:
        assert trial["matched"], "each trial says why the guide lists it"


def test_guide_trials_page_and_filter_open_only(client: TestClient) -> None:
    everything = client.get("/api/v1/guides/osteoporosis").json()["trials"]
    first = client.get("/api/v1/guides/osteoporosis", params={"page_size": 2}).json()["trials"]
    second = client.get("/api/v1/guides/osteoporosis",
                        params={"page_size": 2, "page": 2}).json()["trials"]
    ids = [t["nct_id"] for t in everything["trials"]]
    assert [t["nct_id"] for t in first["trials"] + second["trials"]] == ids[:4]
    assert first["total"] == everything["total"]
    open_only = client.get("/api/v1/guides/osteoporosis",
                           params={"open_only": "true"}).json()["trials"]
    assert open_only["open_only"] is True and open_only["total"] <= everything["total"]
    assert all(t["status"] in OPEN_STATUSES for t in open_only["trials"])
    page = client.get("/guides/osteoporosis", params={"page_size": 2}).text
    assert 'aria-label="Pages of results"' in page
    checked = client.get("/guides/osteoporosis", params={"open_only": "true"}).text
    assert 'name="open_only" value="true" checked' in checked


def test_unknown_guide_is_a_404_page_and_problem(client: TestClient) -> None:
    page = client.get("/guides/no-such-guide")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/guides/no-such-guide")
    assert api.status_code == 404 and api.headers["content-type"] == PROBLEM
    assert api.json()["type"] == "urn:trialscout:problem:not-found"


@pytest.mark.parametrize("path", ["/api/v1/guides/Not_A_Slug", "/api/v1/guides/denosumab?page=0",
                                  "/api/v1/guides/denosumab?page_size=101",
                                  "/api/v1/guides/denosumab?open_only=perhaps",
                                  "/api/v1/guides/denosumab?nonsense=1"])
def test_invalid_guide_parameters_are_422_problems(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert response.json()["errors"]


def test_guide_markdown_cannot_inject_html() -> None:
    env = Renderer().env
    out = env.from_string("{{ text | markdown }}").render(
        text=f"Hello **bold** {SCRIPT} {IMG}\n\n<div onclick=x>raw</div>\n\n"
             "[click](javascript:alert(1))")
    assert "<strong>bold</strong>" in out
    assert "<script" not in out and "<img" not in out and "<div" not in out
    assert 'href="javascript:' not in out
    plain = env.from_string("{{ text }}").render(text=f"**{SCRIPT}**")
    assert "<script" not in plain and "**" in plain, "only the markdown filter renders"


def test_hostile_trial_text_is_inert_on_the_guide_page(client: TestClient) -> None:
    api = client.get("/api/v1/guides/osteoporosis", params={"page_size": 100}).json()
    assert HOSTILE_ID in {t["nct_id"] for t in api["trials"]["trials"]}
    html = client.get("/guides/osteoporosis", params={"page_size": 100}).text
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    for chunk in html.split("<script")[1:]:
        assert chunk.partition(">")[0].strip().startswith("src="), "no inline script"


# ---------------------------------------------------------------- asking a question
def test_question_form_is_labelled_and_carries_the_csrf_token(client: TestClient) -> None:
    ask = _section(client.get("/guides/denosumab").text, "ask")
    assert 'method="post" action="/guides/denosumab/questions#ask"' in ask
    assert '<label for="ask-text">' in ask and 'id="ask-text" name="text"' in ask
    assert '<label for="ask-email">' in ask and 'type="email"' in ask
    assert re.search(r'name="csrf_token" value="[0-9a-f]{64}"', ask)


def test_asking_without_javascript_redirects_back_with_a_confirmation(
        client: TestClient, core: TrialScout) -> None:
    page = client.get("/guides/denosumab").text
    response = client.post("/guides/denosumab/questions",
                           data={"csrf_token": _csrf(page), "text": QUESTION, "email": ""},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/guides/denosumab?sent=true#ask"
    after = client.get(response.headers["location"])
    assert 'class="notice" role="status"' in _section(after.text, "ask")
    assert QUESTION not in after.text, "the question is not shown publicly"
    assert QUESTION in _stored(core, "denosumab")


def test_form_post_without_a_csrf_token_is_refused(client: TestClient,
                                                  core: TrialScout) -> None:
    client.get("/guides/denosumab")
    text = "A question sent without a token, never stored."
    response = client.post("/guides/denosumab/questions", data={"text": text},
                           follow_redirects=False)
    assert response.status_code == 403
    forged = client.post("/guides/denosumab/questions",
                         data={"csrf_token": "0" * 64, "text": text}, follow_redirects=False)
    assert forged.status_code == 403
    assert text not in _stored(core, "denosumab")


def test_invalid_questions_come_back_in_the_form_with_their_errors(
        client: TestClient, core: TrialScout) -> None:
    page = client.get("/guides/denosumab").text
    typed = f"Why {SCRIPT}"
    response = client.post("/guides/denosumab/questions",
                           data={"csrf_token": _csrf(page), "text": "Why?",
                                 "email": "not-an-email"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    ask = _section(response.text, "ask")
    assert 'role="alert"' in ask and "not sent" in ask
    assert 'aria-invalid="true"' in ask and 'id="ask-text-error"' in ask
    assert 'id="ask-email-error"' in ask and 'value="not-an-email"' in ask
    assert ">Why?</textarea>" in ask, "what was typed is kept"
    hostile = client.post("/guides/denosumab/questions",
                          data={"csrf_token": _csrf(page), "text": typed, "email": IMG})
    assert hostile.status_code == 422
    assert SCRIPT not in hostile.text and IMG not in hostile.text
    assert "Why &lt;script&gt;" in hostile.text
    assert "Why?" not in _stored(core, "denosumab") and typed not in _stored(core, "denosumab")


def test_unknown_guide_form_post_is_404(client: TestClient) -> None:
    page = client.get("/guides/denosumab").text
    response = client.post("/guides/no-such-guide/questions",
                           data={"csrf_token": _csrf(page), "text": QUESTION})
    assert response.status_code == 404


def test_the_form_is_rate_limited_per_visitor(client: TestClient, core: TrialScout) -> None:
    limit = core.guides.limits.per_client
    page = client.get("/guides/osteopenia").text
    token = _csrf(page)
    for n in range(limit):
        sent = client.post("/guides/osteopenia/questions",
                           data={"csrf_token": token, "text": f"{QUESTION} ({n})"},
                           follow_redirects=False)
        assert sent.status_code == 303, n
    refused = client.post("/guides/osteopenia/questions",
                          data={"csrf_token": token, "text": f"{QUESTION} (again)"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    ask = _section(refused.text, "ask")
    assert 'role="alert"' in ask and "try again in" in ask
    assert _esc(f"{QUESTION} (again)") in ask, "what was typed is kept in the form"
    assert f"{QUESTION} (again)" not in _stored(core, "osteopenia")
    with TestClient(client.app, base_url="http://127.0.0.1") as other:
        fresh = other.get("/guides/osteopenia").text
        ok = other.post("/guides/osteopenia/questions",
                        data={"csrf_token": _csrf(fresh), "text": QUESTION},
                        follow_redirects=False)
        assert ok.status_code == 303, "another visitor is not limited"


def test_a_new_cookie_per_request_does_not_bypass_the_limit(client: TestClient,
                                                             core: TrialScout) -> None:
    limit = core.guides.limits.per_address
    statuses = []
    for n in range(limit + 1):
        with TestClient(client.app, base_url="http://127.0.0.1",
                        client=("203.0.113.5", 40000 + n)) as fresh:
            token = csrf_for(fresh)
            statuses.append(fresh.post("/api/v1/guides/osteopenia/questions",
                                       json={"text": f"{QUESTION} fresh {n}"},
                                       headers={"X-CSRF-Token": token}).status_code)
    assert statuses[:limit] == [201] * limit and statuses[-1] == 429


def test_api_question_success_and_problems(client: TestClient, core: TrialScout) -> None:
    token = csrf_for(client)
    text = "What does a biosimilar of denosumab mean for a trial?"
    created = client.post("/api/v1/guides/denosumab/questions",
                          json={"text": text, "email": "reader@example.org"},
                          headers={"X-CSRF-Token": token})
    assert created.status_code == 201
    receipt = created.json()
    assert receipt["guide_slug"] == "denosumab" and receipt["status"] == "open"
    assert "reader@example.org" not in created.text and text not in created.text
    stored = core.guides.question(receipt["id"])
    assert stored is not None and stored.text == text and stored.email == "reader@example.org"

    no_token = client.post("/api/v1/guides/denosumab/questions", json={"text": text})
    assert no_token.status_code == 403 and no_token.headers["content-type"] == PROBLEM
    assert no_token.json()["type"] == "urn:trialscout:problem:csrf"

    invalid = client.post("/api/v1/guides/denosumab/questions",
                          json={"text": "short", "email": "nope"},
                          headers={"X-CSRF-Token": token})
    assert invalid.status_code == 422 and invalid.headers["content-type"] == PROBLEM
    locs = [e["loc"] for e in invalid.json()["errors"]]
    assert ["body", "text"] in locs and ["body", "email"] in locs
    assert "nope" not in invalid.text, "problems never echo the values sent"
    for body in ({}, {"text": 5}, {"text": text, "extra": 1}):
        assert client.post("/api/v1/guides/denosumab/questions", json=body,
                           headers={"X-CSRF-Token": token}).status_code == 422

    unknown = client.post("/api/v1/guides/no-such-guide/questions", json={"text": text},
                          headers={"X-CSRF-Token": token})
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM


def test_api_questions_are_rate_limited_with_retry_after(client: TestClient) -> None:
    token = csrf_for(client)
    statuses = []
    for n in range(8):
        response = client.post("/api/v1/guides/romosozumab/questions",
                               json={"text": f"{QUESTION} number {n}"},
                               headers={"X-CSRF-Token": token})
        statuses.append(response.status_code)
    assert statuses[0] == 201 and statuses[-1] == 429
    assert statuses == sorted(statuses), "once limited, every later one is limited"
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:trialscout:problem:rate-limited"
    assert int(response.headers["retry-after"]) > 0


def test_published_answers_appear_on_the_guide_page_without_the_email(
        client: TestClient, core: TrialScout) -> None:
    before = client.get("/guides/zoledronic-acid").text
    asked = core.guides.ask(text=f"Is the drip given at home? {SCRIPT}",
                            email="private@example.org", guide_slug="zoledronic-acid",
                            client_key="admin-test")
    core.guides.answer(asked.id, f"It is given in a clinic. {IMG}", publish=True)
    after = client.get("/guides/zoledronic-acid").text
    assert before != after, "a cached page follows newly published answers"
    faq = _section(after, "faq")
    assert "Is the drip given at home? &lt;script&gt;" in faq
    assert "It is given in a clinic. &lt;img" in faq
    assert "private@example.org" not in after and SCRIPT not in after and IMG not in after
    api = client.get("/api/v1/guides/zoledronic-acid").json()
    assert [a["id"] for a in api["answers"]] == [asked.id]
    assert "email" not in api["answers"][0]


def test_question_text_and_email_never_reach_the_logs(client: TestClient,
                                                      caplog: pytest.LogCaptureFixture
                                                      ) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Sensitive question about my own diagnosis of Zq-disease?"
    email = "private-person@example.org"
    page = client.get("/guides/teriparatide").text
    client.post("/guides/teriparatide/questions",
                data={"csrf_token": _csrf(page), "text": secret, "email": email})
    client.post("/guides/teriparatide/questions",
                data={"csrf_token": _csrf(page), "text": "short", "email": email})
    client.post("/api/v1/guides/teriparatide/questions", json={"text": secret, "email": email},
                headers={"X-CSRF-Token": _csrf(page)})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Zq-disease" not in logged and email not in logged
    assert any(r.name == "trialscout.web.access" for r in caplog.records)


def test_the_schema_documents_every_status_of_the_new_operations(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        ("/api/v1/guides/{slug}/questions", "post"): {"201", "403", "404", "413", "422", "429"},
        ("/api/v1/guides/{slug}", "get"): {"200", "404", "422"},
        ("/api/v1/guides", "get"): {"200"},
        ("/api/v1/trials/{nct_id}/summary", "get"): {"200", "404", "422"},
        ("/api/v1/trials/{nct_id}/similar", "get"): {"200", "404", "422"},
    }
    for (path, method), codes in expected.items():
        responses = paths[path][method]["responses"]
        assert codes <= set(responses), (path, method, sorted(responses))
        for code in codes - {"200", "201"}:
            assert PROBLEM in responses[code]["content"], (path, code)
