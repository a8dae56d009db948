"""The self-check's summary line says who may join in plain words."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("nct_id, words", [("NCT09000001", "women only"),
                                           ("NCT09000003", "men only"),
                                           ("NCT09000002", "all sexes")])
def test_who_may_join_is_said_plainly(client: TestClient, nct_id: str, words: str) -> None:
    page = client.get(f"/trials/{nct_id}").text
    assert words in page
    assert "sexes only" not in page
