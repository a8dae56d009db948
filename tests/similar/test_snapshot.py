"""The similar-trials index published once by `trialscout index`, opened by workers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pytest

from tests.factories import study
from trialscout.app import create_app
from trialscout.sample import sample_path
from trialscout.search.errors import IndexNotPublished
from trialscout.similar import snapshot
from trialscout.similar.features import features_from_document
from trialscout.similar.service import SimilarService, build_index


def test_workers_open_the_published_index_and_answer_like_the_builder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    builder = create_app(database_url=url)
    reader = create_app(database_url=url, search_index_role="open")
    try:
        builder.import_paths([sample_path()])
        assert not reader.similar.builds
        with pytest.raises(IndexNotPublished, match="trialscout index"):
            reader.similar.similar("NCT09000001", 5)
        report = builder.index()
        assert report.similar == "built"
        assert builder.index().similar == "current"
        built = builder.similar.index()
        opened = snapshot.load(tmp_path / "s.db.search" / "similar")
        assert opened is not None and opened.index.ids == built.ids
        assert isinstance(opened.index.text.data, np.ndarray)
        assert not opened.index.text.data.flags.owndata, "memory-mapped, not copied"
        for nct_id in built.ids[:12]:
            expected = builder.similar.similar(nct_id, 6, origin=(42.36, -71.06))
            got = reader.similar.similar(nct_id, 6, origin=(42.36, -71.06))
            assert got == expected
        assert reader.similar.similar("NCT00000000", 3) is None
    finally:
        reader.close()
        builder.close()


def test_a_worker_picks_up_a_newer_snapshot(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    builder = create_app(database_url=url)
    builder.import_paths([sample_path()])
    builder.index()
    reader = SimilarService(builder.engine, snapshot_dir=tmp_path / "s.db.search" / "similar",
                            builds=False)
    try:
        new = study("NCT09990001",
                    title="Denosumab Versus Alendronate in Postmenopausal Osteoporosis",
                    conditionsModule={"conditions": ["Postmenopausal Osteoporosis"]},
                    armsInterventionsModule={"interventions": [{"name": "Denosumab"},
                                                               {"name": "Alendronate"}]})
        path = tmp_path / "new.jsonl"
        path.write_text(json.dumps(new) + "\n")
        builder.import_paths([path])
        assert reader.similar("NCT09990001", 3) == [], "stored, not published yet"
        assert builder.index().similar == "built"
        reader._checked = 0.0
        after = reader.similar("NCT09000001", 3) or []
        assert after and after[0].nct_id == "NCT09990001"
    finally:
        builder.close()


def test_a_snapshot_of_another_store_is_not_opened(tmp_path: Path) -> None:
    shared = tmp_path / "index"
    a = create_app(database_url=f"sqlite:///{tmp_path / 'a.db'}", search_index_dir=str(shared))
    b = create_app(database_url=f"sqlite:///{tmp_path / 'b.db'}", search_index_dir=str(shared),
                   search_index_role="open")
    try:
        a.import_paths([sample_path()])
        a.index()
        b.import_paths([sample_path()])
        with pytest.raises(IndexNotPublished):
            b.similar.similar("NCT09000001", 3)
    finally:
        a.close()
        b.close()


def test_a_worker_finds_rows_by_nct_id_without_a_dict_of_ids(tmp_path: Path) -> None:
    """The published ids are numbers in unsorted row order (a trial added after the build
    goes last); every id finds its own row, and an unknown or malformed one finds none."""
    nums = np.asarray([50_000_007, 12, 50_000_001, 3_000_000], dtype=np.int64)
    positions = snapshot.Positions(nums, np.argsort(nums, kind="stable"))
    for row, num in enumerate(nums.tolist()):
        assert positions.get(f"NCT{num:08d}") == row
        assert positions[f"NCT{num:08d}"] == row
    assert positions.get("NCT00000013") is None
    assert positions.get("NCT1") is None and positions.get("nct00000012") is None
    with pytest.raises(KeyError):
        positions["NCT99999999"]
    assert list(positions) == ["NCT50000007", "NCT00000012", "NCT50000001", "NCT03000000"]


def test_the_index_trialscout_index_saves_ranks_like_the_full_one(tmp_path: Path) -> None:
    """Built to be saved, the index keeps no per-trial names, sites or texts, yet ranks
    every trial as the index that explains does, also after trials are replaced."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    app = create_app(database_url=url)
    try:
        app.import_paths([sample_path()])
        docs = list(app.similar._documents())
    finally:
        app.close()
    full = build_index(docs)
    lean = build_index(docs, keep_features=False)
    assert lean.features == [] and len(full.features) == len(docs)
    changed = [dict(docs[0]), dict(docs[1])]
    changed[0]["conditions"], changed[1]["conditions"] = (docs[1].get("conditions"),
                                                          docs[0].get("conditions"))
    for index in (full, lean):
        index.add([features_from_document(orjson.loads(orjson.dumps(d))) for d in changed])
    for a, b in zip(full.all_neighbors(5), lean.all_neighbors(5), strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(full.recruiting, lean.recruiting)
    assert np.array_equal(full.max_age, lean.max_age)


def test_a_building_process_maps_a_current_snapshot_and_builds_only_when_behind(
        tmp_path: Path) -> None:
    """A single web process (it may build) opens what `trialscout index` published while
    that covers the store; once a trial changes and nothing is published, it builds its own
    up-to-date index rather than answer from a stale one."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    builder = create_app(database_url=url)
    try:
        builder.import_paths([sample_path()])
        builder.index()
        serving = SimilarService(builder.engine,
                                 snapshot_dir=tmp_path / "s.db.search" / "similar")
        assert serving.builds
        first = serving.similar("NCT09000001", 3)
        assert first and serving._index is None, "mapped the snapshot, built nothing"
        assert not serving.index().text.data.flags.owndata
        new = study("NCT09990001",
                    title="Denosumab Versus Alendronate in Postmenopausal Osteoporosis",
                    conditionsModule={"conditions": ["Postmenopausal Osteoporosis"]},
                    armsInterventionsModule={"interventions": [{"name": "Denosumab"},
                                                               {"name": "Alendronate"}]})
        path = tmp_path / "new.jsonl"
        path.write_text(json.dumps(new) + "\n")
        builder.import_paths([path])
        after = serving.similar("NCT09000001", 3) or []
        assert serving._index is not None, "behind the store: built in memory"
        assert after and after[0].nct_id == "NCT09990001"
    finally:
        builder.close()
