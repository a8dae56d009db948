"""Distance from a search origin to each trial's nearest site: the origin (coordinates or a
place name), and the nearest site per trial, within a radius through a latitude-sorted
bounding box of the site arrays (cached per index view) or over all sites without one."""

from __future__ import annotations

import math

import numpy as np

from trialscout.search.columns import LATITUDE_KEYS, as_doc_dtype, by_latitude
from trialscout.search.errors import SearchQueryError
from trialscout.search.filters import Filters
from trialscout.search.models import ResolvedPlace, SearchRequest
from trialscout.search.places import EARTH_RADIUS_KM, gazetteer, haversine_km
from trialscout.search.view import IndexView


def resolve_origin(request: SearchRequest) -> ResolvedPlace | None:
    if (request.lat is None) != (request.lon is None):
        raise SearchQueryError("give both lat and lon, or neither")
    if request.lat is not None and request.lon is not None:
        return ResolvedPlace(name=f"{request.lat:g},{request.lon:g}", lat=request.lat,
                             lon=request.lon)
    if request.near is not None and request.near.strip():
        return gazetteer().resolve(request.near)
    return None


def nearest(view: IndexView, docs: np.ndarray, filters: Filters, origin: ResolvedPlace,
             radius_km: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per doc: distance to its nearest matching site (inf if none) and that site's row;
    plus the mask of sites that match every site-level condition including the radius.

    With a radius, only the sites inside the radius's bounding box are measured (see
    :func:`_nearest_within`); without one, every site of the result's docs is. Site arrays
    are sorted by doc, so only the result's own site ranges are read."""
    if radius_km is not None and radius_km < _MAX_BOX_KM:
        return _nearest_within(view, docs, filters, origin, radius_km)
    st = view.sites
    site_doc = st["site_doc"]
    wanted = as_doc_dtype(docs)
    lo = np.searchsorted(site_doc, wanted, side="left")
    hi = np.searchsorted(site_doc, wanted, side="right")
    counts = hi - lo
    total = int(counts.sum())
    rows = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(total)
    usable = np.isfinite(st["site_lat"][rows]) & np.isfinite(st["site_lon"][rows])
    if filters.sites is not None:
        usable &= filters.sites[rows]
    rows = rows[usable]
    dist = haversine_km(origin.lat, origin.lon, st["site_lat"][rows], st["site_lon"][rows])
    site_ok = np.zeros(len(site_doc), dtype=bool)
    site_ok[rows[dist <= radius_km] if radius_km is not None else rows] = True
    return (*_nearest_per_doc(docs, site_doc, rows, dist), site_ok)


def _nearest_per_doc(docs: np.ndarray, site_doc: np.ndarray, rows: np.ndarray,
                     dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``docs`` (sorted), the smallest of the distances ``dist`` of its site
    ``rows`` (in row order) and that site's row; inf and -1 for a doc with none. Equal
    distances go to the first site row."""
    best_dist = np.full(len(docs), np.inf)
    best_row = np.full(len(docs), -1, dtype=np.int64)
    if len(rows):
        sd = site_doc[rows]
        starts = np.flatnonzero(np.r_[True, sd[1:] != sd[:-1]])
        group_min = np.minimum.reduceat(dist, starts)
        sizes = np.diff(np.r_[starts, len(rows)])
        candidates = np.where(dist == np.repeat(group_min, sizes),
                              np.arange(len(rows)), len(rows))
        first = np.minimum.reduceat(candidates, starts)
        idx = np.searchsorted(docs, sd[starts])
        best_dist[idx] = group_min
        best_row[idx] = rows[first]
    return best_dist, best_row


# Past this radius the bounding box would span most of the globe: measure every site.
_MAX_BOX_KM = 5_000.0
_BOX_MARGIN_DEG = 1e-4


def _sites_by_latitude(view: IndexView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Site rows with usable coordinates in latitude order, with their latitudes and
    longitudes (:func:`~trialscout.search.columns.by_latitude`): mapped from the snapshot
    when it saved them, else computed once per view."""
    saved = view.columns or {}
    if all(k in saved for k in LATITUDE_KEYS):
        order, lat, lon = (saved[k] for k in LATITUDE_KEYS)
        return order, lat, lon
    key = "sites_by_latitude"
    cached = view._cache.get(key)
    if isinstance(cached, tuple):
        return cached
    st = view.sites
    result = by_latitude(st["site_lat"], st["site_lon"])
    view._cache[key] = result
    return result


def bounding_box(lat: float, lon: float, radius_km: float
                 ) -> tuple[float, float, float | None]:
    """(lowest latitude, highest latitude, largest longitude difference or None for any)
    that every point within ``radius_km`` of (lat, lon) lies inside, in degrees.

    Great-circle distance is at least the latitude difference; away from the poles, the
    widest longitude difference on the circle is asin(sin r / cos lat) (J. Matuschek,
    "Finding points within a distance of a latitude/longitude using bounding
    coordinates"). A circle that reaches a pole spans every longitude."""
    r = radius_km / EARTH_RADIUS_KM
    r_deg = math.degrees(r)
    low, high = lat - r_deg - _BOX_MARGIN_DEG, lat + r_deg + _BOX_MARGIN_DEG
    if low <= -90.0 or high >= 90.0:
        return max(low, -90.0), min(high, 90.0), None
    ratio = math.sin(r) / math.cos(math.radians(lat))
    if ratio >= 1.0:
        return low, high, None
    return low, high, math.degrees(math.asin(ratio)) + _BOX_MARGIN_DEG


def _nearest_within(view: IndexView, docs: np.ndarray, filters: Filters,
                    origin: ResolvedPlace, radius_km: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`nearest` for a radius, reading only the sites in its bounding box.

    The box comes from the latitude-sorted site rows (one slice) and a longitude test;
    only the sites left are measured. The cost follows the number of sites near the
    origin, not the size of the result or of the store, and the answer is the same as
    measuring every site: a site outside the box is outside the radius."""
    st = view.sites
    site_doc = st["site_doc"]
    order, lats, lons = _sites_by_latitude(view)
    low, high, dlon = bounding_box(origin.lat, origin.lon, radius_km)
    band = slice(np.searchsorted(lats, low, side="left"),
                 np.searchsorted(lats, high, side="right"))
    rows, lons = order[band], lons[band]
    if dlon is not None and len(rows):
        west, east = origin.lon - dlon, origin.lon + dlon
        if west < -180.0:
            keep = (lons >= west + 360.0) | (lons <= east)
        elif east > 180.0:
            keep = (lons >= west) | (lons <= east - 360.0)
        else:
            keep = (lons >= west) & (lons <= east)
        rows = rows[keep]
    # Back to row order, which is doc order (each doc's sites together): a scatter into a
    # mask over the sites is cheaper than sorting a large box.
    in_box = np.zeros(len(site_doc), dtype=bool)
    in_box[rows] = True
    rows = np.flatnonzero(in_box)
    in_result = np.zeros(view.n, dtype=bool)
    in_result[docs] = True
    rows = rows[in_result[site_doc[rows]]]
    if filters.sites is not None:
        rows = rows[filters.sites[rows]]
    dist = haversine_km(origin.lat, origin.lon, st["site_lat"][rows], st["site_lon"][rows])
    inside = dist <= radius_km
    rows, dist = rows[inside], dist[inside]
    site_ok = np.zeros(len(site_doc), dtype=bool)
    site_ok[rows] = True
    return (*_nearest_per_doc(docs, site_doc, rows, dist), site_ok)
