"""Whatever a query string holds, pages answer 200, 4xx or a redirect: never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.fixtures import SHARED_A
from trialscout.search.models import SearchRequest

PATHS = ["/", "/search", "/conditions", "/conditions/Osteoporosis", f"/trials/{SHARED_A}",
         "/profile", "/matches", "/trials/NCT00000000", "/conditions/%2F%2E%2E"]
NAMES = [*SearchRequest.model_fields, "letter", "junk", ""]
VALUES = st.one_of(st.text(max_size=40), st.sampled_from(
    ["RECRUITING", "PHASE3", "-1", "1e309", "nan", "0", "true", "2024-02-30", "Boston, MA",
     "91,181", "\"", "(", "NOT", "*", "%00", "<script>"]))


@pytest.fixture(scope="module")
def browser_like(web: FastAPI) -> Iterator[TestClient]:
    with TestClient(web, base_url="http://127.0.0.1") as client:
        yield client


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(PATHS),
       params=st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=6))
def test_no_query_string_breaks_a_page(browser_like: TestClient, path: str,
                                       params: list[tuple[str, str]]) -> None:
    response = browser_like.get(path, params=params, follow_redirects=False)
    assert response.status_code < 500, (path, params, response.text[:500])
