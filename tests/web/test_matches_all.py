"""My matches with `all=true`: the trials the registry's age and sex fields removed before
matching are listed too, each with that reason; without it they are not."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import csrf_for

# A man in his early fifties: the sample's osteoporosis trials for women, or for people
# aged 55 and over, are kept out of matching by their registry fields.
MAN_NOTE = ("52-year-old man with osteoporosis, lumbar spine T-score -2.7, and a wrist "
            "fracture last year. He has no diabetes.")


def _upload(client: TestClient, note: str) -> int:
    response = client.put("/api/v1/profile/record", json={"note": note},
                          headers={"X-CSRF-Token": csrf_for(client)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return int(body["patient_id"])


def _check_removed(page: dict[str, Any]) -> None:
    removed = page["removed"]
    assert removed, "a woman-only osteoporosis trial should be listed as removed"
    shown = {m["nct_id"] for m in page["results"]}
    for match in removed:
        assert match["nct_id"] not in shown
        assert match["verdict"] == "not_eligible"
        assert match["reason"].startswith("removed by the registry's")
        assert match["criteria"] and all(c["verdict"] == "NOT_MET" and c["item_index"] < 0
                                         for c in match["criteria"])
    by_id = {m["nct_id"]: m for m in removed}
    women_only = by_id.get("NCT09000007")
    assert women_only is not None and "female only" in women_only["reason"]


def test_matches_all_lists_trials_removed_by_age_and_sex(client: TestClient) -> None:
    _upload(client, MAN_NOTE)
    plain = client.get("/api/v1/matches", params={"include_closed": "true"}).json()
    assert plain["removed"] == []
    page = client.get("/api/v1/matches", params={"include_closed": "true", "all": "true",
                                                 "limit": 50}).json()
    assert page["ranked_by"] == "history"
    _check_removed(page)
    assert [m["nct_id"] for m in page["results"]] == [m["nct_id"] for m in
                                                      client.get("/api/v1/matches", params={
                                                          "include_closed": "true",
                                                          "limit": 50}).json()["results"]]


def test_patient_matches_all(client: TestClient) -> None:
    patient_id = _upload(client, MAN_NOTE)
    page = client.get(f"/api/v1/patients/{patient_id}/matches",
                      params={"include_closed": "true", "all": "true", "limit": 50})
    assert page.status_code == 200, page.text
    _check_removed(page.json())


def test_matches_all_without_a_medical_history(client: TestClient) -> None:
    """With only age and sex on the profile the trials open to them are checked; all=true
    lists the ones the registry's age and sex fields removed as well."""
    saved = client.put("/api/v1/profile", json={"age": 30, "sex": "MALE"},
                       headers={"X-CSRF-Token": csrf_for(client)})
    assert saved.status_code == 200, saved.text
    page = client.get("/api/v1/matches", params={"include_closed": "true", "all": "true",
                                                 "limit": 50}).json()
    assert page["ranked_by"] == "filters"
    removed = page["removed"]
    assert removed and all(m["reason"].startswith("removed by the registry's")
                           for m in removed)
    assert not {m["nct_id"] for m in removed} & {m["nct_id"] for m in page["results"]}
    # A 30-year-old man: the sample's trials for women aged 55 and over are among them.
    by_id = {m["nct_id"]: m for m in removed}
    assert "NCT09000001" in by_id and "female only" in by_id["NCT09000001"]["reason"]


def test_matches_page_lists_the_removed_trials_with_all(client: TestClient) -> None:
    _upload(client, MAN_NOTE)
    plain = client.get("/matches", params={"include_closed": "true"}).text
    assert "Left out by the registry" not in plain
    html = client.get("/matches", params={"include_closed": "true", "all": "true"}).text
    assert "Left out by the registry" in html and "female only" in html
