"""Parsed criteria in the store: kept fresh by the write hook, reparsed on version change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import study
from trialscout.app import TrialScout
from trialscout.criteria import PARSER_VERSION
from trialscout.criteria import store as criteria_store
from trialscout.criteria.tables import TrialCriteriaRow, TrialCriterionQuestionRow

CRITERIA = ("Inclusion Criteria:\n\n* Postmenopausal women\n* Type 2 diabetes\n\n"
            "Exclusion Criteria:\n\n* Received denosumab within the past 6 months")


def _write(tmp_path: Path, name: str, *studies: dict) -> Path:  # type: ignore[type-arg]
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(s) for s in studies) + "\n")
    return path


def _study(nct_id: str, criteria: str, last_update: str = "2024-05-01") -> dict:  # type: ignore[type-arg]
    return study(nct_id, last_update=last_update, eligibilityModule={
        "eligibilityCriteria": criteria, "sex": "FEMALE", "minimumAge": "50 Years"})


def test_import_stores_parsed_criteria(app: TrialScout, tmp_path: Path) -> None:
    app.import_paths([_write(tmp_path, "a.jsonl", _study("NCT09990001", CRITERIA))])
    parsed = app.parsed_criteria("NCT09990001")
    assert parsed is not None and parsed.parser_version == PARSER_VERSION
    assert [i.kind for i in parsed.items] == ["menopause", "condition", "medication"]
    with app.connect() as conn:
        asking = criteria_store.trials_asking(conn, "drug:denosumab:within:6mo")
    assert asking == [("NCT09990001", 2, "no")]


def test_trial_without_criteria_gets_an_empty_row(app: TrialScout, tmp_path: Path) -> None:
    s = study("NCT09990002")
    del s["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    app.import_paths([_write(tmp_path, "a.jsonl", s)])
    parsed = app.parsed_criteria("NCT09990002")
    assert parsed is not None and parsed.items == []
    assert app.parsed_criteria("NCT00000000") is None


def test_update_through_import_keeps_criteria_fresh(app: TrialScout, tmp_path: Path) -> None:
    app.import_paths([_write(tmp_path, "a.jsonl", _study("NCT09990001", CRITERIA))])
    newer = _study("NCT09990001", "Inclusion Criteria:\n\n* HbA1c ≥ 7%", last_update="2024-06-01")
    app.import_paths([_write(tmp_path, "b.jsonl", newer)])
    parsed = app.parsed_criteria("NCT09990001")
    assert parsed is not None
    assert [i.question.key for i in parsed.items] == ["lab:hba1c:ge:7:%"]
    with app.connect() as conn:
        assert criteria_store.trials_asking(conn, "drug:denosumab:within:6mo") == []
        count = conn.execute(select(func.count()).select_from(TrialCriterionQuestionRow))
        assert count.scalar_one() == 1


def test_reparse_after_parser_version_change(app: TrialScout, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    app.import_paths([_write(tmp_path, "a.jsonl", _study("NCT09990001", CRITERIA),
                             _study("NCT09990003", "* Pregnancy"))])
    assert app.reparse_criteria().parsed == 0
    monkeypatch.setattr(criteria_store, "PARSER_VERSION", "9.9.9")
    monkeypatch.setattr("trialscout.criteria.parser.PARSER_VERSION", "9.9.9")
    with app.connect() as conn:
        assert criteria_store.stale_ids(conn) == ["NCT09990001", "NCT09990003"]
    progress: list[tuple[int, int]] = []
    report = app.reparse_criteria(on_progress=lambda done, total: progress.append((done, total)))
    assert (report.parsed, report.items) == (2, 4)
    assert report.as_dict()["parser_build"] == "pure Python"
    assert progress[-1] == (2, 2)
    parsed = app.parsed_criteria("NCT09990001")
    assert parsed is not None and parsed.parser_version == "9.9.9"
    assert app.reparse_criteria().parsed == 0
    assert app.reparse_criteria(everything=True).parsed == 2


def test_unchanged_reimport_does_not_reparse(app: TrialScout, tmp_path: Path) -> None:
    path = _write(tmp_path, "a.jsonl", _study("NCT09990001", CRITERIA))
    app.import_paths([path])
    with app.connect() as conn:
        first = conn.execute(select(TrialCriteriaRow.parsed_at)).scalar_one()
        assert criteria_store.parse_trials(conn, ["NCT09990001"]) == 0
        assert criteria_store.parse_trials(conn, ["NCT09990001"], force=True) == 1
    app.import_paths([path])
    with app.connect() as conn:
        assert conn.execute(select(TrialCriteriaRow.parsed_at)).scalar_one() == first


def test_register_is_idempotent(app: TrialScout) -> None:
    before = list(app.write_hooks)
    criteria_store.register(app)
    assert app.write_hooks == before
    assert criteria_store.write_hook in app.write_hooks


def test_store_on_both_backends(backend_app: TrialScout, tmp_path: Path) -> None:
    backend_app.import_paths([_write(tmp_path, "a.jsonl", _study("NCT09990001", CRITERIA))])
    parsed = backend_app.parsed_criteria("NCT09990001")
    assert parsed is not None and len(parsed.items) == 3


def test_import_batches_only_forget_and_parsing_follows(app: TrialScout, tmp_path: Path) -> None:
    from trialscout.registry.importer import import_items
    from trialscout.registry.sources import iter_path

    first = app.import_paths([_write(tmp_path, "a.jsonl", _study("NCT09990001", CRITERIA))])
    assert first.criteria_parsed == 1
    newer = _study("NCT09990001", "Inclusion Criteria:\n\n* HbA1c ≥ 7%", last_update="2024-06-01")
    import_items(app.engine, iter_path(_write(tmp_path, "b.jsonl", newer)),
                 hooks=app.write_hooks)
    with app.connect() as conn:
        assert criteria_store.load_parsed_criteria(conn, "NCT09990001") is None
        assert criteria_store.trials_asking(conn, "drug:denosumab:within:6mo") == []
    parsed = app.parsed_criteria("NCT09990001")
    assert parsed is not None and [i.question.key for i in parsed.items] == ["lab:hba1c:ge:7:%"]
    assert app.reparse_criteria().parsed == 1
    with app.connect() as conn:
        assert criteria_store.trials_asking(conn, "lab:hba1c:ge:7:%") == [
            ("NCT09990001", 0, "yes")]


def test_same_text_in_a_newer_record_keeps_its_parse(app: TrialScout, tmp_path: Path) -> None:
    app.import_paths([_write(tmp_path, "a.jsonl", _study("NCT09990001", CRITERIA))])
    newer = _study("NCT09990001", CRITERIA, last_update="2024-06-01")
    report = app.import_paths([_write(tmp_path, "b.jsonl", newer)])
    assert (report.updated, report.criteria_parsed) == (1, 0)


def test_reparse_in_worker_processes_matches_inline(file_app: TrialScout, tmp_path: Path) -> None:
    texts = [CRITERIA, "* Pregnancy", "Exclusion Criteria:\n- eGFR < 30 mL/min/1.73m2", ""]
    file_app.import_paths([_write(tmp_path, "a.jsonl", *[
        _study(f"NCT0999100{i}", text) for i, text in enumerate(texts)])])
    inline = {f"NCT0999100{i}": file_app.parsed_criteria(f"NCT0999100{i}")
              for i in range(len(texts))}
    report = criteria_store.reparse(file_app.engine, everything=True, workers=2,
                                    inline_limit=0, batch_size=1)
    assert report.parsed == len(texts)
    for nct_id, before in inline.items():
        assert file_app.parsed_criteria(nct_id) == before
