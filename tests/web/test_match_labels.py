"""My matches and search badges label a trial as it ranks: a "not eligible" resting only
on unsure readings of the note is shown as possibly eligible, with what is to confirm."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import csrf_for

# Denies a drug some sample trials require; the denial is read from a note mention only.
NOTE = ("A 67-year-old postmenopausal woman with osteoporosis (lumbar spine T-score -3.0) "
        "and a vertebral fracture two years ago. She has never taken denosumab.")


def _upload(client: TestClient) -> None:
    response = client.put("/api/v1/profile/record", json={"note": NOTE},
                          headers={"X-CSRF-Token": csrf_for(client)})
    assert response.status_code == 200, response.text


def test_unsure_failures_are_to_confirm_in_matches_page_api_and_badges(
        client: TestClient) -> None:
    _upload(client)
    body = client.get("/api/v1/matches", params={"include_closed": "true",
                                                 "limit": 50}).json()
    results: list[dict[str, Any]] = body["results"]
    confirm = [m for m in results if m["to_confirm"]]
    assert confirm, "the note's denial of denosumab leaves some trial to confirm"
    for match in results:
        if match["to_confirm"]:
            assert match["verdict"] == "possibly_eligible"
            assert match["label"] == "Possibly eligible"
            assert match["reason"].startswith("possibly eligible — to confirm: ")
            assert not match["failing"]
    order = {"eligible": 0, "possibly_eligible": 1, "not_eligible": 2}
    bands = [order[m["verdict"]] for m in results]
    assert bands == sorted(bands)
    html = client.get("/matches", params={"include_closed": "true", "limit": 50}).text
    assert "May not fit — to confirm" in html
    assert "Possibly eligible — to confirm: " in html
    # The search badge of such a trial says the same thing as My matches.
    for match in confirm:
        hits = client.get("/api/v1/search", params={"q": match["title"]}).json()["hits"]
        badge = next(h["profile_match"] for h in hits if h["nct_id"] == match["nct_id"])
        assert badge["verdict"] == "possibly_eligible", badge
