"""Escaping, security headers, cookies, CSRF, size limits, and no personal data in logs."""

from __future__ import annotations

import hashlib
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.web.conftest import csrf_for
from tests.web.fixtures import HOSTILE_ID, IMG, SCRIPT, SHARED_A
from trialscout.app import TrialScout


def _assert_inert(html: str) -> None:
    assert SCRIPT not in html and IMG not in html
    assert "<script>window.__pwned" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html or "&lt;img" in html


def test_hostile_registry_text_is_escaped_on_the_trial_page(client: TestClient) -> None:
    response = client.get(f"/trials/{HOSTILE_ID}", params={"near": "Boston"})
    assert response.status_code == 200
    _assert_inert(response.text)
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in response.text


def test_hostile_registry_text_is_escaped_in_results_and_browse(client: TestClient) -> None:
    _assert_inert(client.get("/search", params={"q": "bone study"}).text)
    _assert_inert(client.get("/conditions").text)
    condition = client.get("/conditions", params={"q": "osteoporosis img"}).text
    _assert_inert(condition)


def test_hostile_query_text_is_escaped(client: TestClient) -> None:
    html = client.get("/search", params={"q": SCRIPT, "near": IMG}).text
    assert SCRIPT not in html and IMG not in html


def test_hostile_text_stays_data_in_json(client: TestClient) -> None:
    body = client.get(f"/api/v1/trials/{HOSTILE_ID}").json()
    assert SCRIPT in body["trial"]["brief_title"]


@pytest.mark.parametrize("path", ["/", "/search?q=bone", f"/trials/{SHARED_A}", "/conditions",
                                  "/profile", "/api/v1/search", "/api/v1/nothing",
                                  "/static/app.js", "/docs"])
def test_security_headers_everywhere(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1] \
        .split(";")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"


def test_pages_have_no_inline_script(client: TestClient) -> None:
    for path in ("/", "/search?q=bone", f"/trials/{SHARED_A}", "/conditions", "/profile",
                 "/docs"):
        html = client.get(path).text
        for chunk in html.split("<script")[1:]:
            tag, _, rest = chunk.partition(">")
            assert "src=" in tag, path
            assert rest.startswith("</script>"), path
        assert " onclick=" not in html and " onload=" not in html


def test_dynamic_responses_are_not_cached(client: TestClient) -> None:
    assert client.get("/api/v1/answers").headers["cache-control"] == "no-store"
    assert client.get(f"/trials/{SHARED_A}").headers["cache-control"] == "no-store"
    assert "max-age" in client.get("/static/site.css").headers["cache-control"]


def test_session_cookie_is_httponly_lax_and_only_its_hash_is_stored(
        client: TestClient, core: TrialScout) -> None:
    response = client.get("/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("ts_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    csrf = csrf_for(client)
    client.put("/api/v1/profile", json={"age": 51}, headers={"X-CSRF-Token": csrf})
    token = client.cookies["ts_session"]
    with core.engine.connect() as conn:
        stored = [row[0] for row in conn.execute(text("SELECT id_hash FROM web_sessions"))]
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_api_reads_do_not_start_sessions(client: TestClient) -> None:
    assert "set-cookie" not in client.get("/api/v1/search").headers


def test_oversized_bodies_are_refused(client: TestClient) -> None:
    token = csrf_for(client)
    big = {"answers": {f"k{i}": "yes" for i in range(3000)}}
    response = client.put("/api/v1/answers", json=big, headers={"X-CSRF-Token": token})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_oversized_streamed_bodies_are_refused(client: TestClient) -> None:
    token = csrf_for(client)

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"answers": {'
        for i in range(3000):
            yield f'"k{i}": "yes",'.encode()
        yield b'"z": "yes"}}'

    response = client.put("/api/v1/answers", content=chunks(),
                          headers={"X-CSRF-Token": token, "Content-Type": "application/json"})
    assert response.status_code == 413


def test_personal_data_never_reaches_the_logs(client: TestClient,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = csrf_for(client)
    client.put("/api/v1/profile", json={"age": 73, "sex": "FEMALE", "near": "Reykjavik"},
               headers={"X-CSRF-Token": token})
    client.get("/search", params={"q": "bone", "near": "Reykjavik", "age": "73"})
    checklist = client.get(f"/api/v1/trials/{SHARED_A}/checklist").json()
    key = next(i["question_key"] for i in checklist["items"] if i["answerable"])
    client.put(f"/api/v1/trials/{SHARED_A}/answers", json={"answers": {key: "unsure"}},
               headers={"X-CSRF-Token": token})
    ours = [r for r in caplog.records if r.name.startswith(("trialscout", "uvicorn"))]
    logged = "\n".join(record.getMessage() for record in ours)
    assert "Reykjavik" not in logged and "unsure" not in logged
    assert "age=" not in logged and "FEMALE" not in logged
    assert any(r.name == "trialscout.web.access" for r in ours)


def test_record_uploads_may_be_larger_than_other_bodies(client: TestClient) -> None:
    token = csrf_for(client)
    note = "67-year-old woman with osteoporosis. " + "Walks daily. " * 4000
    assert len(note) > 20_000
    response = client.put("/api/v1/profile/record", json={"note": note},
                          headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.text
    refused = client.put("/api/v1/profile", json={"near": note},
                         headers={"X-CSRF-Token": token})
    assert refused.status_code == 413


def test_the_upload_limit_holds_for_streamed_bodies() -> None:
    from tests.web.loops import run_isolated
    from trialscout.web.middleware import BodySizeLimit, RequestTooLarge

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        while (await receive()).get("more_body"):
            pass

    def run(path: str, size: int) -> None:
        chunks = [b"x" * 100] * (size // 100)
        messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
        messages.append({"type": "http.request", "body": b"", "more_body": False})

        async def receive():  # type: ignore[no-untyped-def]
            return messages.pop(0)

        async def send(message):  # type: ignore[no-untyped-def]
            pass

        limited = BodySizeLimit(app, limit=1_000, upload_limit=5_000,
                                upload_prefixes=("/profile/record",))
        run_isolated(limited({"type": "http", "path": path, "headers": []}, receive, send))

    run("/profile/record", 4_000)
    with pytest.raises(RequestTooLarge):
        run("/profile/record", 6_000)
    with pytest.raises(RequestTooLarge):
        run("/api/v1/answers", 2_000)
