"""Server-rendered pages: what a visitor without JavaScript sees and can do."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.fixtures import SHARED_A, SHARED_B

DENOSUMAB_TRIAL = "NCT09000001"


def _verdict(html: str) -> str:
    match = re.search(r'data-verdict="([a-z_]+)"', html)
    assert match, "no verdict panel"
    return match.group(1)


def _radio_names(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'name="(answer-[^"]+)"', html)))


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def test_home_has_a_labelled_search_form(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<label for="q">' in html and 'id="q"' in html
    assert 'action="/search"' in html and 'method="get"' in html
    assert '<html lang="en">' in html and 'href="#main"' in html


def test_search_page_shows_hits_with_status_phase_and_conditions(client: TestClient) -> None:
    html = client.get("/search", params={"q": "denosumab"}).text
    assert f"/trials/{DENOSUMAB_TRIAL}" in html
    assert 'class="badge badge-' in html
    assert "Phase 3" in html
    assert "Osteoporosis" in html


def test_search_page_distance_shows_nearest_site(client: TestClient) -> None:
    html = client.get("/search", params={"q": "osteoporosis", "near": "Boston, MA",
                                         "radius": "500", "sort": "distance"}).text
    assert "Nearest site:" in html
    assert re.search(r"<strong>\d+(\.\d)? km</strong>", html)


def test_search_page_with_an_unknown_place_explains_instead_of_failing(
        client: TestClient) -> None:
    response = client.get("/search", params={"q": "bone", "near": "Qwzxqwzx"})
    assert response.status_code == 200
    assert 'role="alert"' in response.text and "unknown place" in response.text


def test_blank_form_fields_are_not_errors(client: TestClient) -> None:
    response = client.get("/search?q=bone&near=&radius=&unit=km&age=&sex=&sort=relevance")
    assert response.status_code == 200


def test_invalid_query_parameter_gives_a_422_page_not_a_crash(client: TestClient) -> None:
    response = client.get("/search", params={"age": "very old"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "age" in response.text


def test_trial_page_shows_snapshot_summary_checklist_sites_and_sponsors(
        client: TestClient) -> None:
    html = client.get(f"/trials/{DENOSUMAB_TRIAL}").text
    for heading in ("Snapshot", "In plain language", "Conditions and treatments",
                    "Eligibility self-check", "Locations and contacts",
                    "Sponsors, investigators and identifiers", "More related trials"):
        assert heading in html
    assert 'data-slot="plain-summary"' in html and 'data-slot="similar-trials"' in html
    assert "Calloway Therapeutics" in html and "Lead sponsor" in html
    assert "Clear my responses" in html
    assert _radio_names(html), "the checklist has questions"
    assert _verdict(html) == "not_started"


def test_self_check_asks_plain_questions_and_says_what_the_study_team_checks(
        client: TestClient) -> None:
    html = client.get(f"/trials/{DENOSUMAB_TRIAL}").text
    assert "Does this describe you" not in html and "“" not in html
    assert 'class="hint team-check">The study team will' in html
    assert "Any one of the criteria below is enough." in html, "the risk-factor group"
    asked = len(_radio_names(html))
    assert f"Answer the {asked} questions below" in html
    assert f"0 of {asked} questions answered." in html


def test_trial_page_sorts_sites_by_distance_from_a_place(client: TestClient) -> None:
    html = client.get(f"/trials/{DENOSUMAB_TRIAL}", params={"near": "Boston, MA"}).text
    distances = [float(d) for d in re.findall(r"<strong>([\d.]+) km</strong> away", html)]
    assert distances and distances == sorted(distances)


def test_unknown_trial_is_a_404_page(client: TestClient) -> None:
    response = client.get("/trials/NCT00000000")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text


def test_answering_without_javascript_updates_the_verdict_and_clear_resets_it(
        client: TestClient) -> None:
    page = client.get(f"/trials/{SHARED_A}").text
    names = _radio_names(page)
    form = {"csrf_token": _csrf(page), **{name: "no" for name in names}}
    saved = client.post(f"/trials/{SHARED_A}/answers", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"].startswith(f"/trials/{SHARED_A}")
    after = client.get(f"/trials/{SHARED_A}").text
    assert _verdict(after) == "not_eligible"
    assert 'value="no" data-key=' in after and " checked>" in after
    cleared = client.post(f"/trials/{SHARED_A}/answers/clear",
                          data={"csrf_token": _csrf(after)}, follow_redirects=False)
    assert cleared.status_code == 303
    assert _verdict(client.get(f"/trials/{SHARED_A}").text) == "not_started"


def test_form_post_without_csrf_token_is_refused(client: TestClient) -> None:
    page = client.get(f"/trials/{SHARED_A}").text
    names = _radio_names(page)
    response = client.post(f"/trials/{SHARED_A}/answers", data={names[0]: "yes"},
                           follow_redirects=False)
    assert response.status_code == 403
    assert _verdict(client.get(f"/trials/{SHARED_A}").text) == "not_started"


def test_an_answer_given_on_one_trial_shows_on_another_asking_the_same(
        client: TestClient) -> None:
    page = client.get(f"/trials/{SHARED_A}").text
    first = _radio_names(page)[0]
    client.post(f"/trials/{SHARED_A}/answers", data={"csrf_token": _csrf(page), first: "yes"})
    other = client.get(f"/trials/{SHARED_B}").text
    assert " checked>" in other
    assert _verdict(other) != "not_started"


def test_browse_lists_conditions_a_to_z_with_counts(client: TestClient) -> None:
    html = client.get("/conditions").text
    assert 'aria-label="Conditions by first letter"' in html
    assert re.search(r'href="/conditions/Osteoporosis">Osteoporosis</a> <span class="count">'
                     r"\d+ trials?</span>", html)
    letter_o = client.get("/conditions", params={"letter": "O"}).text
    assert "Osteoporosis" in letter_o and ">Type 2 Diabetes<" not in letter_o


def test_condition_page_lists_its_trials(client: TestClient) -> None:
    html = client.get("/conditions/Osteoporosis").text
    assert "Trials for Osteoporosis" in html
    assert "/trials/NCT" in html


def test_profile_form_is_saved_in_the_session_and_feeds_search(client: TestClient) -> None:
    page = client.get("/profile").text
    for field in ("p-age", "p-near", "p-radius"):
        assert f'<label for="{field}">' in page
    response = client.post("/profile", data={"csrf_token": _csrf(page), "age": "67",
                                             "sex": "FEMALE", "near": "Boston, MA",
                                             "radius": "300", "unit": "km"},
                           follow_redirects=False)
    assert response.status_code == 303
    saved = client.get("/profile").text
    assert 'value="67"' in saved and 'value="Boston, MA"' in saved
    assert "Search with my profile" in saved
    home = client.get("/").text
    assert 'value="67"' in home
    matches = client.get("/matches").text
    assert "/trials/NCT" in matches


def test_invalid_profile_form_is_a_422(client: TestClient) -> None:
    page = client.get("/profile").text
    response = client.post("/profile", data={"csrf_token": _csrf(page), "age": "-4"})
    assert response.status_code == 422


def test_docs_page_loads_swagger_from_the_server_not_a_cdn(client: TestClient) -> None:
    html = client.get("/docs").text
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert srcs and all(s.startswith("/") for s in srcs)
    for src in srcs:
        assert client.get(src).status_code == 200
