"""Matching against a real store (the bundled sample): the app method and the CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialscout.app import TrialScout
from trialscout.cli import _load_commands, cli
from trialscout.matching.engine import MatchOptions
from trialscout.patients.notes import extract_note
from trialscout.sample import sample_path

_load_commands()
runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "patients" / "data"
NOTE = ("A 67-year-old postmenopausal woman with osteoporosis (lumbar spine T-score -3.0) "
        "and a vertebral fracture two years ago. She has never taken denosumab. "
        "She denies diabetes. No known drug allergies.")


@pytest.fixture
def sample_app(file_app: TrialScout) -> TrialScout:
    file_app.import_paths([sample_path()])
    return file_app


def test_match_ranks_relevant_eligible_trials_first(sample_app: TrialScout) -> None:
    profile = extract_note(NOTE, reference_date=date(2024, 6, 1))
    response = sample_app.match(profile, MatchOptions(reference_date=date(2024, 6, 1)))
    assert response.results
    top = response.results[0]
    assert top.verdict != "not_eligible"
    assert {"osteoporosis" in (t.title.lower()) or "fracture" in t.title.lower()
            for t in response.results[:3]} == {True}
    ids = [m.nct_id for m in response.results]
    assert "NCT09000003" not in ids[:5]
    assert all(a.score >= b.score for a, b in zip(response.results, response.results[1:],
                                                  strict=False))


def test_distance_changes_the_order(sample_app: TrialScout) -> None:
    profile = extract_note(NOTE, reference_date=date(2024, 6, 1))
    seattle = sample_app.match(profile, MatchOptions(near="Seattle", radius_km=300,
                                                     reference_date=date(2024, 6, 1)))
    assert seattle.results and seattle.results[0].nct_id == "NCT09000004"
    assert all(m.distance_km is not None and m.distance_km <= 300 for m in seattle.results)


def test_saved_matches_record_the_profile_version(sample_app: TrialScout) -> None:
    stored = sample_app.save_patient(extract_note(NOTE, reference_date=date(2024, 6, 1)))
    response = sample_app.match(stored.patient_id,
                                MatchOptions(reference_date=date(2024, 6, 1), limit=5),
                                save=True)
    saved = sample_app.saved_matches(stored.patient_id)
    assert [m.nct_id for m in saved] == [m.nct_id for m in response.results]
    assert saved[0].profile_version == 1 and saved[0].patient_id == stored.patient_id
    assert saved[0].facts_used


def _invoke(db: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, ["--database", f"sqlite:///{db}", *args])


def test_cli_match_note_json_and_table(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert _invoke(db, "import", str(sample_path())).exit_code == 0
    note = tmp_path / "note.txt"
    note.write_text(NOTE)
    result = _invoke(db, "match", str(note), "--json", "--date", "2024-06-01", "--limit", "5")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["results"]) == 5 and data["results"][0]["rank"] == 1
    assert data["results"][0]["criteria"]
    table = _invoke(db, "match", str(note), "--near", "Boston", "--radius", "2000")
    assert table.exit_code == 0, table.output
    assert "read as note" in table.stdout and "NCT090000" in table.stdout


def test_cli_match_fhir_and_errors(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert _invoke(db, "import", str(sample_path())).exit_code == 0
    ok = _invoke(db, "match", str(DATA / "bundle_valid.json"), "--json")
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Bundle", "type": "collection", "entry": '
                   '[{"resource": {"resourceType": "Observation", "id": "o9"}}]}')
    result = _invoke(db, "match", str(bad))
    assert result.exit_code == 1
    assert "Observation/o9" in result.stderr
    assert _invoke(db, "match", str(tmp_path / "missing.txt")).exit_code == 1
    assert _invoke(db, "match", str(bad), "--radius", "10").exit_code == 1


def test_cli_patient_import_and_show(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    first = _invoke(db, "patient", "import", str(DATA / "bundle_valid.json"), "--json")
    assert first.exit_code == 0, first.output
    info = json.loads(first.stdout)
    assert info == {"patient_id": 1, "version": 1, "kind": "fhir"}
    note = tmp_path / "n.txt"
    note.write_text("A 70-year-old woman with osteoporosis.")
    second = _invoke(db, "patient", "import", str(note), "--id", "1", "--json")
    assert json.loads(second.stdout)["version"] == 2
    shown = _invoke(db, "patient", "show", "1", "--version", "1")
    assert shown.exit_code == 0 and "Type 2 diabetes" in shown.stdout
    assert _invoke(db, "patient", "show", "9").exit_code == 1


@pytest.mark.parametrize("limit", [1, 3, 5])
def test_early_stopping_shows_what_checking_everything_shows(sample_app: TrialScout,
                                                             limit: int) -> None:
    """Checking stops early (at a failure the trial cannot recover from, or once no
    candidate can enter the results): the results must equal ranking every candidate
    after checking all of its criteria."""
    from trialscout.matching.engine import match_trials, parsed_lookup, search_candidates
    from trialscout.matching.query import relevance_query
    from trialscout.store.trials import load_trials

    ref = date(2024, 6, 1)
    profile = extract_note(NOTE, reference_date=ref)
    response = sample_app.match(profile, MatchOptions(reference_date=ref, limit=limit))
    options = MatchOptions(reference_date=ref)
    candidates = search_candidates(sample_app, profile, relevance_query(profile), options,
                                   ref, 100)
    with sample_app.engine.connect() as conn:
        trials = load_trials(conn, [c.nct_id for c in candidates])
    full = match_trials(profile, [trials[c.nct_id] for c in candidates],
                        parsed_lookup(sample_app), reference_date=ref,
                        relevance={c.nct_id: c.relevance for c in candidates})
    assert [(m.nct_id, m.score) for m in response.results] == \
        [(m.nct_id, m.score) for m in full[:limit]]
    assert all(m.complete for m in response.results)


def test_relevance_query_weighs_denied_findings_half() -> None:
    """What the note denies still says something about the patient's topic (and the
    trials whose criteria exclude it), but less than what it affirms: query words weigh
    by how often they occur, so the affirmed text is given twice and the rest once."""
    from collections import Counter

    from trialscout.matching.query import relevance_query

    profile = extract_note("A 70-year-old woman with osteoporosis. She denies diabetes. "
                           "Her mother had breast cancer.", reference_date=date(2024, 6, 1))
    words = Counter(relevance_query(profile).lower().replace(".", " ").split())
    assert words["osteoporosis"] == 2
    assert words["diabetes"] == 1 and words["breast"] == 1


def test_matches_relax_the_garbage_collector_and_restore_it() -> None:
    import gc

    from trialscout.matching.engine import relaxed_gc

    before = gc.get_threshold()
    with relaxed_gc():
        assert gc.get_threshold()[0] >= relaxed_gc.threshold
        with relaxed_gc():  # a concurrent match shares the setting
            pass
        assert gc.get_threshold()[0] >= relaxed_gc.threshold
    assert gc.get_threshold() == before


MAN_NOTE = ("A 52-year-old man with osteoporosis (T-score -2.8) and a wrist fracture last "
            "year. No diabetes.")


def test_match_all_lists_trials_removed_by_registry_age_and_sex(sample_app: TrialScout
                                                                ) -> None:
    profile = extract_note(MAN_NOTE, reference_date=date(2024, 6, 1))
    plain = sample_app.match(profile, MatchOptions(reference_date=date(2024, 6, 1)))
    assert plain.removed == []
    full = sample_app.match(profile, MatchOptions(reference_date=date(2024, 6, 1),
                                                  include_removed=True, limit=50))
    assert [m.nct_id for m in full.results][:20] == [m.nct_id for m in plain.results]
    shown = {m.nct_id for m in full.results}
    assert full.removed and not shown & {m.nct_id for m in full.removed}
    for match in full.removed:
        assert match.verdict == "not_eligible" and match.reason.startswith("removed by")
        assert all(c.item_index < 0 and c.verdict == "NOT_MET" for c in match.criteria)
    reasons = {m.nct_id: m.reason for m in full.removed}
    assert "female only" in reasons["NCT09000007"]          # women with osteopenia
    assert "age 52" in reasons["NCT09000001"]               # 55 to 85, women
    assert [m.rank for m in full.removed] == list(range(1, len(full.removed) + 1))


def test_cli_match_all(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert _invoke(db, "import", str(sample_path())).exit_code == 0
    note = tmp_path / "note.txt"
    note.write_text(MAN_NOTE)
    result = _invoke(db, "match", str(note), "--all", "--json", "--date", "2024-06-01")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["removed"] and all(m["reason"].startswith("removed by the registry's")
                                   for m in data["removed"])
    plain = json.loads(_invoke(db, "match", str(note), "--json", "--date",
                               "2024-06-01").stdout)
    assert plain["removed"] == []
    table = _invoke(db, "match", str(note), "--all", "--date", "2024-06-01")
    assert table.exit_code == 0 and "removed before matching" in table.stdout
    assert "female only" in table.stdout
