"""The same searches give the same answers on SQLite and PostgreSQL (postgres tier)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.search.helpers import fixture_studies, ids, load, make_study
from trialscout.app import TrialScout, create_app
from trialscout.sample import sample_path
from trialscout.search.models import SearchRequest

REQUESTS = [
    SearchRequest(q="osteoporosis", page_size=100),
    SearchRequest(q='"breast cancer" OR asthma', status=["RECRUITING"], page_size=100),
    SearchRequest(q="T2D", age=50, sex="FEMALE", page_size=100),
    SearchRequest(q="", near="Boston, MA", radius=8000, sort="distance", page_size=100),
    SearchRequest(q="denos*", country="United States", page_size=3, page=2),
    SearchRequest(q="fracture -hip", phase=["PHASE3", "PHASE4"], sort="last_update"),
    SearchRequest(q=("A 70 year old woman with osteoporosis and type 2 diabetes, previous "
                     "hip fracture, on metformin"), page_size=100),
]


def _answers(app: TrialScout) -> list[str]:
    return [app.search(r).model_dump_json() for r in REQUESTS] + [
        json.dumps([c.model_dump() for c in app.browse_conditions(order="count")])]


def test_core_search_on_each_backend(backend_app: TrialScout, tmp_path: Path) -> None:
    backend_app.import_paths([sample_path()])
    load(backend_app, fixture_studies(), tmp_path)
    assert ids(backend_app, q="lung cancer")[0] == "NCT00000107"
    assert set(ids(backend_app, status=["Recruiting"], q="osteoporosis")) >= {"NCT00000101"}
    assert "NCT00000102" in ids(backend_app, sex="MALE", age=30, q="diabetes")
    assert set(ids(backend_app, near="Boston, MA", radius=20)) >= {"NCT00000101",
                                                                   "NCT00000104"}
    assert set(ids(backend_app, condition="T2D", q="metformin")) == {"NCT00000102",
                                                                     "NCT09000015"}
    changed = make_study("NCT00000107", "Lung Cancer Screening", conditions=["Lung Cancer"],
                         last_update="2025-03-03")
    load(backend_app, [changed], tmp_path, "changed")
    assert ids(backend_app, q="smoking cessation") == []
    assert ids(backend_app, q="lung screening")[0] == "NCT00000107"
    assert backend_app.reindex() == 38
    assert ids(backend_app, q="lung screening")[0] == "NCT00000107"


@pytest.mark.postgres
def test_sqlite_and_postgres_answer_identically(tmp_path: Path) -> None:
    from tests.conftest import _postgres_schema_url

    lite = create_app(database_url=f"sqlite:///{tmp_path / 'lite.db'}")
    gen = _postgres_schema_url()
    pg = create_app(database_url=next(gen))
    try:
        for app in (lite, pg):
            app.import_paths([sample_path()])
            load(app, fixture_studies(), tmp_path)
        assert _answers(lite) == _answers(pg)
        changed = make_study("NCT09000001", "Changed Osteoporosis Trial",
                             conditions=["Osteoporosis"], last_update="2030-01-01")
        for app in (lite, pg):
            load(app, [changed], tmp_path, "changed")
        assert _answers(lite) == _answers(pg)
    finally:
        lite.close()
        pg.close()
        gen.close()
