"""Importing with a reader process stores exactly what an inline import stores."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.factories import study
from trialscout.app import TrialScout, create_app
from trialscout.registry import reader_process
from trialscout.registry.reader_process import (
    ReaderProcessError,
    batches_from_process,
    use_reader_process,
)


def _source(tmp_path: Path) -> Path:
    lines = [json.dumps(study(f"NCT0999{n:04d}", title=f"Bone study {n}",
                              contactsLocationsModule={"locations": [
                                  {"facility": "Clinic", "city": "Boston", "country": "US",
                                   "geoPoint": {"lat": 42.36, "lon": -71.06}}]}))
             for n in range(1, 41)]
    lines.insert(5, "{not json")
    lines.insert(9, json.dumps({"protocolSection": {"identificationModule": {}}}))
    lines.append(json.dumps(study("NCT09990003", title="Bone study 3, revised",
                                  last_update="2025-01-01")))
    lines.append(json.dumps(study("NCT09990004", title="An older copy",
                                  last_update="2020-01-01")))
    path = tmp_path / "studies.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _stored(app: TrialScout) -> dict[str, Any]:
    with app.connect() as conn:
        return {
            "trials": conn.execute(text(
                "SELECT nct_id, content_hash, document FROM trials ORDER BY nct_id")).all(),
            "facets": conn.execute(text(
                "SELECT nct_id, field, value, value_norm FROM trial_facets "
                "ORDER BY nct_id, field, value")).all(),
            "sites": conn.execute(text(
                "SELECT nct_id, position, city, lat, lon FROM trial_sites "
                "ORDER BY nct_id, position")).all(),
            "history": conn.execute(text(
                "SELECT nct_id, content_hash, change, source FROM trial_history "
                "ORDER BY nct_id, id")).all(),
        }


def test_reader_process_stores_what_an_inline_import_stores(
        backend_app: TrialScout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _source(tmp_path)
    inline_app = create_app(database_url=f"sqlite:///{tmp_path / 'inline.db'}",
                            import_reader_process=False, import_batch_size=7)
    inline = inline_app.import_paths([source])
    monkeypatch.setattr(reader_process, "PROCESS_MIN_BYTES", 0)
    backend_app.settings = dataclasses.replace(backend_app.settings, import_batch_size=7)
    counted: list[int] = []
    piped = backend_app.import_paths([source], on_item=lambda: counted.append(1))
    assert piped.as_dict() == inline.as_dict()
    assert (piped.imported, piped.updated, len(piped.rejected)) == (40, 1, 2)
    assert len(counted) == 44
    assert {r.line for r in piped.rejected} == {6, 10}
    assert _stored(backend_app) == _stored(inline_app)
    again = backend_app.import_paths([source])
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 40)
    inline_app.close()


def test_limit_stops_the_reader(file_app: TrialScout, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_process, "PROCESS_MIN_BYTES", 0)
    report = file_app.store_paths([_source(tmp_path)], limit=12)
    assert report.imported == 10 and len(report.rejected) == 2


def test_a_failing_reader_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ReaderProcessError, match="ValueError: Stop argument for islice"):
        list(batches_from_process([_source(tmp_path)], 5, limit="many"))  # type: ignore[arg-type]


def test_small_imports_stay_inline(tmp_path: Path) -> None:
    source = _source(tmp_path)
    assert not use_reader_process([source], True)
    assert not use_reader_process([tmp_path / "missing.jsonl"], True)
    big = tmp_path / "big.jsonl"
    big.write_bytes(b" " * reader_process.PROCESS_MIN_BYTES)
    assert use_reader_process([tmp_path], True) == ((os.cpu_count() or 1) > 1)
    assert not use_reader_process([tmp_path], False)
