"""Hostile or odd requests: tracking parameters, forged Host headers, forged log lines."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from trialscout.web.middleware import loggable_path


@pytest.mark.parametrize("url, expected", [
    ("/search?q=osteoporosis&fbclid=abc&utm_source=news", "/search?q=osteoporosis"),
    ("/trials/NCT09000001?utm_campaign=x", "/trials/NCT09000001"),
    ("/conditions?gclid=1&letter=O", "/conditions?letter=O"),
])
def test_pages_ignore_unknown_query_parameters(client: TestClient, url: str,
                                               expected: str) -> None:
    first = client.get(url, follow_redirects=False)
    assert first.status_code == 307 and first.headers["location"] == expected
    assert client.get(url).status_code == 200


def test_the_api_still_refuses_unknown_parameters(client: TestClient) -> None:
    response = client.get("/api/v1/search?q=osteoporosis&fbclid=abc")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_page_with_a_bad_known_value_is_still_an_error(client: TestClient) -> None:
    assert client.get("/search?q=x&page=-4&fbclid=1", follow_redirects=False).status_code == 422


def test_the_trailing_slash_redirect_never_echoes_the_host(client: TestClient) -> None:
    response = client.get("/guides/", headers={"host": "evil.example"}, follow_redirects=False)
    assert response.status_code in (307, 308)
    assert response.headers["location"] == "/guides"


def test_a_newline_in_the_path_cannot_forge_a_log_line(client: TestClient,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="trialscout.web.access"):
        client.get("/search%0AGET /admin 200 0.1ms")
    lines = [r.getMessage() for r in caplog.records if r.name == "trialscout.web.access"]
    assert lines and all("\n" not in line for line in lines)
    assert any("\\n" in line for line in lines)


@pytest.mark.parametrize("path", ["/a\nb", "/a\rb", "/\x1b[31mred", "/tab\there", "/ok/é"])
def test_loggable_path_is_one_printable_line(path: str) -> None:
    out = loggable_path(path)
    assert out.isprintable() and ("\n" not in out) and out.startswith("/")
