"""Normalizing API v2 study objects: what is kept, and what is turned away and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.factories import study, with_module
from trialscout.registry.api_v2 import trial_from_api_v2
from trialscout.registry.durations import age_to_days
from trialscout.registry.errors import RecordError
from trialscout.registry.partial_dates import PartialDateError, parse_partial_date, sort_key


def test_full_real_record_keeps_what_a_trial_page_shows(shared_data: Path) -> None:
    data = json.loads((shared_data / "ctgov/samples/api_v2/NCT02513394.json").read_text())
    trial = trial_from_api_v2(data)
    assert trial.nct_id == "NCT02513394"
    assert trial.acronym and trial.official_title and trial.org_study_id
    assert {s.type for s in trial.secondary_ids} >= {"EUDRACT_NUMBER"}
    assert trial.overall_status == "ACTIVE_NOT_RECRUITING"
    assert trial.phases == ["PHASE3"]
    assert trial.design.allocation == "RANDOMIZED" and trial.design.masking == "NONE"
    assert trial.enrollment_count == 5796 and trial.enrollment_type == "ACTUAL"
    assert trial.dates.start == "2015-08"
    assert trial.arm_groups and trial.interventions and trial.outcomes
    roles = {o.role for o in trial.organizations}
    assert roles == {"LEAD_SPONSOR", "COLLABORATOR"}
    assert any(o.role == "PRINCIPAL_INVESTIGATOR" for o in trial.officials)
    assert trial.sites and any(s.geo for s in trial.sites)
    assert trial.condition_mesh_terms == ["Breast Neoplasms"]
    assert trial.eligibility.criteria and trial.eligibility.criteria.startswith("Inclusion")
    assert trial.references and trial.has_results


def test_missing_age_bound_means_no_bound() -> None:
    trial = trial_from_api_v2(study())
    assert trial.eligibility.minimum_age_days == pytest.approx(50 * 365.25)
    assert trial.eligibility.maximum_age_days is None


@pytest.mark.parametrize(("text", "days"), [
    ("18 Years", 18 * 365.25), ("6 Months", 365.25 / 2), ("2 Weeks", 14), ("30 Days", 30),
    ("1 Year", 365.25), ("N/A", None), (None, None), ("", None),
])
def test_ages(text: str | None, days: float | None) -> None:
    assert age_to_days(text) == (pytest.approx(days) if days is not None else None)


@pytest.mark.parametrize(("text", "iso"), [
    ("2021-03", "2021-03"), ("2021", "2021"), ("2021-03-05", "2021-03-05"),
    ("March 2021", "2021-03"), ("March 5, 2021", "2021-03-05"), ("Sep 2019", "2019-09"),
])
def test_partial_dates_keep_their_precision(text: str, iso: str) -> None:
    assert parse_partial_date(text) == iso
    assert sort_key(iso) is not None


@pytest.mark.parametrize("text", ["2021-13", "2021-02-30", "soon", "0001-01", "March 40, 2020"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(PartialDateError):
        parse_partial_date(text)


BAD = [
    ("missing nctId", {"protocolSection": {"identificationModule": {"briefTitle": "x"}}},
     "missing nctId"),
    ("malformed nctId", study("NCT123"), "malformed nctId"),
    ("not an object", ["a"], "expected a study object"),
    ("conditions not a list", with_module(study(), "conditionsModule", conditions="Osteoporosis"),
     "expected a list"),
    ("unknown status", with_module(study(), "statusModule", overallStatus="MAYBE"),
     "unknown value 'MAYBE'"),
    ("unknown phase", with_module(study(), "designModule", phases=["PHASE9"]),
     "unknown value 'PHASE9'"),
    ("absurd age", with_module(study(), "eligibilityModule", minimumAge="400 Years"),
     "absurd age"),
    ("inverted ages", with_module(study(), "eligibilityModule", minimumAge="80 Years",
                                  maximumAge="18 Years"), "exceeds maximum"),
    ("negative enrollment", with_module(study(), "designModule",
                                        enrollmentInfo={"count": -3}), "whole number"),
    ("title is a number list", with_module(study(), "identificationModule",
                                           nctId="NCT09990001", briefTitle=[1, 2]),
     "expected text"),
    ("bad geo", with_module(study(), "contactsLocationsModule",
                            locations=[{"city": "X", "geoPoint": {"lat": "north", "lon": 1}}]),
     "numeric lat"),
    ("out of range geo", with_module(study(), "contactsLocationsModule",
                                     locations=[{"city": "X", "geoPoint": {"lat": 99, "lon": 1}}]),
     "sites"),
    ("bad date", with_module(study(), "statusModule", startDateStruct={"date": "someday"}),
     "unreadable date"),
]


@pytest.mark.parametrize(("case", "payload", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_records_say_why(case: str, payload: object, reason: str) -> None:
    with pytest.raises(RecordError) as info:
        trial_from_api_v2(payload)
    assert reason in info.value.reason
    if case not in {"missing nctId", "malformed nctId", "not an object"}:
        assert info.value.nct_id == "NCT09990001"
