"""Honest evaluation: the roles of benchmark sets, error listings with failure kinds, and
the criterion pairs scored with and without the sentence every note of a set carries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialscout.cli import _load_commands, cli
from trialscout.evaluation.boilerplate import shared_sentences, without
from trialscout.evaluation.errors import KINDS, classify
from trialscout.evaluation.matching_eval import criterion_matching
from trialscout.evaluation.sets import identify, registry, roles_for
from trialscout.evaluation.trec_eval import target_trial, trec_matching

_load_commands()
runner = CliRunner()
DATA = Path(__file__).parent / "data"
SHARED = DATA / "annotations_shared_sentence.json"
CLOSING = "the patient has no history of asthma and agrees to attend every study visit."
SHARED_DATA = Path("/somewhere/shared/data")


# ---------------------------------------------------------------------- set roles
def test_every_registered_set_has_a_role_and_a_reason() -> None:
    sets = registry()
    assert sets and all(s.role in {"development", "report"} and s.reason for s in
                        sets.values())
    # Whatever is in ../shared/data has been looked at while building: development.
    for name in ("sigir", "target_trial_30", "trec_2021", "trialgpt_criterion", "chia",
                 "lct", "facebook_ner"):
        assert sets[name].role == "development" and sets[name].available, name
    assert all(not s.available for s in sets.values() if s.role == "report")


@pytest.mark.parametrize(("path", "name"), [
    ("trec/sigir/queries.jsonl", "sigir"),
    ("trec/trec_2021/qrels/test.tsv", "trec_2021"),
    ("patients/synthetic_patient_cases_random_30_modified.jsonl", "target_trial_30"),
    ("criteria/trialgpt_criterion/trialgpt_criterion_annotations.json",
     "trialgpt_criterion"),
    ("criteria/chia", "chia"),
    ("ctgov/studies.jsonl.gz", "ctgov_studies"),
])
def test_sets_are_recognized_from_their_paths(path: str, name: str) -> None:
    found = identify(SHARED_DATA / path)
    assert found is not None and found.name == name


def test_roles_say_when_every_set_is_a_development_set() -> None:
    dev = roles_for([SHARED_DATA / "trec/sigir/queries.jsonl",
                     SHARED_DATA / "ctgov/studies.jsonl.gz"])
    assert [s.name for s in dev.sets] == ["sigir", "ctgov_studies"]
    assert dev.all_development
    text = dev.as_text()
    assert "every set of this run is a development set" in text
    assert "sigir" in text and "DEVELOPMENT" in text and "trec_2022" in text
    unknown = roles_for([DATA / "queries.jsonl"])
    assert not unknown.all_development and unknown.unregistered
    assert "role unknown" in unknown.as_text()
    assert unknown.as_dict()["unregistered"] == [str(DATA / "queries.jsonl")]


# ---------------------------------------------------------------------- failure kinds
@pytest.mark.parametrize(("criterion", "kind"), [
    ("Currently on dialysis", "currency/person"),
    ("A sibling with early-onset dementia", "currency/person"),
    ("Stroke in the last 6 months", "time"),
    ("Serum albumin below 3 g/dL", "definition"),
    ("Either insulin use or oral sulfonylureas", "logic"),
    ("Never smoked", "negation scope"),
    ("Any autoimmune disease", "class membership"),
    ("Willing to keep a diary", "other"),
])
def test_failure_kinds_from_the_criterion(criterion: str, kind: str) -> None:
    assert classify(criterion, "", ["condition"]) == kind


def test_failure_kind_parse_miss_and_patient_cues() -> None:
    assert classify("Stroke in the last 6 months", "", ["other"]) == "parse miss"
    assert classify("Anything at all", "", []) == "parse miss"
    assert classify("Hip fracture", "Her father broke his hip.", ["condition"]) == \
        "currency/person"


# ---------------------------------------------------------------------- shared sentences
def test_shared_sentences_need_every_note_and_enough_notes() -> None:
    notes = ["0. A man with gout.\n1. He walks daily. He agrees to the visits.",
             "0. A woman with lupus.\n1. He agrees to the visits.",
             "0. A boy with asthma. He agrees to the visits.\n1. He walks daily."]
    assert shared_sentences(notes) == {"he agrees to the visits."}
    assert shared_sentences(notes[:2]) == frozenset()
    shared = shared_sentences(notes)
    assert without(notes[1], shared) == "0. A woman with lupus."
    assert without(notes[0], shared) == "0. A man with gout.\n1. He walks daily."
    assert without(notes[2], frozenset()) == notes[2]


def test_criterion_matching_with_and_without_the_shared_sentence() -> None:
    report = criterion_matching(SHARED)
    assert report.shared == [CLOSING]
    names = [s.name for s in report.systems]
    assert "trialscout (closed world)" in names
    assert "trialscout (closed world), without the shared sentences" in names
    assert "trialscout (open world), without the shared sentences" in names
    by_id = {p["annotation_id"]: p for p in report.predictions}
    # The shared sentence denies asthma: only with it can "Asthma" be ruled out.
    assert by_id[3]["ours"] == "not included"
    assert by_id[3]["ours_without_shared"] == "not enough information"
    assert by_id[2]["ours_open"] == "not excluded"
    assert by_id[2]["ours_open_without_shared"] == "not enough information"
    assert report.errors is None


def test_criterion_matching_errors() -> None:
    report = criterion_matching(SHARED, errors=True)
    assert report.errors is not None and report.errors_without is not None
    wrong = {p["annotation_id"] for p in report.predictions if p["ours"] != p["expert"]}
    assert len(report.errors) == len(wrong) > 0
    for row in report.errors:
        assert row.kind in KINDS and row.criterion and row.patient_text
        assert row.predicted != row.expected
    by_criterion = {r.criterion: r for r in report.errors}
    timed = by_criterion.get("Fracture within the past 12 months")
    if timed is not None:
        assert timed.kind in {"time", "parse miss"}
    assert len(report.errors_without) == sum(
        p["ours_without_shared"] != p["expert"] for p in report.predictions)


def test_cli_criterion_matching_errors_and_roles() -> None:
    result = runner.invoke(cli, ["eval", "criterion-matching", "--annotations", str(SHARED),
                                 "--errors"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "benchmark sets of this run" in out and "role unknown" in out
    assert "without the shared sentences" in out and "wrong pairs" in out
    assert "criterion:" in out and "patient text used:" in out and "predicted:" in out
    assert any(f"[{kind}]" in out for kind in KINDS)
    data = json.loads(runner.invoke(cli, ["eval", "criterion-matching", "--annotations",
                                          str(SHARED), "--json", "--errors"]).stdout)
    assert data["benchmark_sets"]["unregistered"] == [str(SHARED)]
    assert data["shared_sentences_removed"] == [CLOSING]
    assert sum(data["error_kinds"].values()) == len(data["errors"])
    assert {e["failure_kind"] for e in data["errors"]} <= set(KINDS)


# ---------------------------------------------------------------------- trec, target trial
def test_trec_errors_list_pairs_whose_verdict_contradicts_the_judgment(tmp_path: Path
                                                                       ) -> None:
    plain = trec_matching(DATA / "queries.jsonl", DATA / "qrels.tsv", DATA / "studies.jsonl")
    assert plain.errors is None and "errors" not in plain.as_dict()
    assert "benchmark sets of this run" in plain.as_text()
    # Judge the trial matching finds eligible as excluded: a missed exclusion.
    flipped = tmp_path / "qrels.tsv"
    flipped.write_text((DATA / "qrels.tsv").read_text().replace(
        "t-1\tNCT09990101\t2", "t-1\tNCT09990101\t1"))
    report = trec_matching(DATA / "queries.jsonl", flipped, DATA / "studies.jsonl",
                           errors=True)
    assert report.errors
    row = next(r for r in report.errors if r.pair == "t-1 / NCT09990101")
    assert row.expected == "excluded" and row.predicted != "not_eligible"
    assert row.what.startswith("missed exclusion") and row.kind in KINDS
    assert report.as_dict()["error_kinds"]
    result = runner.invoke(cli, ["eval", "trec", "--topics", str(DATA / "queries.jsonl"),
                                 "--qrels", str(flipped), "--studies",
                                 str(DATA / "studies.jsonl"), "--errors"])
    assert result.exit_code == 0, result.output
    assert "t-1 / NCT09990101" in result.stdout and "missed exclusion" in result.stdout


def test_target_trial_reports_its_sets() -> None:
    report = target_trial(DATA / "patients.jsonl", DATA / "studies.jsonl")
    data = report.as_dict()
    assert data["benchmark_sets"]["unregistered"] == [str(DATA / "patients.jsonl"),
                                                      str(DATA / "studies.jsonl")]
    assert "role unknown" in report.as_text()


def test_other_eval_commands_print_the_roles(tmp_path: Path) -> None:
    """eval criteria and eval search name their sets' roles in text and JSON too; a file
    laid out as in ../shared/data is recognized."""
    ner = tmp_path / "criteria" / "facebook_ner" / "ner.tsv"
    ner.parent.mkdir(parents=True)
    ner.write_text("11:19:chronic_disease\tdiagnosed epilepsy\n")
    text = runner.invoke(cli, ["eval", "criteria", "--tsv", str(ner)])
    assert text.exit_code == 0, text.output
    assert "facebook_ner" in text.stdout and "DEVELOPMENT" in text.stdout
    data = json.loads(runner.invoke(cli, ["eval", "criteria", "--tsv", str(ner),
                                          "--json"]).stdout)
    assert data["benchmark_sets"]["development"] == ["facebook_ner"]
    assert data["benchmark_sets"]["all_development"] is True
    topics = tmp_path / "trec" / "sigir" / "queries.jsonl"
    topics.parent.mkdir(parents=True)
    topics.write_text(json.dumps({"_id": "q1", "text": "child with asthma"}) + "\n")
    qrels = topics.parent / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\tNCT09990104\t2\nq1\tNCT09990101\t0\n")
    search = runner.invoke(cli, ["eval", "search", "--topics", str(topics), "--qrels",
                                 str(qrels), "--studies", str(DATA / "studies.jsonl")])
    assert search.exit_code == 0, search.output
    assert "sigir" in search.stdout and "role unknown" in search.stdout


def test_trec_errors_false_exclusion(tmp_path: Path) -> None:
    """A trial judged eligible that matching calls not eligible is listed with its surest
    failing criterion."""
    flipped = tmp_path / "qrels.tsv"
    flipped.write_text((DATA / "qrels.tsv").read_text().replace(
        "t-1\tNCT09990102\t1", "t-1\tNCT09990102\t2"))
    report = trec_matching(DATA / "queries.jsonl", flipped, DATA / "studies.jsonl",
                           errors=True)
    assert report.errors is not None
    rows = [r for r in report.errors if r.pair == "t-1 / NCT09990102"]
    assert len(rows) == 1 and rows[0].what.startswith("false exclusion")
    assert rows[0].predicted == "not_eligible" and rows[0].expected == "eligible"
    assert rows[0].criterion and rows[0].kind in KINDS


def test_a_set_any_rule_file_was_tuned_on_is_a_development_set() -> None:
    from trialscout.evaluation.sets import tuned_files

    sets = registry()
    tuned = tuned_files()
    assert tuned, "rule files name the sets they were tuned on"
    for name, files in tuned.items():
        assert name in sets, (name, files)
        assert sets[name].role == "development", (name, files)
    assert "matching/rules/ranking.yaml" in sets["trec_2021"].tuned
    assert "tuned_files" in sets["trec_2021"].as_dict()
