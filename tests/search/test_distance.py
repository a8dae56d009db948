"""Places, distances, radius and the nearest matching site."""

from __future__ import annotations

import pytest

from tests.search.helpers import BOSTON, LONDON, ids
from trialscout.app import TrialScout
from trialscout.search.errors import SearchQueryError, UnknownPlaceError
from trialscout.search.models import SearchRequest
from trialscout.search.places import KM_PER_MILE, gazetteer, haversine_km


@pytest.mark.parametrize(("place", "lat", "lon"), [
    ("Boston", 42.36, -71.06), ("Boston, MA", 42.36, -71.06),
    ("boston, massachusetts, usa", 42.36, -71.06), ("London, UK", 51.51, -0.13),
    ("Paris, France", 48.85, 2.35), ("Toronto, CA", 43.71, -79.40),
    ("42.36,-71.06", 42.36, -71.06), ("München", 48.14, 11.58),
])
def test_places_resolve(place: str, lat: float, lon: float) -> None:
    found = gazetteer().resolve(place)
    assert found.lat == pytest.approx(lat, abs=0.05)
    assert found.lon == pytest.approx(lon, abs=0.05)


def test_states_and_countries_resolve_inside_themselves() -> None:
    texas = gazetteer().resolve("Texas")
    assert 26 < texas.lat < 36 and -106 < texas.lon < -93
    france = gazetteer().resolve("France")
    assert 42 < france.lat < 51 and -5 < france.lon < 8
    assert "Massachusetts" in gazetteer().resolve("Massachusetts").name


def test_unknown_place_lists_close_matches() -> None:
    with pytest.raises(UnknownPlaceError) as err:
        gazetteer().resolve("Bostn")
    assert any(s.startswith("Boston") for s in err.value.suggestions)
    assert "Did you mean" in str(err.value)
    with pytest.raises(SearchQueryError):
        gazetteer().resolve("95,200")


def test_haversine() -> None:
    assert float(haversine_km(*BOSTON, *BOSTON)) == 0.0
    assert float(haversine_km(*BOSTON, *LONDON)) == pytest.approx(5265, rel=0.01)


def test_radius_in_km_and_miles(world: TrialScout) -> None:
    near = {"NCT00000101", "NCT00000104", "NCT00000106"}
    assert set(ids(world, near="Boston, MA", radius=20)) == near
    assert set(ids(world, near="Boston, MA", radius=20, unit="mi")) == near
    assert set(ids(world, near="Boston, MA", radius=400, unit="mi")) == near | {"NCT00000102"}
    assert set(ids(world, near="Boston, MA", radius=250)) == near
    assert set(ids(world, near="Boston, MA", radius=350)) == near | {"NCT00000102"}


def test_nearest_site_and_distance_units(world: TrialScout) -> None:
    km = world.search(SearchRequest(q="denosumab", near="London, UK"))
    mi = world.search(SearchRequest(q="denosumab", near="London, UK", unit="mi"))
    hit_km = next(h for h in km.hits if h.nct_id == "NCT00000101")
    hit_mi = next(h for h in mi.hits if h.nct_id == "NCT00000101")
    assert hit_km.nearest_site is not None and hit_km.nearest_site.city == "London"
    assert hit_mi.nearest_site is not None
    assert hit_mi.nearest_site.distance == pytest.approx(hit_km.nearest_site.distance_km
                                                         / KM_PER_MILE, abs=0.01)
    assert hit_mi.nearest_site.unit == "mi"
    assert km.origin is not None and "London" in km.origin.name


def test_nearest_site_respects_site_status(world: TrialScout) -> None:
    response = world.search(SearchRequest(q="denosumab", near="London, UK",
                                          site_status=["RECRUITING"]))
    hit = next(h for h in response.hits if h.nct_id == "NCT00000101")
    assert hit.nearest_site is not None and hit.nearest_site.city == "Boston"
    assert hit.nearest_site.status == "RECRUITING"


def test_sort_by_distance_puts_trials_without_sites_last(world: TrialScout) -> None:
    order = ids(world, near="Paris, France", sort="distance")
    assert order[0] == "NCT00000103"
    assert set(order[-2:]) == {"NCT00000107", "NCT00000108"}
    hits = world.search(SearchRequest(near="Paris, France", sort="distance",
                                      page_size=100)).hits
    distances = [h.nearest_site.distance_km for h in hits if h.nearest_site]
    assert distances == sorted(distances)


def test_distance_needs_a_place(world: TrialScout) -> None:
    with pytest.raises(SearchQueryError, match="place"):
        world.search(SearchRequest(sort="distance"))
    with pytest.raises(SearchQueryError, match="radius"):
        world.search(SearchRequest(radius=10))
    with pytest.raises(SearchQueryError, match="lat"):
        world.search(SearchRequest(lat=10))
    assert set(ids(world, lat=BOSTON[0], lon=BOSTON[1], radius=5)) == {
        "NCT00000101", "NCT00000104", "NCT00000106"}
