"""Request filters as boolean masks over the docs (and over the sites) of an IndexView.

Site-level filters (site status, country, state, city and distance) apply to one and the
same site: "recruiting in Boston" needs a site that is recruiting *and* in Boston. Trial
ages have no bound on a side the registry leaves empty; a trial open to ALL sexes matches
either sex. Every unknown vocabulary value is a :class:`SearchQueryError` naming the valid
ones, so a typo never silently returns nothing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from trialscout.registry.durations import years_to_days
from trialscout.registry.enums import OVERALL_STATUSES, PHASES, STUDY_TYPES, legacy_token
from trialscout.search.documents import canonical_country, canonical_state, value_key
from trialscout.search.errors import SearchQueryError
from trialscout.search.models import SearchRequest
from trialscout.search.places import place_names
from trialscout.search.segment import NO_DAY, SEXES
from trialscout.search.view import IndexView

ValueMatcher = Callable[[IndexView, str, str], np.ndarray]
"""``(view, dict_name, text) -> value ids`` (see SearchEngine.match_values)."""

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}
_AGE_TOLERANCE_DAYS = 1e-6


def normalize_status(text: str) -> str:
    token = legacy_token(text)
    if token not in OVERALL_STATUSES:
        raise SearchQueryError(f"unknown status {text!r}; use one of: "
                               f"{', '.join(sorted(OVERALL_STATUSES))}")
    return token


def normalize_phase(text: str) -> str:
    cleaned = re.sub(r"[\s_\-/]+", " ", text.strip().lower())
    if cleaned in {"na", "n a", "not applicable", "none"}:
        return "NA"
    early = cleaned.startswith("early")
    cleaned = cleaned.removeprefix("early").strip().removeprefix("phase").strip()
    number = _ROMAN.get(cleaned, cleaned)
    token = ("EARLY_PHASE" if early else "PHASE") + number
    if token not in PHASES:
        raise SearchQueryError(f"unknown phase {text!r}; use one of: "
                               f"{', '.join(sorted(PHASES))}")
    return token


def normalize_study_type(text: str) -> str:
    token = legacy_token(text)
    if token not in STUDY_TYPES:
        raise SearchQueryError(f"unknown study type {text!r}; use one of: "
                               f"{', '.join(sorted(STUDY_TYPES))}")
    return token


def _ids(view: IndexView, dict_name: str, keys: list[str]) -> np.ndarray:
    vocab = view.dicts[dict_name]
    found = [vocab.get(value_key(k)) for k in keys]
    return np.asarray([i for i in found if i is not None], dtype=np.int64)


@dataclass
class Filters:
    """Masks for one request; None means "no restriction" (cheaper than all-True)."""

    docs: np.ndarray | None
    sites: np.ndarray | None
    site_level: bool


def site_level_requested(request: SearchRequest) -> bool:
    return bool(request.site_status or request.country or request.state or request.city)


_MASK_CACHE = 64


def _cached(view: IndexView, key: tuple[object, ...], compute: Callable[[], np.ndarray]
            ) -> np.ndarray:
    """One filter's mask, kept on the view: popular filters (recruiting, an age, a sex)
    repeat across requests and the view is immutable, so the mask cannot go stale."""
    full = ("mask", *key)
    found = view._cache.get(full)
    if isinstance(found, np.ndarray):
        return found
    mask = compute()
    masks = [k for k in view._cache if isinstance(k, tuple) and k[:1] == ("mask",)]
    if len(masks) >= _MASK_CACHE:
        for k in masks:
            view._cache.pop(k, None)
    view._cache[full] = mask
    return mask


def build_filters(view: IndexView, request: SearchRequest,
                  match_values: ValueMatcher) -> Filters:
    n = view.n
    mask: np.ndarray | None = None

    def narrow(key: tuple[object, ...], compute: Callable[[], np.ndarray]) -> None:
        nonlocal mask
        more = _cached(view, key, compute)
        mask = more if mask is None else (mask & more)

    s = view.scalars
    if request.status:
        codes = sorted({normalize_status(v) for v in request.status})
        narrow(("status", *codes),
               lambda: np.isin(s["status"], _ids(view, "status", codes)))
    if request.study_type:
        types = sorted({normalize_study_type(v) for v in request.study_type})
        narrow(("study_type", *types),
               lambda: np.isin(s["study_type"], _ids(view, "study_type", types)))
    if request.phase:
        phases = sorted({normalize_phase(v) for v in request.phase})
        narrow(("phase", *phases),
               lambda: view.value_docs("phase", _ids(view, "phase", phases)))
    if request.age is not None:
        days = years_to_days(request.age)

        def by_age() -> np.ndarray:
            low, high = s["min_age"], s["max_age"]
            with np.errstate(invalid="ignore"):
                return ((np.isnan(low) | (low <= days + _AGE_TOLERANCE_DAYS))
                        & (np.isnan(high) | (high >= days - _AGE_TOLERANCE_DAYS)))

        narrow(("age", days), by_age)
    if request.sex is not None:
        sex = request.sex
        narrow(("sex", sex), lambda: np.isin(s["sex"], [SEXES.index("ALL"), SEXES.index(sex)]))
    if request.healthy_volunteers is not None:
        hv = int(request.healthy_volunteers)
        narrow(("hv", hv), lambda: s["hv"] == hv)
    if request.has_results is not None:
        results = request.has_results
        narrow(("has_results", results), lambda: s["has_results"] == results)
    if request.started_after is not None:
        start = request.started_after.toordinal()
        narrow(("started_after", start),
               lambda: (s["start_day"] != NO_DAY) & (s["start_day"] >= start))
    if request.updated_after is not None:
        updated = request.updated_after.toordinal()
        narrow(("updated_after", updated),
               lambda: (s["update_day"] != NO_DAY) & (s["update_day"] >= updated))
    for field, dict_name in (("condition", "condition_match"),
                             ("intervention", "intervention_match"), ("sponsor", "sponsor")):
        text = getattr(request, field)
        if text is not None and text.strip():
            narrow((dict_name, text), partial(_value_mask, view, dict_name, text,
                                              match_values))
    sites: np.ndarray | None = None
    site_level = site_level_requested(request)
    if site_level:
        key = ("sites", tuple(sorted(request.site_status)), request.country, request.state,
               request.city)
        sites = _cached(view, key, lambda: _site_mask(view, request))

        def with_site() -> np.ndarray:
            has_site = np.zeros(n, dtype=bool)
            assert sites is not None
            has_site[view.sites["site_doc"][sites]] = True
            return has_site

        narrow(("has_site", *key[1:]), with_site)
    return Filters(mask, sites, site_level)


def _value_mask(view: IndexView, dict_name: str, text: str, match_values: ValueMatcher
                ) -> np.ndarray:
    return view.value_docs(dict_name, match_values(view, dict_name, text))


def _site_mask(view: IndexView, request: SearchRequest) -> np.ndarray:
    st = view.sites
    mask = np.ones(len(st["site_doc"]), dtype=bool)
    if request.site_status:
        codes = sorted({normalize_status(v) for v in request.site_status})
        mask &= np.isin(st["site_status"], _ids(view, "site_status", codes))
    country_name: str | None = None
    if request.country and request.country.strip():
        country_name = _country(view, request.country)
        mask &= np.isin(st["site_country"], _ids(view, "country", [country_name]))
    if request.state and request.state.strip():
        state = canonical_state(request.state, country_name or _us_if_state(request.state))
        mask &= np.isin(st["site_state"], _ids(view, "state", [state or request.state]))
    if request.city and request.city.strip():
        mask &= np.isin(st["site_city"], _ids(view, "city", [request.city]))
    return mask


def _us_if_state(state: str) -> str | None:
    return "United States" if place_names().us_state_name(state) else None


def _country(view: IndexView, text: str) -> str:
    canonical = canonical_country(text) or text
    if view.dicts["country"].get(value_key(canonical)) is not None:
        return canonical
    if place_names().country_code(text) is not None:
        return canonical
    known = sorted({view.dicts["country"].label(i) for i in range(len(view.dicts["country"]))}
                   | set(place_names().country_names.values()))
    close = difflib.get_close_matches(text.strip(), known, n=5, cutoff=0.6)
    hint = f" Did you mean: {'; '.join(close)}?" if close else ""
    raise SearchQueryError(f"unknown country {text!r}.{hint}")
