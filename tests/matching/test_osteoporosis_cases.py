"""Osteoporosis and denosumab trials against short clinician-style notes: no missed
exclusion and no false exclusion, judged by the label the user sees.

The trials and notes live in ``data/osteoporosis_cases.yaml`` (the development set
``osteoporosis_dev``, written for TrialScout). Every note is matched once through
``app.match`` on a store holding those trials (``trialscout eval exclusions`` runs the
same code and prints the errors); each pair is one test. A pair marked ``known_gap`` is a
strict expected failure: the day it passes, the mark must go.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from trialscout.evaluation.exclusion_cases import (
    EvalInputError,
    ExclusionReport,
    PairResult,
    evaluate_cases,
    load_case_file,
)

DATA = Path(__file__).parent / "data" / "osteoporosis_cases.yaml"


@lru_cache(maxsize=1)
def report() -> ExclusionReport:
    return evaluate_cases(DATA)


def _params() -> list[Any]:
    out = []
    for note in load_case_file(DATA).notes:
        for pair in note.pairs:
            marks = [pytest.mark.xfail(strict=True, reason=pair.known_gap)] \
                if pair.known_gap else []
            out.append(pytest.param(note.id, pair.trial, id=f"{note.id}-{pair.trial}",
                                    marks=marks))
    return out


def _result(note: str, trial: str) -> PairResult:
    return next(p for p in report().pairs if p.note == note and p.trial == trial)


@pytest.mark.parametrize(("note", "trial"), _params())
def test_pair(note: str, trial: str) -> None:
    result = _result(note, trial)
    assert result.problem in {None, "wrong_reason"}, (
        f"{result.problem}: expected {result.expected}, shown {result.shown}: "
        f"{result.reason}")


def test_the_set_covers_both_directions_and_the_kinds() -> None:
    cases = load_case_file(DATA)
    pairs = [p for n in cases.notes for p in n.pairs]
    assert len(cases.trials) >= 10 and len(cases.notes) >= 60
    assert {p.expected for p in pairs} == {"excluded", "not_excluded", "cannot_tell"}
    assert {p.kind for p in pairs} >= {"class", "time", "definition", "negation",
                                       "currency"}


def test_the_eval_counts_each_error_once_and_says_so() -> None:
    rep = report()
    text = rep.as_text()
    summary = rep.as_dict()
    assert summary["pairs"] == len(rep.pairs)
    assert summary["missed_exclusions"] == sum(
        1 for p in rep.pairs if p.expected == "excluded" and p.shown != "not_eligible")
    assert summary["false_exclusions"] == sum(
        1 for p in rep.pairs if p.expected != "excluded" and p.shown == "not_eligible")
    assert f"missed exclusions: {summary['missed_exclusions']} of" in text
    assert "osteoporosis_dev" in text and "DEVELOPMENT" in text


def test_a_bad_case_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "cases.yaml"
    bad.write_text("version: 1\ntuned_on: []\nreference_date: 2025-06-01\ntrials: []\n"
                   "notes: []\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match="trials"):
        load_case_file(bad)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(DATA.read_text(encoding="utf-8").replace(
        "trial: NCT09970001,", "trial: NCT09979999,", 1), encoding="utf-8")
    with pytest.raises(EvalInputError, match="unknown trial"):
        load_case_file(unknown)


SMALL = """\
version: 1
tuned_on: []
reference_date: 2025-06-01
trials:
- id: NCT09979001
  title: A fictional denosumab study
  conditions: [Osteoporosis]
  sex: FEMALE
  min_age: 50
  criteria: |
    Inclusion Criteria:
    * Postmenopausal women with osteoporosis
    Exclusion Criteria:
    * Denosumab within the past 6 months
notes:
- id: a
  note: A 70-year-old woman with osteoporosis, on denosumab since 2021, last dose in April 2025.
  pairs:
  - {trial: NCT09979001, expected: excluded, criterion: Denosumab}
- id: b
  note: A 72-year-old man with osteoporosis who has never taken denosumab.
  pairs:
  - {trial: NCT09979001, expected: excluded, criterion: registry}
"""


def test_the_eval_command_prints_missed_and_false_exclusions(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from trialscout.cli import _load_commands, cli

    _load_commands()
    cases = tmp_path / "small.yaml"
    cases.write_text(SMALL, encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", "exclusions", "--cases", str(cases)])
    assert result.exit_code == 0, result.output
    assert "missed exclusions: 0 of 2" in result.output
    assert "false exclusions: 0 of 0" in result.output
    as_json = CliRunner().invoke(cli, ["eval", "exclusions", "--cases", str(cases),
                                       "--json"])
    summary = json.loads(as_json.output)
    assert summary["pairs"] == 2 and summary["errors"] == []
    broken = CliRunner().invoke(cli, ["eval", "exclusions", "--cases",
                                      str(tmp_path / "missing.yaml")])
    assert broken.exit_code != 0 and "cannot read" in broken.output
