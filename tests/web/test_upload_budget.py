"""Uploads are read off the event loop within a time budget, with the note size limit
(max_note_chars), and a truncated bundle is refused with the parse error."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import csrf_for
from trialscout.web import patient_match, uploads

BUNDLE = (Path(__file__).resolve().parents[1] / "patients" / "data"
          / "bundle_valid.json").read_text()


def _form_token(client: TestClient) -> str:
    html = client.get("/profile").text
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_a_truncated_bundle_pasted_in_the_form_is_refused(client: TestClient) -> None:
    cut = BUNDLE[: len(BUNDLE) // 2]
    response = client.post("/profile/record", data={"csrf_token": _form_token(client),
                                                    "note": cut})
    assert response.status_code == 422
    assert "does not parse" in response.text
    assert client.get("/api/v1/profile/record").status_code == 404, "nothing was stored"


def test_a_truncated_bundle_file_is_refused_by_the_api_form(client: TestClient) -> None:
    cut = BUNDLE[: int(len(BUNDLE) * 0.8)]
    response = client.post("/profile/record", data={"csrf_token": _form_token(client)},
                           files={"file": ("bundle.json", cut.encode(), "application/json")})
    assert response.status_code == 422 and "does not parse" in response.text


def test_the_note_limit_setting_applies_to_uploads(client: TestClient,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    core = client.app.state.trialscout.core  # type: ignore[attr-defined]
    monkeypatch.setattr(core, "settings", dataclasses.replace(core.settings, max_note_chars=50))
    response = client.put("/api/v1/profile/record",
                          json={"note": "She has osteoporosis and asthma. " * 5},
                          headers={"X-CSRF-Token": csrf_for(client)})
    assert response.status_code == 422
    assert "max_note_chars" in response.json()["detail"]


def test_a_read_past_its_budget_is_a_503_and_the_loop_keeps_serving(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    real = patient_match.read_upload

    def slow(**kwargs: Any) -> Any:
        time.sleep(1.5)
        return real(**kwargs)

    monkeypatch.setattr(uploads, "read_upload", slow)
    monkeypatch.setattr(uploads, "PARSE_SECONDS", 0.3)
    started = time.perf_counter()
    response = client.put("/api/v1/profile/record", json={"note": "She has asthma."},
                          headers={"X-CSRF-Token": csrf_for(client)})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert time.perf_counter() - started < 1.4, "the answer did not wait for the thread"


def test_the_upload_runs_in_a_worker_thread(client: TestClient,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    seen: list[str] = []
    real = patient_match.read_upload

    def spy(**kwargs: Any) -> Any:
        seen.append(threading.current_thread().name)
        return real(**kwargs)

    monkeypatch.setattr(uploads, "read_upload", spy)
    response = client.put("/api/v1/profile/record",
                          json={"bundle": json.loads(BUNDLE)},
                          headers={"X-CSRF-Token": csrf_for(client)})
    assert response.status_code == 200
    assert seen and seen[0] != threading.main_thread().name
