"""The visitor's profile, medical history upload and "my matches", in pages and the API.

Covers: FHIR R4 and note uploads through the core loader (and their errors), that a
record is only reachable from its own session, deletion, matching with distance, evidence
and self-check answers as facts, verdict badges in search results, and no health data in
the logs.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.conftest import csrf_for
from tests.web.fixtures import HOSTILE_ID, IMG, SCRIPT, SHARED_A
from trialscout.app import TrialScout
from trialscout.patients.store import PatientNotFound

PROBLEM = "application/problem+json"
BUNDLE_FILE = Path(__file__).parents[1] / "patients" / "data" / "bundle_valid.json"
# Every participant must have type 2 diabetes (NCT09000018 also takes people without it
# as controls, so denying diabetes leaves it open).
DIABETES_TRIAL = "NCT09000015"
NEGATION_NOTE = ("67-year-old woman with postmenopausal osteoporosis. Denies diabetes. "
                 "No prior denosumab.")
VERDICTS = {"eligible", "possibly_eligible", "not_eligible"}


def _bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BUNDLE_FILE.read_text())
    return data


def _invalid_bundle() -> dict[str, Any]:
    bad = copy.deepcopy(_bundle())
    bad["entry"][1]["resource"]["onsetDateTime"] = "sometime last spring"
    return bad


def _csrf_in(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def _upload_note(client: TestClient, note: str) -> dict[str, Any]:
    response = client.put("/api/v1/profile/record", json={"note": note},
                          headers={"X-CSRF-Token": csrf_for(client)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------------- uploads
def test_valid_fhir_bundle_is_read_into_the_medical_history(client: TestClient) -> None:
    response = client.put("/api/v1/profile/record", json={"bundle": _bundle()},
                          headers={"X-CSRF-Token": csrf_for(client)})
    assert response.status_code == 200
    record = response.json()
    assert record["source"] == "fhir" and record["version"] == 1
    assert any("Type 2 diabetes" in c for c in record["facts"]["conditions"])
    assert record["facts"]["denied"] == ["Chronic kidney disease"]
    assert record["profile"]["conditions"][0]["source"]["ref"] == "Condition/cond1"
    view = client.get("/api/v1/profile").json()
    assert view["record"]["patient_id"] == record["patient_id"] and view["active"] is True
    assert client.get("/api/v1/profile/record").json()["patient_id"] == record["patient_id"]
    html = client.get("/profile").text
    assert "Type 2 diabetes mellitus" in html and "Read from a FHIR health record" in html


def test_fhir_file_upload_from_the_page_form(client: TestClient) -> None:
    page = client.get("/profile").text
    assert 'enctype="multipart/form-data"' in page
    for field in ("r-file", "r-note"):
        assert f'<label for="{field}">' in page
    response = client.post("/profile/record", data={"csrf_token": _csrf_in(page)},
                           files={"file": ("record.json", BUNDLE_FILE.read_bytes(),
                                           "application/fhir+json")},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/profile?record=saved")
    html = client.get("/profile?record=saved").text
    assert "Your medical history has been read" in html
    assert "Metformin" in html and "Hemoglobin A1c" in html
    assert "Delete my medical history" in html


def test_invalid_fhir_names_the_bad_resource_in_the_api(client: TestClient) -> None:
    response = client.put("/api/v1/profile/record", json={"bundle": _invalid_bundle()},
                          headers={"X-CSRF-Token": csrf_for(client)})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:trialscout:problem:invalid-fhir"
    assert "entry[1] Condition/cond1" in problem["detail"]
    assert "onsetDateTime" in problem["detail"]
    assert problem["errors"][0]["loc"][:4] == ["body", "bundle", "entry", 1]
    assert client.get("/api/v1/profile").json()["record"] is None, "nothing was saved"


def test_invalid_fhir_names_the_bad_resource_on_the_page(client: TestClient) -> None:
    page = client.get("/profile").text
    response = client.post("/profile/record", data={"csrf_token": _csrf_in(page)},
                           files={"file": ("bad.json", json.dumps(_invalid_bundle()).encode(),
                                           "application/json")})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    alert = response.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert "We could not read this" in alert
    assert "entry[1] Condition/cond1" in alert and "onsetDateTime" in alert
    assert 'aria-describedby="upload-error"' in response.text
    assert client.get("/api/v1/profile").json()["record"] is None


def test_other_unreadable_uploads_are_explained(client: TestClient) -> None:
    token = csrf_for(client)
    not_a_bundle = client.put("/api/v1/profile/record", headers={"X-CSRF-Token": token},
                              json={"bundle": {"resourceType": "Patient", "id": "x"}})
    assert not_a_bundle.status_code == 422 and "Bundle" in not_a_bundle.json()["detail"]
    blank = client.put("/api/v1/profile/record", json={"note": "   "},
                       headers={"X-CSRF-Token": token})
    assert blank.status_code == 422 and blank.headers["content-type"] == PROBLEM
    both = client.put("/api/v1/profile/record", json={"note": "x", "bundle": {}},
                      headers={"X-CSRF-Token": token})
    assert both.status_code == 422
    page = client.get("/profile").text
    binary = client.post("/profile/record", data={"csrf_token": _csrf_in(page)},
                         files={"file": ("scan.pdf", b"%PDF-1.4\xff\xfe\x00", "application/pdf")})
    assert binary.status_code == 422 and "UTF-8" in binary.text
    nothing = client.post("/profile/record", data={"csrf_token": _csrf_in(page), "note": ""})
    assert nothing.status_code == 422 and "Choose a file or paste a note" in nothing.text


def test_note_with_negation_counts_as_not_having_it(client: TestClient) -> None:
    page = client.get("/profile").text
    saved = client.post("/profile/record", data={"csrf_token": _csrf_in(page),
                                                 "note": NEGATION_NOTE},
                        follow_redirects=False)
    assert saved.status_code == 303
    record = client.get("/api/v1/profile/record").json()
    assert record["source"] == "note"
    assert "diabetes" in record["facts"]["denied"]
    assert not any("diabetes" in c.lower() for c in record["facts"]["conditions"])
    assert any("osteoporosis" in c for c in record["facts"]["conditions"])
    assert "You said you do not have or take" in client.get("/profile").text
    hits = client.get("/api/v1/search", params={"q": "diabetes"}).json()["hits"]
    diabetes = next(h for h in hits if h["nct_id"] == DIABETES_TRIAL)
    assert diabetes["profile_match"]["verdict"] == "not_eligible"
    matches = client.get("/api/v1/matches", params={"include_closed": "true",
                                                     "limit": 50}).json()
    assert matches["ranked_by"] == "history"
    assert DIABETES_TRIAL not in [m["nct_id"] for m in matches["results"][:3]], \
        "denied diabetes is not used to find trials"


def test_a_note_replaces_the_history_as_a_new_version(client: TestClient,
                                                      core: TrialScout) -> None:
    first = _upload_note(client, "Type 2 diabetes since 2015.")
    second = _upload_note(client, NEGATION_NOTE)
    assert second["patient_id"] == first["patient_id"] and second["version"] == 2
    assert [v.version for v in core.patient_versions(first["patient_id"])] == [1, 2]


# ---------------------------------------------------------------------- authorization
def test_another_session_cannot_read_change_or_delete_my_record(
        client: TestClient, web: FastAPI) -> None:
    mine = _upload_note(client, NEGATION_NOTE)
    patient_id = mine["patient_id"]
    my_token = csrf_for(client)
    assert client.get(f"/api/v1/patients/{patient_id}").status_code == 200
    assert client.get(f"/api/v1/patients/{patient_id}/matches").status_code == 200
    with TestClient(web, base_url="http://127.0.0.1") as other:
        token = csrf_for(other)
        headers = {"X-CSRF-Token": token}
        for method, path, body in (
                ("GET", f"/api/v1/patients/{patient_id}", None),
                ("GET", f"/api/v1/patients/{patient_id}/matches", None),
                ("PUT", f"/api/v1/patients/{patient_id}", {"note": "Has diabetes."}),
                ("DELETE", f"/api/v1/patients/{patient_id}", None)):
            response = other.request(method, path, json=body, headers=headers)
            assert response.status_code == 404, (method, path)
            assert response.headers["content-type"] == PROBLEM
            assert "Denies" not in response.text
        assert other.get(f"/api/v1/patients/{patient_id + 1000}").status_code == 404
        assert other.get("/api/v1/profile").json()["record"] is None
        assert other.get("/api/v1/profile/record").status_code == 404
        assert other.get("/api/v1/matches").json()["active"] is False
        assert other.delete("/api/v1/profile", headers=headers).status_code == 200
        assert other.delete("/api/v1/profile/record", headers=headers).status_code == 204
        stolen = other.delete(f"/api/v1/patients/{patient_id}",
                              headers={"X-CSRF-Token": my_token})
        assert stolen.status_code == 403, "a token of another session is refused"
    still = client.get(f"/api/v1/patients/{patient_id}").json()
    assert still["version"] == 1 and "diabetes" in still["facts"]["denied"]


def test_record_and_matches_routes_need_a_session_and_csrf(client: TestClient) -> None:
    assert client.get("/api/v1/patients/1").status_code == 404
    csrf_for(client)
    assert client.put("/api/v1/profile/record", json={"note": "x"}).status_code == 403
    assert client.delete("/api/v1/profile/record").status_code == 403
    assert client.delete("/api/v1/patients/1").status_code == 403
    page = client.post("/profile/record", data={"note": "Has asthma."})
    assert page.status_code == 403
    assert client.get("/api/v1/profile").json()["record"] is None


def test_delete_my_profile_deletes_form_and_record(client: TestClient,
                                                   core: TrialScout) -> None:
    token = csrf_for(client)
    client.put("/api/v1/profile", json={"age": 61, "sex": "FEMALE"},
               headers={"X-CSRF-Token": token})
    patient_id = _upload_note(client, NEGATION_NOTE)["patient_id"]
    page = client.get("/profile").text
    assert "Delete my profile" in page
    response = client.post("/profile/clear", data={"csrf_token": _csrf_in(page)},
                           follow_redirects=False)
    assert response.status_code == 303
    view = client.get("/api/v1/profile").json()
    assert view["record"] is None and view["profile"]["age"] is None
    assert view["active"] is False
    with pytest.raises(PatientNotFound):
        core.patient(patient_id)
    assert "deleted" in client.get(response.headers["location"]).text


def test_deleting_only_the_history_keeps_the_form(client: TestClient,
                                                  core: TrialScout) -> None:
    token = csrf_for(client)
    client.put("/api/v1/profile", json={"age": 61}, headers={"X-CSRF-Token": token})
    patient_id = _upload_note(client, NEGATION_NOTE)["patient_id"]
    assert client.delete(f"/api/v1/patients/{patient_id}",
                         headers={"X-CSRF-Token": csrf_for(client)}).status_code == 204
    with pytest.raises(PatientNotFound):
        core.patient(patient_id)
    assert client.get("/api/v1/profile").json()["profile"]["age"] == 61


def test_forgetting_the_session_deletes_the_record(client: TestClient,
                                                   core: TrialScout) -> None:
    patient_id = _upload_note(client, NEGATION_NOTE)["patient_id"]
    token = csrf_for(client)
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": token}).status_code == 204
    with pytest.raises(PatientNotFound):
        core.patient(patient_id)


# ---------------------------------------------------------------------- my matches
def test_matches_api_ranks_trials_with_verdicts_distance_and_evidence(
        client: TestClient) -> None:
    _upload_note(client, NEGATION_NOTE)
    body = client.get("/api/v1/matches", params={"near": "Boston, MA", "limit": 10}).json()
    assert body["active"] is True and body["ranked_by"] == "history"
    assert body["origin"]["name"].startswith("Boston")
    results = body["results"]
    assert results and [m["rank"] for m in results] == list(range(1, len(results) + 1))
    assert [m["score"] for m in results] == sorted((m["score"] for m in results),
                                                   reverse=True)
    assert {m["verdict"] for m in results} <= VERDICTS
    assert all(m["overall_status"] in {"RECRUITING", "NOT_YET_RECRUITING",
                                       "ENROLLING_BY_INVITATION"} for m in results)
    with_site = [m for m in results if m["nearest_site"]]
    assert with_site and all(m["distance"] is not None and m["unit"] == "km"
                             for m in with_site)
    for match in results:
        assert match["criteria"] and all(c["reason"] for c in match["criteria"])
        if match["verdict"] == "not_eligible":
            assert match["failing"]
        if match["verdict"] == "possibly_eligible" and match["unknown"]:
            assert match["open_questions"]
    evidence = [e for m in results for c in m["criteria"] for e in c["evidence"]]
    assert any(e["kind"] == "note" for e in evidence) or any(e["kind"] == "fact"
                                                             for e in evidence)
    miles = client.get("/api/v1/matches", params={"near": "Boston, MA", "unit": "mi",
                                                  "limit": 3}).json()["results"]
    first_km = next(m for m in results if m["nct_id"] == miles[0]["nct_id"])
    if first_km["distance"]:
        assert miles[0]["distance"] == pytest.approx(first_km["distance"] / 1.609344, abs=0.2)


def test_matches_validates_place_and_radius(client: TestClient) -> None:
    _upload_note(client, NEGATION_NOTE)
    for params in ({"radius": "-5"}, {"radius": "30000"}, {"unit": "parsecs"},
                   {"limit": "0"}, {"near": "x" * 201}, {"nonsense": "1"}):
        response = client.get("/api/v1/matches", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == PROBLEM
    unknown = client.get("/api/v1/matches", params={"near": "Qwzxqwzx"})
    assert unknown.status_code == 422
    assert unknown.json()["type"] == "urn:trialscout:problem:invalid-place"
    page = client.get("/matches", params={"near": "Qwzxqwzx"})
    assert page.status_code == 200 and 'role="alert"' in page.text
    assert "unknown place" in page.text
    assert client.get("/matches", params={"radius": "-5"}).status_code == 422


def test_matches_within_a_radius_keep_to_it(client: TestClient) -> None:
    _upload_note(client, NEGATION_NOTE)
    body = client.get("/api/v1/matches", params={"near": "Boston, MA", "radius": "500",
                                                 "include_closed": "true"}).json()
    assert body["results"]
    assert all(m["distance_km"] is not None and m["distance_km"] <= 500
               for m in body["results"])


def test_matches_page_lists_verdicts_reasons_and_criteria_without_javascript(
        client: TestClient) -> None:
    empty = client.get("/matches").text
    assert "Fill in my profile" in empty
    _upload_note(client, NEGATION_NOTE)
    html = client.get("/matches", params={"near": "Boston, MA",
                                          "include_closed": "true"}).text
    assert '<ol class="results matches">' in html
    assert re.search(r'class="verdict-badge verdict-(eligible|possibly_eligible|not_eligible)"',
                     html)
    assert "Match score" in html and "Nearest site:" in html
    assert "<details" in html and "Every criterion, with what it rests on" in html
    assert "Still to confirm" in html or "Why not:" in html
    assert "Your note:" in html or "Your profile:" in html
    for field in ("m-near", "m-radius", "m-unit", "m-closed"):
        assert f'<label for="{field}">' in html
    assert "<script>" not in html.split("</head>", 1)[1]


def test_hostile_registry_text_is_escaped_in_matches(client: TestClient) -> None:
    _upload_note(client, "Bone study volunteer with osteoporosis, age 70, woman.")
    body = client.get("/api/v1/matches", params={"near": "Boston, MA", "limit": 50}).json()
    assert HOSTILE_ID in [m["nct_id"] for m in body["results"]]
    html = client.get("/matches", params={"near": "Boston, MA", "limit": 50}).text
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;" in html


def test_form_only_profile_is_matched_on_its_filters(client: TestClient) -> None:
    token = csrf_for(client)
    client.put("/api/v1/profile", json={"age": 60, "sex": "FEMALE", "near": "Lyon, France",
                                        "radius": 100}, headers={"X-CSRF-Token": token})
    body = client.get("/api/v1/matches").json()
    assert body["active"] is True and body["ranked_by"] == "filters"
    ids = [m["nct_id"] for m in body["results"]]
    assert SHARED_A in ids
    assert all(m["distance_km"] <= 100 for m in body["results"])


def test_self_check_answers_count_as_facts_in_matching(client: TestClient) -> None:
    token = client.put("/api/v1/profile", json={"age": 60, "sex": "FEMALE",
                                                "near": "Lyon, France", "radius": 100},
                       headers={"X-CSRF-Token": csrf_for(client)}).headers["X-CSRF-Token"]

    def shared_a() -> dict[str, Any]:
        results = client.get("/api/v1/matches").json()["results"]
        found: dict[str, Any] = next(m for m in results if m["nct_id"] == SHARED_A)
        return found

    before = shared_a()
    assert before["verdict"] == "possibly_eligible"
    checklist = client.get(f"/api/v1/trials/{SHARED_A}/checklist").json()
    item = next(i for i in checklist["items"]
                if i["answerable"] and "ostmenopausal" in i["text"])
    assert item["question_key"] in {q["key"] for q in before["open_questions"]}
    wrong = "no" if item["satisfying_answer"] == "yes" else "yes"
    saved = client.put(f"/api/v1/trials/{SHARED_A}/answers",
                       json={"answers": {item["question_key"]: wrong}},
                       headers={"X-CSRF-Token": token})
    assert saved.status_code == 200
    after = shared_a()
    assert after["verdict"] == "not_eligible"
    failing = [c for c in after["criteria"] if c["item_index"] in after["failing"]]
    assert any(e["kind"] == "answer" for c in failing for e in c["evidence"])
    assert client.get("/api/v1/matches").json()["answers_used"] == 1
    hits = client.get("/api/v1/search", params={"q": "bone"}).json()["hits"]
    assert next(h for h in hits if h["nct_id"] == SHARED_A)["profile_match"]["verdict"] \
        == "not_eligible"


# ---------------------------------------------------------------------- search badges
def test_search_results_carry_profile_verdicts_only_with_a_profile(client: TestClient) -> None:
    hits = client.get("/api/v1/search", params={"q": "osteoporosis"}).json()["hits"]
    assert hits and all(h["profile_match"] is None for h in hits)
    assert "data-match=" not in client.get("/search", params={"q": "osteoporosis"}).text
    _upload_note(client, NEGATION_NOTE)
    body = client.get("/api/v1/search", params={"q": "osteoporosis", "page_size": 5}).json()
    assert body["profile_active"] is True
    assert len(body["hits"]) == 5
    assert all(h["profile_match"]["verdict"] in VERDICTS and h["profile_match"]["label"]
               for h in body["hits"])
    html = client.get("/search", params={"q": "osteoporosis", "page_size": 5}).text
    badges = re.findall(r'data-match="([a-z_]+)"', html)
    assert len(badges) == 5 and set(badges) <= VERDICTS
    assert "For your profile:" in html


# ---------------------------------------------------------------------- privacy
def test_health_data_and_names_are_not_logged(client: TestClient,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    note = "Zarquon Fennimore reports hypothyroidism. Denies diabetes."
    bundle = _bundle()
    bundle["entry"][0]["resource"]["name"] = [{"family": "Quibbleworth", "given": ["Odalys"]}]
    token = csrf_for(client)
    client.put("/api/v1/profile/record", json={"note": note}, headers={"X-CSRF-Token": token})
    client.get("/api/v1/matches", params={"near": "Boston, MA"})
    client.get("/matches")
    client.put("/api/v1/profile/record", json={"bundle": bundle},
               headers={"X-CSRF-Token": token})
    page = client.get("/profile").text
    client.post("/profile/record", data={"csrf_token": _csrf_in(page), "note": note})
    client.put("/api/v1/profile/record", json={"bundle": _invalid_bundle() | {
        "id": "Quibbleworth"}}, headers={"X-CSRF-Token": token})
    client.get("/search", params={"q": "thyroid"})
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}"
                       for r in caplog.records)
    for secret in ("Zarquon", "Fennimore", "hypothyroidism", "Quibbleworth", "Odalys",
                   "Denies"):
        assert secret not in logged, secret
    assert any(r.name == "trialscout.web.access" for r in caplog.records)


def test_a_bundle_pasted_into_the_note_box_is_read_as_fhir(client: TestClient) -> None:
    page = client.get("/profile").text
    pasted = client.post("/profile/record", data={"csrf_token": _csrf_in(page),
                                                  "note": BUNDLE_FILE.read_text()},
                         follow_redirects=False)
    assert pasted.status_code == 303
    assert client.get("/api/v1/profile/record").json()["source"] == "fhir"
    bad = client.post("/profile/record", data={"csrf_token": _csrf_in(client.get("/profile").text),
                                               "note": json.dumps(_invalid_bundle())})
    assert bad.status_code == 422 and "Condition/cond1" in bad.text
    assert "sometime last spring" in bad.text.split("<textarea", 1)[1], \
        "the pasted text is kept for correcting"
