"""Windows and durations in criteria checked against when things happened, at one reference
date: outside a window is not met, no time in the record is unknown (never met), and a
treatment that ended is not current. Cases written for these tests.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.matching.builders import constraint, item
from trialscout.criteria.model import Item, TimeWindow
from trialscout.matching.facts import PatientFacts
from trialscout.matching.item import evaluate_item
from trialscout.matching.timing import fits
from trialscout.patients.model import PatientProfile
from trialscout.patients.notes import extract_note
from trialscout.patients.times import EventTime

REF = date(2024, 6, 1)


def check(note: str | dict[str, Any], it: Item, ref: date = REF) -> str:
    if isinstance(note, str):
        profile = extract_note("A 70-year-old woman. " + note, reference_date=REF)
    else:
        profile = PatientProfile.model_validate(note)
    return evaluate_item(it, PatientFacts(profile, ref)).verdict


DENOSUMAB_6_MONTHS = item([constraint(
    "medication", polarity="must_not", cid="denosumab",
    window={"relation": "within", "amount": 6, "unit": "month"})],
    section="exclusion", text="Denosumab within the past 6 months")


@pytest.mark.parametrize(("note", "expected"), [
    ("Her last denosumab injection was 7 months ago.", "MET"),
    ("She received her last denosumab shot 3 months ago.", "NOT_MET"),
    ("She stopped denosumab in 2021.", "MET"),
    ("She is currently on denosumab.", "NOT_MET"),
    ("She was given denosumab at some point in the past.", "UNKNOWN"),
])
def test_an_exclusion_window_applies_only_inside_it(note: str, expected: str) -> None:
    assert check(note, DENOSUMAB_6_MONTHS) == expected


DIABETES_OVER_10_YEARS = item([constraint(
    "disease_duration", cid="type_2_diabetes",
    window={"relation": "duration", "amount": 10, "unit": "year", "comparator": "gt"})],
    text="Type 2 diabetes for more than 10 years")


@pytest.mark.parametrize(("note", "expected"), [
    ("She has had type 2 diabetes for 6 years.", "NOT_MET"),
    ("She has had type 2 diabetes for 14 years.", "MET"),
    ("Type 2 diabetes was diagnosed in 2011.", "MET"),
    ("Type 2 diabetes was diagnosed in 2014.", "UNKNOWN"),  # 9.4 to 10.4 years
    ("Type 2 diabetes since age 52.", "MET"),
    ("She has type 2 diabetes.", "UNKNOWN"),
    ("Osteoporosis, on metformin for 12 years, and type 2 diabetes.", "UNKNOWN"),
])
def test_disease_duration(note: str, expected: str) -> None:
    assert check(note, DIABETES_OVER_10_YEARS) == expected


def test_duration_grows_with_the_reference_date() -> None:
    note = "Type 2 diabetes was diagnosed in 2009."
    assert check(note, DIABETES_OVER_10_YEARS, ref=date(2017, 6, 1)) == "NOT_MET"
    assert check(note, DIABETES_OVER_10_YEARS, ref=date(2021, 6, 1)) == "MET"


def test_a_recorded_date_bounds_an_unknown_onset() -> None:
    recorded = {"conditions": [{"name": "Type 2 diabetes", "concept": "type_2_diabetes",
                                "recorded": "2009-03-01"}]}
    assert check(recorded, DIABETES_OVER_10_YEARS) == "MET"
    recent = {"conditions": [{"name": "Type 2 diabetes", "concept": "type_2_diabetes",
                              "recorded": "2022-03-01"}]}
    assert check(recent, DIABETES_OVER_10_YEARS) == "UNKNOWN"


FRACTURE_12_MONTHS = item([constraint(
    "condition", cid="fragility_fracture",
    window={"relation": "within", "amount": 12, "unit": "month"})],
    text="A fragility fracture within the past 12 months")


@pytest.mark.parametrize(("note", "expected"), [
    ("She had a wrist fracture 2 years ago.", "NOT_MET"),
    ("She had a hip fracture 4 months ago.", "MET"),
    ("She sustained a hip fracture in 2019.", "NOT_MET"),
    ("She has a history of hip fracture.", "UNKNOWN"),
])
def test_an_event_within_a_window(note: str, expected: str) -> None:
    assert check(note, FRACTURE_12_MONTHS) == expected


CURRENT_CHEMO = item([constraint(
    "procedure", polarity="must_not", cid="chemotherapy", window={"relation": "current"})],
    section="exclusion", text="Currently receiving chemotherapy")


@pytest.mark.parametrize(("note", "expected"), [
    ("She completed chemotherapy in 2019.", "MET"),
    ("She finished chemotherapy 3 years ago.", "MET"),
    ("She is currently receiving chemotherapy.", "NOT_MET"),
    ("She has a history of chemotherapy for lymphoma.", "UNKNOWN"),
])
def test_currently_is_not_a_treatment_that_ended(note: str, expected: str) -> None:
    assert check(note, CURRENT_CHEMO) == expected


def test_structured_medication_last_dose_and_status() -> None:
    last_dose = {"medications": [{"name": "Denosumab", "concept": "denosumab",
                                  "status": "active", "last_dose": "2023-10-20",
                                  "source": {"kind": "fhir"}}]}
    assert check(last_dose, DENOSUMAB_6_MONTHS) == "MET"
    recent = {"medications": [{"name": "Denosumab", "concept": "denosumab",
                               "status": "completed", "last_dose": "2024-03-01",
                               "source": {"kind": "fhir"}}]}
    assert check(recent, DENOSUMAB_6_MONTHS) == "NOT_MET"
    planned = {"medications": [{"name": "Denosumab", "concept": "denosumab",
                                "status": "unknown", "source": {"kind": "fhir"}}]}
    assert check(planned, DENOSUMAB_6_MONTHS) == "UNKNOWN"
    listed = {"medications": [{"name": "Denosumab", "concept": "denosumab"}]}
    assert check(listed, DENOSUMAB_6_MONTHS) == "NOT_MET"


# ---------------------------------------------------------------------- fits() directly
def _within(months: float) -> TimeWindow:
    return TimeWindow(relation="within", amount=months, unit="month")


def _year(y: int) -> tuple[date, date]:
    return date(y, 1, 1), date(y, 12, 31)


def test_a_year_that_straddles_the_window_edge_is_unknown() -> None:
    assert fits(_within(12), EventTime(start=_year(2023)), REF, event=True) is None
    assert fits(_within(12), EventTime(start=_year(2021)), REF, event=True) is False
    assert fits(_within(30), EventTime(start=_year(2023)), REF, event=True) is True


def test_no_time_is_never_inside_or_outside() -> None:
    for relation in ("within", "before", "duration"):
        window = TimeWindow(relation=relation, amount=1, unit="year", comparator="ge")
        assert fits(window, EventTime(), REF, event=True) is None
        assert fits(window, EventTime(), REF, event=False) is None
    assert fits(TimeWindow(relation="current"), EventTime(), REF, event=False) is None


def test_before_a_window() -> None:
    five_years = TimeWindow(relation="before", amount=5, unit="year")
    assert fits(five_years, EventTime(start=_year(2015)), REF, event=True) is True
    assert fits(five_years, EventTime(start=_year(2022)), REF, event=True) is False
    # still taking it: its exposure is not over, let alone 5 years ago
    assert fits(five_years, EventTime(start=_year(2010), current=True), REF,
                event=False) is False


def test_a_stated_duration_decides_without_dates() -> None:
    more_than_3_months = TimeWindow(relation="duration", amount=3, unit="month",
                                    comparator="gt")
    assert fits(more_than_3_months, EventTime(duration_days=730.0), REF, event=False) is True
    assert fits(more_than_3_months, EventTime(duration_days=30.0), REF, event=False) is False


def test_relative_times_count_from_the_notes_date_not_the_match_date() -> None:
    written = date(2023, 1, 1)
    diabetes = extract_note("A 70-year-old woman. She has had type 2 diabetes for 9 years.",
                            reference_date=written)
    later, same_day = PatientFacts(diabetes, date(2024, 6, 1)), PatientFacts(diabetes, written)
    assert evaluate_item(DIABETES_OVER_10_YEARS, later).verdict == "MET"
    assert evaluate_item(DIABETES_OVER_10_YEARS, same_day).verdict == "NOT_MET"
    injection = extract_note("A 70-year-old woman. Her last denosumab injection was 4 "
                             "months ago.", reference_date=written)
    assert evaluate_item(DENOSUMAB_6_MONTHS, PatientFacts(injection, written)).verdict == \
        "NOT_MET"
    assert evaluate_item(DENOSUMAB_6_MONTHS, PatientFacts(injection, date(2023, 9, 1))
                         ).verdict == "MET"


def test_cli_match_as_of_sets_the_one_reference_date(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trialscout.cli import _load_commands, cli
    from trialscout.sample import sample_path

    _load_commands()
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert runner.invoke(cli, ["--database", db, "import", str(sample_path())]).exit_code == 0
    note = tmp_path / "note.txt"
    note.write_text("A 66-year-old woman with osteoporosis. Her last denosumab injection "
                    "was 4 months ago.")
    result = runner.invoke(cli, ["--database", db, "match", str(note), "--json",
                                 "--as-of", "2021-03-04", "--limit", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["reference_date"] == "2021-03-04"
    bad = runner.invoke(cli, ["--database", db, "match", str(note), "--as-of", "03/04/2021"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_a_duration_of_a_denied_condition_is_not_met() -> None:
    assert check("She denies diabetes.", DIABETES_OVER_10_YEARS) == "NOT_MET"
    assert check({"denied": [{"name": "type 2 diabetes", "concept": "type_2_diabetes"}]},
                 DIABETES_OVER_10_YEARS) == "NOT_MET"
    assert check("Her mother has had type 2 diabetes for 20 years.",
                 DIABETES_OVER_10_YEARS) == "UNKNOWN"


@pytest.mark.parametrize(("criteria", "note", "expected"), [
    ("Exclusion Criteria:\n* Treatment with denosumab within the past 6 months",
     "Her last denosumab injection was 7 months ago.", "MET"),
    ("Exclusion Criteria:\n* Treatment with denosumab within the past 6 months",
     "Her last denosumab injection was 2 months ago.", "NOT_MET"),
    ("Inclusion Criteria:\n* Type 2 diabetes for more than 10 years",
     "She has had type 2 diabetes for 6 years.", "NOT_MET"),
    ("Inclusion Criteria:\n* Fragility fracture within the past 12 months",
     "She had a wrist fracture 2 years ago.", "NOT_MET"),
    ("Inclusion Criteria:\n* Fragility fracture within the past 12 months",
     "She has had a wrist fracture.", "UNKNOWN"),
    ("Exclusion Criteria:\n* Currently receiving chemotherapy",
     "She completed chemotherapy in 2019.", "MET"),
])
def test_parsed_criteria_windows(criteria: str, note: str, expected: str) -> None:
    from trialscout.criteria.parser import parse_criteria

    (parsed_item,) = parse_criteria(criteria).items
    assert check(note, parsed_item) == expected
