"""The JSON API: same data as the pages, problem+json errors, pagination, CSRF."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import csrf_for
from tests.web.fixtures import SHARED_A, SHARED_B

PROBLEM = "application/problem+json"


def _question_keys(client: TestClient, nct_id: str) -> list[str]:
    checklist = client.get(f"/api/v1/trials/{nct_id}/checklist").json()
    return [item["question_key"] for item in checklist["items"] if item["answerable"]]


def test_search_returns_paginated_hits_and_facets(client: TestClient) -> None:
    body = client.get("/api/v1/search", params={"q": "osteoporosis", "page_size": 3}).json()
    assert body["page"] == 1 and body["page_size"] == 3
    assert body["total"] >= len(body["hits"]) and len(body["hits"]) <= 3
    assert body["facets"]
    hit = body["hits"][0]
    assert {"nct_id", "title", "overall_status", "phases", "conditions", "match"} <= set(hit)


def test_pages_of_results_have_no_duplicates_and_no_gaps(client: TestClient) -> None:
    everything = client.get("/api/v1/search", params={"page_size": 100}).json()
    seen: list[str] = []
    page = 1
    while True:
        body = client.get("/api/v1/search", params={"page_size": 7, "page": page}).json()
        if not body["hits"]:
            break
        seen.extend(hit["nct_id"] for hit in body["hits"])
        page += 1
    assert len(seen) == len(set(seen)) == everything["total"]
    assert seen == [hit["nct_id"] for hit in everything["hits"]]


def test_facets_endpoint_follows_the_filters(client: TestClient) -> None:
    every = client.get("/api/v1/facets").json()
    recruiting = client.get("/api/v1/facets", params={"status": "RECRUITING"}).json()
    status_key = next(k for k in every if "status" in k)
    assert [f["value"] for f in recruiting[status_key]] == ["RECRUITING"]
    assert sum(f["count"] for f in every[status_key]) >= \
        sum(f["count"] for f in recruiting[status_key])


def test_trial_api_matches_the_page(client: TestClient) -> None:
    body = client.get(f"/api/v1/trials/{SHARED_A}",
                      params={"lat": "48.8566", "lon": "2.3522"}).json()
    assert body["trial"]["nct_id"] == SHARED_A
    assert body["summary"]["generated"] is True and body["summary"]["nct_id"] == SHARED_A
    assert body["checklist"]["verdict"]["status"] == "not_started"
    assert body["sites"][0]["distance_km"] is not None and body["origin"]["lat"] == 48.8566
    assert 350 < body["sites"][0]["distance_km"] < 450
    assert body["similar"] and all(s["nct_id"] != SHARED_A for s in body["similar"])


def test_unknown_trial_is_a_problem_404(client: TestClient) -> None:
    response = client.get("/api/v1/trials/NCT00000000")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 404 and problem["title"] == "Not Found"
    assert problem["type"].startswith("urn:trialscout:problem:")


def test_malformed_parameters_are_problem_422_naming_the_parameter(client: TestClient) -> None:
    for params in ({"age": "old"}, {"page": "0"}, {"status": "MAYBE"}, {"sort": "random"},
                   {"lat": "91", "lon": "0"}, {"nonsense": "1"}, {"page_size": "1000"}):
        response = client.get("/api/v1/search", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["errors"] and problem["errors"][0]["loc"][0] == "query"
    bad_id = client.get("/api/v1/trials/not-an-id")
    assert bad_id.status_code == 422 and bad_id.headers["content-type"] == PROBLEM


def test_unparseable_query_is_a_problem_not_a_crash(client: TestClient) -> None:
    for q in ('"unbalanced', "a AND", "(((", "\x00\x01", "x" * 10_000, "NOT"):
        response = client.get("/api/v1/search", params={"q": q})
        assert response.status_code in (200, 422), q
        if response.status_code == 422:
            assert response.headers["content-type"] == PROBLEM


def test_wrong_method_and_unknown_path_are_problems(client: TestClient) -> None:
    assert client.post("/api/v1/search").status_code == 405
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM


def test_answers_put_get_clear_and_verdict(client: TestClient) -> None:
    token = csrf_for(client)
    keys = _question_keys(client, SHARED_A)
    answered = client.put(f"/api/v1/trials/{SHARED_A}/answers",
                          json={"answers": {keys[0]: "yes"}},
                          headers={"X-CSRF-Token": token})
    assert answered.status_code == 200
    checklist = answered.json()
    first = next(i for i in checklist["items"] if i["question_key"] == keys[0])
    assert first["answer"] == "yes"
    assert client.get("/api/v1/answers").json()["answers"] == {keys[0]: "yes"}
    verdict = client.get(f"/api/v1/trials/{SHARED_A}/verdict").json()
    assert verdict["answered"] + verdict["unsure"] >= 1
    cleared = client.delete(f"/api/v1/trials/{SHARED_A}/answers",
                            headers={"X-CSRF-Token": token}).json()
    assert all(item["answer"] is None for item in cleared["items"])
    assert client.get("/api/v1/answers").json()["answers"] == {}


def test_answers_are_shared_by_question_key_across_trials(client: TestClient) -> None:
    token = csrf_for(client)
    shared = set(_question_keys(client, SHARED_A)) & set(_question_keys(client, SHARED_B))
    assert shared, "the two fixture trials ask a common question"
    key = sorted(shared)[0]
    client.put(f"/api/v1/trials/{SHARED_A}/answers", json={"answers": {key: "no"}},
               headers={"X-CSRF-Token": token})
    other = client.get(f"/api/v1/trials/{SHARED_B}/checklist").json()
    assert any(i["question_key"] == key and i["answer"] == "no" for i in other["items"])


def test_answers_belong_to_one_session(client: TestClient, web) -> None:  # type: ignore[no-untyped-def]
    token = csrf_for(client)
    key = _question_keys(client, SHARED_A)[0]
    client.put("/api/v1/answers", json={"answers": {key: "yes"}},
               headers={"X-CSRF-Token": token})
    with TestClient(web, base_url="http://127.0.0.1") as stranger:
        assert stranger.get("/api/v1/answers").json()["answers"] == {}


def test_answer_for_a_question_the_trial_does_not_ask_is_422(client: TestClient) -> None:
    token = csrf_for(client)
    response = client.put(f"/api/v1/trials/{SHARED_A}/answers",
                          json={"answers": {"not-a-real-key": "yes"}},
                          headers={"X-CSRF-Token": token})
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM


def test_invalid_answer_value_is_422(client: TestClient) -> None:
    token = csrf_for(client)
    key = _question_keys(client, SHARED_A)[0]
    response = client.put(f"/api/v1/trials/{SHARED_A}/answers",
                          json={"answers": {key: "maybe"}}, headers={"X-CSRF-Token": token})
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM


def test_state_changes_without_a_valid_csrf_token_are_403(client: TestClient, web) -> None:  # type: ignore[no-untyped-def]
    key = _question_keys(client, SHARED_A)[0]
    body = {"answers": {key: "yes"}}
    url = f"/api/v1/trials/{SHARED_A}/answers"
    csrf_for(client)
    assert client.put(url, json=body).status_code == 403
    assert client.put(url, json=body, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    with TestClient(web, base_url="http://127.0.0.1") as other:
        foreign = csrf_for(other)
    refused = client.put(url, json=body, headers={"X-CSRF-Token": foreign})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["type"] == "urn:trialscout:problem:csrf"
    for method, path in (("DELETE", "/api/v1/answers"), ("PUT", "/api/v1/profile"),
                         ("DELETE", "/api/v1/profile"), ("DELETE", "/api/v1/session")):
        assert client.request(method, path, json={}).status_code == 403, path
    assert client.get("/api/v1/answers").json()["answers"] == {}


def test_profile_round_trip_and_matches(client: TestClient) -> None:
    token = csrf_for(client)
    empty = client.get("/api/v1/matches").json()
    assert empty["active"] is False and empty["results"] == []
    saved = client.put("/api/v1/profile", json={"age": 60, "sex": "FEMALE", "near": "Boston",
                                                "radius": 500},
                       headers={"X-CSRF-Token": token})
    assert saved.status_code == 200
    assert saved.json()["search"]["sex"] == "FEMALE"
    token = saved.headers["X-CSRF-Token"]
    assert client.get("/api/v1/profile").json()["profile"]["age"] == 60
    matches = client.get("/api/v1/matches").json()
    assert matches["active"] is True and len(matches["results"]) >= 1
    assert all(m["nearest_site"]["distance_km"] <= 500 for m in matches["results"])
    invalid = client.put("/api/v1/profile", json={"age": 300}, headers={"X-CSRF-Token": token})
    assert invalid.status_code == 422
    client.delete("/api/v1/profile", headers={"X-CSRF-Token": token})
    assert client.get("/api/v1/profile").json()["search"] is None


def test_forgetting_the_session_deletes_answers_and_profile(client: TestClient) -> None:
    token = csrf_for(client)
    key = _question_keys(client, SHARED_A)[0]
    client.put("/api/v1/answers", json={"answers": {key: "yes"}},
               headers={"X-CSRF-Token": token})
    token = client.put("/api/v1/profile", json={"age": 40},
                       headers={"X-CSRF-Token": token}).headers["X-CSRF-Token"]
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/api/v1/answers").json()["answers"] == {}
    assert client.get("/api/v1/profile").json()["profile"]["age"] is None


def test_conditions_are_paginated(client: TestClient) -> None:
    first = client.get("/api/v1/conditions", params={"page_size": 5}).json()
    assert first["total"] > 5 and len(first["items"]) == 5
    second = client.get("/api/v1/conditions", params={"page_size": 5, "page": 2}).json()
    assert {c["condition"] for c in first["items"]}.isdisjoint(
        c["condition"] for c in second["items"])
    assert sum(letter["count"] for letter in first["letters"]) == first["total"]
    assert client.get("/api/v1/conditions", params={"letter": "ab"}).status_code == 422


def test_condition_trials_use_the_search_filters(client: TestClient) -> None:
    body = client.get("/api/v1/conditions/Osteoporosis/trials",
                      params={"status": "RECRUITING"}).json()
    assert body["condition"] == "Osteoporosis"
    assert body["results"]["total"] >= 1
    assert all(hit["overall_status"] == "RECRUITING" for hit in body["results"]["hits"])


def test_search_hits_carry_this_visitors_verdict(client: TestClient) -> None:
    token = csrf_for(client)
    keys = _question_keys(client, SHARED_A)
    client.put(f"/api/v1/trials/{SHARED_A}/answers",
               json={"answers": dict.fromkeys(keys, "no")}, headers={"X-CSRF-Token": token})
    hits = client.get("/api/v1/search", params={"q": "menopause bone", "page_size": 50}
                      ).json()["hits"]
    mine = next(hit for hit in hits if hit["nct_id"] == SHARED_A)
    assert mine["match"]["status"] == "not_eligible"


def test_search_json_is_the_documented_page(client: TestClient) -> None:
    """The API writes the page itself; it is still exactly a SearchPage (every field the
    OpenAPI schema documents, nothing else) and served as JSON."""
    from trialscout.web.viewmodels import SearchPage

    response = client.get("/api/v1/search", params={"q": "osteoporosis", "near": "Boston"})
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert SearchPage.model_validate(body).model_dump(mode="json") == body
    schema = client.get("/openapi.json").json()
    ok = schema["paths"]["/api/v1/search"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/SearchPage")
