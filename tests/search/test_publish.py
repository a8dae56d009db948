"""Build once, open everywhere: `trialscout index` publishes, workers only open snapshots."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from tests.search.helpers import BOSTON, fixture_studies, ids, load, make_study, site
from trialscout.app import TrialScout, create_app
from trialscout.search import persist
from trialscout.search.errors import IndexNotPublished
from trialscout.search.location import builds_index
from trialscout.search.lock import build_lock
from trialscout.search.models import SearchRequest
from trialscout.settings import load_settings

EDITED = make_study("NCT00000102", "Zoledronate against Hypophosphatasia",
                    conditions=["Hypophosphatasia"], last_update="2025-02-02")


def _reader(url: str) -> TrialScout:
    return create_app(database_url=url, search_index_role="open")


def _poll_now(app: TrialScout) -> None:
    app.search_engine._checked = 0.0
    app.search_engine._retry_at = 0.0


def test_an_import_publishes_and_a_small_change_is_a_delta(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    builder = create_app(database_url=url)
    try:
        load(builder, fixture_studies(), tmp_path, "a")
        index_dir = tmp_path / "store.db.search"
        first = persist.load_published(index_dir)
        assert first is not None and first.delta is None
        assert first.main.n == len(fixture_studies())
        load(builder, [EDITED], tmp_path, "b")
        second = persist.load_published(index_dir)
        assert second is not None and second.delta is not None
        assert second.delta.nct_ids == ["NCT00000102"]
        assert second.main_generation == first.meta.generation
        assert builder.index().kind == "current"
        queries = ("hypophosphatasia", "diabetes", "cancer OR osteoporosis", "")
        with_delta = [ids(builder, q=q) for q in queries]
        assert with_delta[0] == ["NCT00000102"]
        assert "NCT00000102" not in with_delta[1]
        reader = _reader(url)
        try:
            assert [ids(reader, q=q) for q in queries] == with_delta
            assert reader.search_engine.view().delta is not None
        finally:
            reader.close()
        report = builder.index(full=True)
        assert report.kind == "full" and report.trials == len(fixture_studies())
        rebuilt = persist.load_published(index_dir)
        assert rebuilt is not None and rebuilt.delta is None
        assert [ids(builder, q=q) for q in queries] == with_delta
    finally:
        builder.close()


def test_a_reader_never_builds_and_picks_up_new_snapshots(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    builder = create_app(database_url=url)
    reader = _reader(url)
    try:
        path = tmp_path / "a.jsonl"
        path.write_bytes(b"\n".join(orjson.dumps(s) for s in fixture_studies()))
        builder.store_paths([path])
        with pytest.raises(IndexNotPublished, match="trialscout index"):
            reader.search(SearchRequest(q="osteoporosis"))
        assert not (tmp_path / "store.db.search" / "CURRENT").exists()
        assert builder.index().kind == "full"
        before = ids(reader, q="osteoporosis")
        assert before
        reader.search_engine.delta_limit = 0
        edited = tmp_path / "b.jsonl"
        edited.write_bytes(orjson.dumps(EDITED))
        builder.store_paths([edited])
        _poll_now(reader)
        assert ids(reader, q="hypophosphatasia") == [], "too many changes: serves the snapshot"
        assert builder.index().kind == "delta"
        _poll_now(reader)
        assert ids(reader, q="hypophosphatasia") == ["NCT00000102"]
        published = persist.current_name(tmp_path / "store.db.search")
        assert reader.search_engine._state is not None
        assert reader.search_engine._state.snapshot == published
    finally:
        reader.close()
        builder.close()


def test_a_web_worker_without_a_published_index_answers_503(tmp_path: Path) -> None:
    from trialscout.web.factory import create_web_app

    url = f"sqlite:///{tmp_path / 'store.db'}"
    core = create_app(database_url=url, web_workers=2, web_warm_up="off")
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(s) for s in fixture_studies()))
    core.store_paths([path])
    try:
        with TestClient(create_web_app(core)) as client:
            response = client.get("/api/v1/search", params={"q": "osteoporosis"})
            assert response.status_code == 503
            assert "trialscout index" in response.json()["detail"]
            assert not core.search_engine.builds
            core.index()
            core.search_engine._checked = 0.0
            found = client.get("/api/v1/search", params={"q": "osteoporosis"})
            assert found.status_code == 200 and found.json()["total"] >= 1
    finally:
        core.close()


@pytest.mark.parametrize(("overrides", "web", "expected"), [
    ({}, False, True),
    ({}, True, True),
    ({"web_workers": 2}, True, False),
    ({"database_url": "postgresql+psycopg://h/db"}, True, False),
    ({"database_url": "postgresql+psycopg://h/db"}, False, True),
    ({"web_workers": 2, "search_index_dir": "none"}, True, True),
    ({"search_index_role": "open"}, False, False),
    ({"search_index_role": "build", "web_workers": 4}, True, True),
])
def test_who_builds(overrides: dict[str, object], web: bool, expected: bool) -> None:
    values = {"database_url": "sqlite:////tmp/x/store.db", **overrides}
    settings = load_settings({k: str(v) for k, v in values.items()}, environ={})
    assert builds_index(settings, web=web) is expected


def test_the_role_setting_refuses_unknown_values() -> None:
    with pytest.raises(ValueError, match="auto, build or open"):
        load_settings({"search_index_role": "sometimes"}, environ={})


@pytest.mark.slow
def test_a_second_builder_waits_for_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    app = create_app(database_url=url)
    try:
        load(app, fixture_studies(), tmp_path, "a")
        index_dir = tmp_path / "store.db.search"
        before = persist.current_name(index_dir)
        with build_lock(app.engine, index_dir):
            proc = subprocess.Popen(
                [str(Path(sys.executable).with_name("trialscout")), "--database", url, "index",
                 "--full", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(4)
            assert proc.poll() is None, "the second builder must wait for the lock"
            assert persist.current_name(index_dir) == before
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert orjson.loads(out)["kind"] == "full"
        assert persist.current_name(index_dir) != before
    finally:
        app.close()


def test_a_readers_cached_page_follows_the_published_index(tmp_path: Path) -> None:
    from trialscout.web.factory import create_web_app

    url = f"sqlite:///{tmp_path / 'store.db'}"
    builder = create_app(database_url=url)
    core = create_app(database_url=url, web_workers=2, web_warm_up="off")
    try:
        load(builder, fixture_studies(), tmp_path, "a")
        with TestClient(create_web_app(core)) as client:
            assert not core.search_engine.builds
            core.search_engine.delta_limit = 0
            edited = tmp_path / "b.jsonl"
            edited.write_bytes(orjson.dumps(EDITED))
            builder.store_paths([edited])
            _poll_now(core)
            stale = client.get("/search", params={"q": "hypophosphatasia"})
            assert stale.status_code == 200 and "NCT00000102" not in stale.text
            builder.index()
            _poll_now(core)
            fresh = client.get("/search", params={"q": "hypophosphatasia"})
            assert "NCT00000102" in fresh.text, "not the stale page from the cache"
    finally:
        core.close()
        builder.close()


def _answers(app: TrialScout) -> list[object]:
    """Filters, facets and distance: everything that reads the view's filter columns."""
    requests = [SearchRequest(q="", page_size=100),
                SearchRequest(q="", country="United States", page_size=100),
                SearchRequest(q="", near="42.36,-71.06", radius=500, sort="distance"),
                SearchRequest(q="", near="42.36,-71.06", sort="distance", page_size=100),
                SearchRequest(q="", condition="osteoporosis"),
                SearchRequest(q="", phase=["PHASE3"], site_status=["RECRUITING"])]
    out: list[object] = []
    for request in requests:
        response = app.search(request)
        out.append(([(h.nct_id, h.nearest_site) for h in response.hits], response.facets))
    return out


def test_a_reader_maps_the_filter_columns_the_builder_saved(tmp_path: Path) -> None:
    """A delta snapshot carries the merged filter columns and the latitude order of the
    sites, so a reader maps them (shared pages) instead of merging its own copies, and
    answers as the builder does; a main snapshot's columns are its segment's own."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    builder = create_app(database_url=url)
    try:
        load(builder, fixture_studies(), tmp_path, "a")
        for with_delta in (False, True):
            if with_delta:
                moved = make_study("NCT00000102", "Zoledronate against Hypophosphatasia",
                                   conditions=["Hypophosphatasia"], last_update="2025-02-02",
                                   sites=[site("Boston", "United States", *BOSTON)])
                load(builder, [moved], tmp_path, "b")
            reader = _reader(url)
            try:
                expected = _answers(builder)
                assert _answers(reader) == expected
                view = reader.search_engine.view()
                assert (view.delta is not None) == with_delta
                for name in ("multi.condition.docs", "site.site_doc", "site.site_lat",
                             "nct_num", "lat_order", "multi.condition.ptr"):
                    assert isinstance(view.columns[name].base, np.memmap), name
            finally:
                reader.close()
    finally:
        builder.close()
