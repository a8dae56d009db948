"""The index follows every import, re-import, sync batch and process, and can be rebuilt."""

from __future__ import annotations

import contextlib
from pathlib import Path

from sqlalchemy import text

from tests.search.helpers import fixture_studies, ids, load, make_study
from trialscout.app import TrialScout, create_app
from trialscout.search import persist
from trialscout.search.location import index_dir_for
from trialscout.search.models import SearchRequest


def test_new_trials_are_searchable_after_import(write_app: TrialScout, tmp_path: Path
                                                ) -> None:
    assert ids(write_app) == []
    load(write_app, fixture_studies()[:3], tmp_path, "a")
    assert set(ids(write_app)) == {"NCT00000101", "NCT00000102", "NCT00000103"}
    load(write_app, fixture_studies()[3:], tmp_path, "b")
    assert len(ids(write_app)) == len(fixture_studies())
    assert ids(write_app, q="asthma") == ["NCT00000105"]


def test_reimport_with_changes_replaces_the_old_text(write_app: TrialScout, tmp_path: Path
                                                     ) -> None:
    load(write_app, fixture_studies(), tmp_path, "a")
    assert ids(write_app, q="tomosynthesis") == ["NCT00000106"]
    changed = make_study("NCT00000106", "Breast Ultrasound Screening",
                         summary="Ultrasound for dense breasts.", conditions=["Breast Cancer"],
                         status="COMPLETED", last_update="2025-01-01")
    load(write_app, [changed], tmp_path, "b")
    assert ids(write_app, q="tomosynthesis") == []
    assert ids(write_app, q="ultrasound") == ["NCT00000106"]
    assert "NCT00000106" in ids(write_app, status=["COMPLETED"])
    assert ids(write_app).count("NCT00000106") == 1
    unchanged_again = write_app.search(SearchRequest(q="ultrasound"))
    load(write_app, [changed], tmp_path, "c")
    assert write_app.search(SearchRequest(q="ultrasound")) == unchanged_again


def test_incremental_index_equals_a_rebuild(write_app: TrialScout, tmp_path: Path) -> None:
    studies = fixture_studies()
    load(write_app, studies[:4], tmp_path, "a")
    ids(write_app)
    load(write_app, studies[4:], tmp_path, "b")
    edited = make_study("NCT00000102", "Metformin and Diet in Type 2 Diabetes",
                        conditions=["Type 2 Diabetes"], last_update="2025-02-02")
    load(write_app, [edited], tmp_path, "c")
    requests = [SearchRequest(q=q, near="Boston", page_size=100) for q in
                ("diabetes", "cancer OR osteoporosis", "", '"breast cancer"', "osteop*")]
    incremental = [write_app.search(r) for r in requests]
    assert write_app.search_engine.view().delta is not None
    write_app.reindex()
    assert write_app.search_engine.view().delta is None
    assert [write_app.search(r) for r in requests] == incremental


def test_another_process_sees_imports_and_reuses_the_snapshot(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = create_app(database_url=url)
    second = create_app(database_url=url)
    try:
        load(first, fixture_studies()[:2], tmp_path, "a")
        assert len(ids(second)) == 2
        assert first.reindex() == 2
        index_dir = index_dir_for(first.settings)
        assert index_dir is not None and (index_dir / "CURRENT").is_file()
        load(first, fixture_studies()[2:], tmp_path, "b")
        assert len(ids(second)) == len(fixture_studies())
        third = create_app(database_url=url)
        try:
            assert ids(third, q="asthma") == ["NCT00000105"]
            assert third.search_engine.view().main.n == 2
        finally:
            third.close()
    finally:
        first.close()
        second.close()


def test_a_snapshot_of_another_store_is_not_trusted(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    a = create_app(database_url=f"sqlite:///{tmp_path / 'a.db'}",
                   search_index_dir=str(index_dir))
    b = create_app(database_url=f"sqlite:///{tmp_path / 'b.db'}",
                   search_index_dir=str(index_dir))
    try:
        load(a, fixture_studies()[:3], tmp_path, "a")
        a.reindex()
        assert persist.load(index_dir) is not None
        assert ids(b) == []
    finally:
        a.close()
        b.close()


def test_trials_written_without_the_hook_are_caught(write_app: TrialScout, tmp_path: Path
                                                    ) -> None:
    load(write_app, fixture_studies()[:2], tmp_path, "a")
    assert len(ids(write_app)) == 2
    write_app.write_hooks.clear()
    load(write_app, fixture_studies()[2:4], tmp_path, "b")
    write_app.write_hooks.append(write_app.search_engine.write_hook)
    load(write_app, fixture_studies()[4:5], tmp_path, "c")
    assert len(ids(write_app)) == 5


def test_the_hook_runs_in_the_import_transaction(write_app: TrialScout, tmp_path: Path
                                                 ) -> None:
    def boom(conn: object, nct_ids: list[str]) -> None:
        raise RuntimeError("abort the batch")

    write_app.write_hooks.append(boom)
    with contextlib.suppress(RuntimeError):
        load(write_app, fixture_studies()[:2], tmp_path, "a")
    with write_app.connect() as conn:
        assert conn.execute(text("select count(*) from search_docs")).scalar_one() == 0
        assert conn.execute(text("select generation from search_state")).scalar_one() == 0
    assert ids(write_app) == []


def test_index_dir_setting() -> None:
    from trialscout.settings import load_settings

    memory = load_settings({"database_url": "sqlite://"}, environ={})
    assert index_dir_for(memory) is None
    file_db = load_settings({"database_url": "sqlite:////tmp/x/store.db"}, environ={})
    assert index_dir_for(file_db) == Path("/tmp/x/store.db.search")
    off = load_settings({"database_url": "sqlite:////tmp/x/store.db",
                         "search_index_dir": "none"}, environ={})
    assert index_dir_for(off) is None
    pg = load_settings({"database_url": "postgresql+psycopg://u:secret@h/db"}, environ={})
    pg_dir = index_dir_for(pg)
    assert pg_dir is not None and "secret" not in str(pg_dir)


def test_a_damaged_snapshot_is_rebuilt(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    app = create_app(database_url=url)
    try:
        load(app, fixture_studies(), tmp_path, "a")
        app.reindex()
    finally:
        app.close()
    index_dir = tmp_path / "store.db.search"
    current = (index_dir / "CURRENT").read_text().strip()
    (index_dir / current / "t_doc.npy").write_bytes(b"not an array")
    again = create_app(database_url=url)
    try:
        assert ids(again, q="asthma") == ["NCT00000105"]
        assert len(ids(again)) == len(fixture_studies())
    finally:
        again.close()
