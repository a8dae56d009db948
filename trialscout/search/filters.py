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


def build_filters(view: IndexView, request: SearchRequest,
                  match_values: ValueMatcher) -> Filters:
    n = view.n
    mask: np.ndarray | None = None

    def narrow(more: np.ndarray) -> None:
        nonlocal mask
        mask = more if mask is None else (mask & more)

    s = view.scalars
    if request.status:
        codes = sorted({normalize_status(v) for v in request.status})
        narrow(np.isin(s["status"], _ids(view, "status", codes)))
    if request.study_type:
        codes = sorted({normalize_study_type(v) for v in request.study_type})
        narrow(np.isin(s["study_type"], _ids(view, "study_type", codes)))
    if request.phase:
        codes = sorted({normalize_phase(v) for v in request.phase})
        narrow(view.value_docs("phase", _ids(view, "phase", codes)))
    if request.age is not None:
        days = years_to_days(request.age)
        low, high = s["min_age"], s["max_age"]
        with np.errstate(invalid="ignore"):
            narrow((np.isnan(low) | (low <= days + _AGE_TOLERANCE_DAYS))
                   & (np.isnan(high) | (high >= days - _AGE_TOLERANCE_DAYS)))
    if request.sex is not None:
        narrow(np.isin(s["sex"], [SEXES.index("ALL"), SEXES.index(request.sex)]))
    if request.healthy_volunteers is not None:
        narrow(s["hv"] == int(request.healthy_volunteers))
    if request.has_results is not None:
        narrow(s["has_results"] == request.has_results)
    if request.started_after is not None:
        day = request.started_after.toordinal()
        narrow((s["start_day"] != NO_DAY) & (s["start_day"] >= day))
    if request.updated_after is not None:
        day = request.updated_after.toordinal()
        narrow((s["update_day"] != NO_DAY) & (s["update_day"] >= day))
    for field, dict_name in (("condition", "condition_match"),
                             ("intervention", "intervention_match"), ("sponsor", "sponsor")):
        text = getattr(request, field)
        if text is not None and text.strip():
            narrow(view.value_docs(dict_name, match_values(view, dict_name, text)))
    sites: np.ndarray | None = None
    site_level = site_level_requested(request)
    if site_level:
        sites = _site_mask(view, request)
        has_site = np.zeros(n, dtype=bool)
        has_site[view.sites["site_doc"][sites]] = True
        narrow(has_site)
    return Filters(mask, sites, site_level)


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
