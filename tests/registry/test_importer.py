"""Importing: idempotent, newer-wins with history, and bad records never cost good ones."""

from __future__ import annotations

import json
from pathlib import Path

from tests.factories import study, with_module
from trialscout.app import TrialScout
from trialscout.store import trials


def _write(path: Path, studies: list[dict]) -> Path:
    path.write_text("".join(json.dumps(s) + "\n" for s in studies))
    return path


def test_reimport_changes_nothing(backend_app: TrialScout, tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", [study("NCT09990001"), study("NCT09990002")])
    first = backend_app.import_paths([path])
    assert (first.imported, first.unchanged) == (2, 0)
    with backend_app.connect() as conn:
        before = trials.history(conn, "NCT09990001")
    second = backend_app.import_paths([path])
    assert (second.imported, second.updated, second.unchanged) == (0, 0, 2)
    with backend_app.connect() as conn:
        assert trials.history(conn, "NCT09990001") == before


def test_newer_record_replaces_and_history_is_kept(backend_app: TrialScout,
                                                   tmp_path: Path) -> None:
    old = study("NCT09990001", title="Old title", last_update="2024-01-10",
                contactsLocationsModule={"locations": [{"city": "Boston", "country": "US"}]})
    new = study("NCT09990001", title="New title", last_update="2024-06-01",
                contactsLocationsModule={"locations": [{"city": "Denver", "country": "US"}]})
    backend_app.import_paths([_write(tmp_path / "old.jsonl", [old])])
    report = backend_app.import_paths([_write(tmp_path / "new.jsonl", [new])])
    assert report.updated == 1
    trial = backend_app.trial("NCT09990001")
    assert trial is not None and trial.brief_title == "New title"
    assert [s.city for s in trial.sites] == ["Denver"]
    with backend_app.connect() as conn:
        hist = trials.history(conn, "NCT09990001")
        assert [h["change"] for h in hist] == ["created", "updated"]
        assert [h["last_update"] for h in hist] == ["2024-01-10", "2024-06-01"]
        assert hist[0]["content_hash"] != hist[1]["content_hash"]
        raw = trials.load_raw(conn, "NCT09990001")
        assert raw["protocolSection"]["identificationModule"]["briefTitle"] == "New title"
    stale = backend_app.import_paths([tmp_path / "old.jsonl"])
    assert stale.stale == 1
    trial = backend_app.trial("NCT09990001")
    assert trial is not None and trial.brief_title == "New title"


def test_bad_records_are_reported_and_good_ones_kept(backend_app: TrialScout,
                                                     tmp_path: Path) -> None:
    backend_app.import_paths([_write(tmp_path / "first.jsonl", [study("NCT09990005")])])
    path = tmp_path / "batch.jsonl"
    lines = [
        json.dumps(study("NCT09990001")),
        "{not json",
        json.dumps({"protocolSection": {"identificationModule": {"briefTitle": "no id"}}}),
        json.dumps(with_module(study("NCT09990002"), "statusModule", overallStatus="SOMETIMES")),
        json.dumps(with_module(study("NCT09990003"), "eligibilityModule", maximumAge="999 Years")),
        json.dumps(with_module(study("NCT09990004"), "conditionsModule", conditions={"a": 1})),
        json.dumps(with_module(study("NCT09990005"), "statusModule", overallStatus="NOPE",
                               lastUpdatePostDateStruct={"date": "2030-01-01"})),
        json.dumps(study("NCT09990006")),
    ]
    path.write_text("\n".join(lines) + "\n")
    report = backend_app.import_paths([path])
    assert report.imported == 2
    rejected = {(r.line, r.nct_id): r.reason for r in report.rejected}
    assert set(rejected) == {(2, None), (3, None), (4, "NCT09990002"), (5, "NCT09990003"),
                             (6, "NCT09990004"), (7, "NCT09990005")}
    assert all(r.location == str(path) for r in report.rejected)
    assert "missing nctId" in rejected[(3, None)]
    assert backend_app.trial_count() == 3
    kept = backend_app.trial("NCT09990005")
    assert kept is not None and kept.overall_status == "RECRUITING"
    summary = report.as_dict()
    assert summary["rejected"] == 6 and len(summary["rejections"]) == 6


def test_duplicate_ids_in_one_batch_keep_the_newest(app: TrialScout, tmp_path: Path) -> None:
    path = _write(tmp_path / "dup.jsonl", [
        study("NCT09990001", title="B", last_update="2024-03-01"),
        study("NCT09990001", title="A", last_update="2024-01-01"),
    ])
    app.import_paths([path])
    trial = app.trial("NCT09990001")
    assert trial is not None and trial.brief_title == "B"


def test_write_hooks_see_changed_ids_only(app: TrialScout, tmp_path: Path) -> None:
    seen: list[list[str]] = []
    app.write_hooks.append(lambda conn, ids: seen.append(sorted(ids)))
    path = _write(tmp_path / "a.jsonl", [study("NCT09990001"), study("NCT09990002")])
    app.import_paths([path])
    app.import_paths([path])
    assert seen == [["NCT09990001", "NCT09990002"]]


def test_facets_and_sites_follow_updates(app: TrialScout, tmp_path: Path) -> None:
    from sqlalchemy import select

    from trialscout.store.tables import TrialFacetRow

    app.import_paths([_write(tmp_path / "a.jsonl", [study("NCT09990001")])])
    changed = with_module(study("NCT09990001", last_update="2025-01-01"), "conditionsModule",
                          conditions=["Osteopenia", "osteopenia "])
    app.import_paths([_write(tmp_path / "b.jsonl", [changed])])
    with app.connect() as conn:
        values = conn.execute(select(TrialFacetRow.value).where(
            TrialFacetRow.field == "condition")).scalars().all()
    assert values == ["Osteopenia"]


def test_real_legacy_and_json_of_one_study_newest_wins(app: TrialScout,
                                                       shared_data: Path) -> None:
    app.import_paths([shared_data / "ctgov/samples/legacy_xml/NCT02513394.xml"])
    app.import_paths([shared_data / "ctgov/samples/api_v2/NCT02513394.json"])
    trial = app.trial("NCT02513394")
    assert trial is not None and trial.has_results
    report = app.import_paths([shared_data / "ctgov/samples/legacy_xml/NCT02513394.xml"])
    assert report.stale == 1


def test_nul_characters_in_text_are_stored_cleanly_on_every_backend(
        backend_app: TrialScout, tmp_path: Path) -> None:
    """A ``\\u0000`` in registry text once aborted a whole PostgreSQL batch; the record is
    stored with the character removed, and the records around it are kept."""
    records = [study(f"NCT0999{n:04d}") for n in range(10)]
    records.insert(5, study("NCT09998888", title="Bone\u0000 density study",
                            conditionsModule={"conditions": ["Osteo\u0000porosis"]},
                            eligibilityModule={"eligibilityCriteria":
                                               "Inclusion Criteria:\n* Age\u0000 50"}))
    report = backend_app.import_paths([_write(tmp_path / "nul.jsonl", records)])
    assert report.imported == 11 and not report.rejected
    trial = backend_app.trial("NCT09998888")
    assert trial is not None
    assert trial.brief_title == "Bone density study"
    assert trial.conditions == ["Osteoporosis"]
    assert "\x00" not in (trial.eligibility.criteria or "")


def test_a_record_the_database_refuses_costs_only_itself(
        app: TrialScout, tmp_path: Path, monkeypatch) -> None:
    from sqlalchemy.exc import DataError

    original = trials.write_batch

    def refusing(conn, records):  # type: ignore[no-untyped-def]
        if any(r.nct_id == "NCT09990003" for r in records):
            raise DataError("INSERT", {}, Exception("invalid byte sequence"))
        return original(conn, records)

    monkeypatch.setattr("trialscout.registry.importer.write_batch", refusing)
    path = _write(tmp_path / "a.jsonl", [study(f"NCT0999000{n}") for n in range(1, 6)])
    report = app.import_paths([path])
    assert report.imported == 4
    assert [(r.nct_id, r.reason) for r in report.rejected] == [
        ("NCT09990003", "the database refused it: invalid byte sequence")]
    assert app.trial("NCT09990003") is None and app.trial("NCT09990004") is not None
