"""Places, distances, radius and the nearest matching site."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from tests.search.helpers import BOSTON, LONDON, ids, load, make_study, site
from trialscout.app import TrialScout, create_app
from trialscout.search.distance import bounding_box, nearest, resolve_origin
from trialscout.search.errors import SearchQueryError, UnknownPlaceError
from trialscout.search.filters import build_filters
from trialscout.search.models import ResolvedPlace, SearchRequest
from trialscout.search.places import KM_PER_MILE, gazetteer, haversine_km
from trialscout.search.view import IndexView


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


# --- the radius path measures only the sites in the radius's bounding box ---------------
EDGE_ORIGINS = [BOSTON, LONDON, (-17.8, 178.4), (-17.8, -179.6), (71.0, 25.0), (89.5, 0.0),
                (-89.0, 45.0), (0.0, 0.0), (35.7, 139.7)]


@pytest.mark.parametrize("radius", [1.0, 50.0, 500.0, 2_000.0, 4_999.0])
@pytest.mark.parametrize("origin", EDGE_ORIGINS)
def test_bounding_box_holds_every_point_within_the_radius(origin: tuple[float, float],
                                                          radius: float) -> None:
    rng = np.random.default_rng(7)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 20_000)))
    lon = rng.uniform(-180, 180, 20_000)
    # and points packed around the origin, where the box edge matters
    lat = np.r_[lat, np.clip(origin[0] + rng.normal(0, radius / 80, 5_000), -90, 90)]
    lon = np.r_[lon, (origin[1] + rng.normal(0, radius / 60, 5_000) + 180) % 360 - 180]
    inside = haversine_km(origin[0], origin[1], lat, lon) <= radius
    low, high, dlon = bounding_box(origin[0], origin[1], radius)
    in_box = (lat >= low) & (lat <= high)
    if dlon is not None:
        in_box &= np.abs((lon - origin[1] + 540) % 360 - 180) <= dlon
    assert inside.any()
    assert not (inside & ~in_box).any()


def _world_sites(count: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(11)
    studies = []
    for i in range(count):
        sites = []
        for j in range(int(rng.integers(0, 6))):
            if j == 0 and i % 3 == 0:
                la, lo = EDGE_ORIGINS[i % len(EDGE_ORIGINS)]
                la, lo = la + float(rng.normal(0, 2)), lo + float(rng.normal(0, 3))
                la, lo = max(-90.0, min(90.0, la)), (lo + 180) % 360 - 180
            else:
                la = float(np.degrees(np.arcsin(rng.uniform(-1, 1))))
                lo = float(rng.uniform(-180, 180))
            sites.append(site(f"City {i}-{j}", "Nowhere", la, lo,
                              status="RECRUITING" if j % 2 == 0 else "COMPLETED"))
        if i % 7 == 0:
            sites.append(site("Unplaced", "Nowhere", None, None))
        studies.append(make_study(f"NCT0099{i:04d}", f"Geo study {i}", sites=sites))
    return studies


@pytest.fixture(scope="module")
def globe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialScout]:
    app = create_app(database_url="sqlite://")
    load(app, _world_sites(400), tmp_path_factory.mktemp("globe"))
    yield app
    app.close()


@pytest.mark.parametrize("site_status", [[], ["RECRUITING"]])
@pytest.mark.parametrize("radius", [10.0, 300.0, 1_500.0])
@pytest.mark.parametrize("origin", EDGE_ORIGINS)
def test_radius_search_equals_measuring_every_site(globe: TrialScout,
                                                   origin: tuple[float, float],
                                                   radius: float,
                                                   site_status: list[str]) -> None:
    engine = globe.search_engine
    view = engine.view()
    request = SearchRequest(lat=origin[0], lon=origin[1], radius=radius,
                            site_status=site_status)
    filters = build_filters(view, request, engine.match_values)
    docs = np.flatnonzero(view.live if filters.docs is None else view.live & filters.docs)
    place = resolve_origin(request)
    assert place is not None
    dist, row, ok = nearest(view, docs, filters, place, radius)
    all_dist, all_row, all_ok = nearest(view, docs, filters, place, None)
    within = all_dist <= radius
    assert np.array_equal(dist <= radius, within)
    assert np.array_equal(dist[within], all_dist[within])
    assert np.array_equal(row[within], all_row[within])
    assert np.array_equal(ok, all_ok & _within(view, place, radius))
    # and the public search agrees: the same trials, each with its nearest site
    response = globe.search(request.model_copy(update={"page_size": 1000}))
    expected = {view.nct_id(int(d)) for d in docs[within]}
    assert {h.nct_id for h in response.hits} == expected
    for hit in response.hits:
        assert hit.nearest_site is not None and hit.nearest_site.distance_km <= radius


def _within(view: IndexView, place: ResolvedPlace, radius: float) -> np.ndarray:
    st = view.sites
    d = haversine_km(place.lat, place.lon, st["site_lat"], st["site_lon"])
    return np.asarray(np.nan_to_num(d, nan=np.inf) <= radius)
