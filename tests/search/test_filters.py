"""Every filter, with cases on both sides of each boundary."""

from __future__ import annotations

from datetime import date

import pytest

from tests.search.helpers import ids
from trialscout.app import TrialScout
from trialscout.search.errors import SearchQueryError
from trialscout.search.models import SearchRequest


def test_recruiting_does_not_include_not_yet_recruiting(world: TrialScout) -> None:
    recruiting = set(ids(world, status=["Recruiting"]))
    assert recruiting == {"NCT00000101", "NCT00000102", "NCT00000105", "NCT00000107",
                          "NCT00000108"}
    both = set(ids(world, status=["RECRUITING", "not yet recruiting"]))
    assert both == recruiting | {"NCT00000104"}


def test_site_status_filters_sites(world: TrialScout) -> None:
    assert set(ids(world, site_status=["NOT_YET_RECRUITING"])) == {"NCT00000102",
                                                                   "NCT00000104"}
    assert "NCT00000102" not in ids(world, site_status=["RECRUITING"])


def test_site_filters_apply_to_the_same_site(world: TrialScout) -> None:
    assert "NCT00000101" in ids(world, site_status=["RECRUITING"], country="United States")
    assert "NCT00000101" not in ids(world, site_status=["RECRUITING"], country="UK")
    assert "NCT00000101" in ids(world, site_status=["COMPLETED"], country="UK")


def test_phase_and_study_type(world: TrialScout) -> None:
    assert set(ids(world, phase=["Phase 3"])) == {"NCT00000101", "NCT00000102"}
    assert set(ids(world, phase=["PHASE2"])) == {"NCT00000102"}
    assert ids(world, phase=["early phase 1"]) == []
    assert ids(world, study_type=["Observational"]) == ["NCT00000105"]
    with pytest.raises(SearchQueryError, match="phase"):
        world.search(SearchRequest(phase=["PHASE9"]))
    with pytest.raises(SearchQueryError, match="status"):
        world.search(SearchRequest(status=["recruting"]))


@pytest.mark.parametrize(("age", "expected_in", "expected_out"), [
    (50, {"NCT00000101"}, {"NCT00000103"}),
    (49.9, set(), {"NCT00000101"}),
    (80, {"NCT00000101"}, set()),
    (80.5, set(), {"NCT00000101"}),
    (45, {"NCT00000104"}, set()),
    (46, set(), {"NCT00000104"}),
    (3, {"NCT00000105", "NCT00000107", "NCT00000108"}, {"NCT00000102"}),
    (90, {"NCT00000102", "NCT00000103", "NCT00000107", "NCT00000108"}, {"NCT00000105"}),
])
def test_age_bounds_are_open_when_missing(world: TrialScout, age: float,
                                          expected_in: set[str], expected_out: set[str]
                                          ) -> None:
    found = set(ids(world, age=age))
    assert expected_in <= found
    assert not expected_out & found


def test_sex_all_matches_both(world: TrialScout) -> None:
    female = set(ids(world, sex="FEMALE"))
    male = set(ids(world, sex="MALE"))
    assert "NCT00000102" in female and "NCT00000102" in male
    assert "NCT00000101" in female and "NCT00000101" not in male
    assert "NCT00000103" in male and "NCT00000103" not in female


def test_healthy_volunteers(world: TrialScout) -> None:
    assert ids(world, healthy_volunteers=True) == ["NCT00000104"]
    assert ids(world, healthy_volunteers=False) == ["NCT00000103"]


def test_condition_intervention_sponsor_match_words_and_synonyms(world: TrialScout) -> None:
    assert ids(world, condition="T2D") == ["NCT00000102"]
    assert ids(world, condition="type 2 diabetes") == ["NCT00000102"]
    assert set(ids(world, condition="osteoporosis")) == {"NCT00000101", "NCT00000108"}
    assert set(ids(world, intervention="Prolia")) == {"NCT00000101", "NCT00000108"}
    assert ids(world, intervention="3D mammography") == ["NCT00000106"]
    assert set(ids(world, sponsor="amgen")) == {"NCT00000101", "NCT00000106"}
    assert ids(world, sponsor="Cancer Research Network") == ["NCT00000106"]
    assert ids(world, condition="no such disease") == []


def test_country_state_city(world: TrialScout) -> None:
    us = set(ids(world, country="USA"))
    assert us == {"NCT00000101", "NCT00000102", "NCT00000104", "NCT00000106", "NCT00000107"}
    assert set(ids(world, country="United Kingdom")) == {"NCT00000101", "NCT00000105"}
    assert set(ids(world, state="MA")) == {"NCT00000101", "NCT00000104", "NCT00000106"}
    assert set(ids(world, state="Massachusetts")) == set(ids(world, state="ma"))
    assert ids(world, city="paris") == ["NCT00000103"]
    with pytest.raises(SearchQueryError, match="France"):
        world.search(SearchRequest(country="Frnace"))


def test_dates_and_results(world: TrialScout) -> None:
    assert set(ids(world, started_after=date(2024, 1, 1))) == {"NCT00000104", "NCT00000107"}
    assert "NCT00000108" not in ids(world, started_after=date(1900, 1, 1))
    assert set(ids(world, updated_after=date(2024, 6, 1))) == {"NCT00000104", "NCT00000106",
                                                               "NCT00000107"}
    assert ids(world, has_results=True) == ["NCT00000101"]
    assert "NCT00000101" not in ids(world, has_results=False)


def test_filters_combine_with_the_query(world: TrialScout) -> None:
    assert ids(world, q="cancer", sex="MALE") == ["NCT00000107"]
    assert ids(world, q="cancer", status=["RECRUITING"], age=30) == ["NCT00000107"]
