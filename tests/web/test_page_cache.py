"""Cached pages stay correct: own CSRF token per visitor, fresh after an import, never
shared once a visitor has stored answers."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from tests.factories import study
from tests.web.fixtures import SHARED_A
from trialscout.app import TrialScout
from trialscout.web import create_web_app


def _token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', html)
    assert match, "page carries a CSRF token"
    return match.group(1)


def test_each_visitor_gets_their_own_working_token_from_a_cached_page(web) -> None:  # type: ignore[no-untyped-def]
    pages, clients = [], []
    for _ in range(2):
        client = TestClient(web, base_url="http://127.0.0.1")
        clients.append(client)
        pages.append(client.get(f"/trials/{SHARED_A}").text)
    tokens = [_token(p) for p in pages]
    assert tokens[0] != tokens[1]
    assert pages[0].replace(tokens[0], "T") == pages[1].replace(tokens[1], "T")
    key = re.search(r'data-key="([^"]+)"', pages[0]).group(1)  # type: ignore[union-attr]
    for client, token in zip(clients, tokens, strict=True):
        response = client.put(f"/api/v1/trials/{SHARED_A}/answers",
                              json={"answers": {key: "yes"}}, headers={"X-CSRF-Token": token})
        assert response.status_code == 200
        client.close()


def test_pages_follow_imports(core: TrialScout, tmp_path) -> None:  # type: ignore[no-untyped-def]
    web = create_web_app(core)
    nct_id = "NCT09990699"
    source = tmp_path / "one.jsonl"
    with TestClient(web, base_url="http://127.0.0.1") as client:
        source.write_text(json.dumps(study(nct_id, title="Original title",
                                           last_update="2024-01-01")) + "\n")
        core.import_paths([source])
        assert "Original title" in client.get(f"/trials/{nct_id}").text
        source.write_text(json.dumps(study(nct_id, title="Revised title",
                                           last_update="2024-06-01")) + "\n")
        core.import_paths([source])
        page = client.get(f"/trials/{nct_id}").text
        assert "Revised title" in page and "Original title" not in page
        assert "Revised title" in client.get("/search", params={"q": "revised"}).text


def test_a_visitor_with_answers_never_gets_the_shared_page(client: TestClient) -> None:
    anonymous = client.get(f"/trials/{SHARED_A}").text
    key = re.search(r'data-key="([^"]+)"', anonymous).group(1)  # type: ignore[union-attr]
    client.put(f"/api/v1/trials/{SHARED_A}/answers", json={"answers": {key: "no"}},
               headers={"X-CSRF-Token": _token(anonymous)})
    mine = client.get(f"/trials/{SHARED_A}").text
    assert f'value="no" data-key="{key}" checked' in mine
    with TestClient(client.app, base_url="http://127.0.0.1") as stranger:
        theirs = stranger.get(f"/trials/{SHARED_A}").text
    assert " checked>" not in theirs
    assert "data-verdict=\"not_started\"" in theirs
