"""What the search index needs from one stored trial, read from its stored JSON document.

The index is built from ``trials.document`` (the normalized :class:`Trial` as JSON), which
is byte-identical on every backend; that is what makes search results backend-independent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from trialscout.registry.partial_dates import sort_key
from trialscout.search.analysis import fold
from trialscout.search.places import place_names


@dataclass(frozen=True)
class SiteDoc:
    position: int
    status: str | None
    country: str | None
    state: str | None
    city: str | None
    lat: float | None
    lon: float | None


@dataclass
class SearchDoc:
    """One trial as the index sees it: weighted text chunks plus filterable attributes."""

    nct_id: str
    chunks: list[tuple[str, str]] = field(default_factory=list)
    status: str | None = None
    study_type: str | None = None
    phases: list[str] = field(default_factory=list)
    sex: str = "ALL"
    min_age_days: float | None = None
    max_age_days: float | None = None
    healthy_volunteers: bool | None = None
    has_results: bool = False
    start_day: int | None = None
    update_day: int | None = None
    conditions: list[str] = field(default_factory=list)
    condition_match: list[str] = field(default_factory=list)
    interventions: list[str] = field(default_factory=list)
    intervention_match: list[str] = field(default_factory=list)
    sponsors: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    sites: list[SiteDoc] = field(default_factory=list)


def _day(text: Any) -> int | None:
    if not text:
        return None
    try:
        value = sort_key(str(text))
    except ValueError:
        return None
    return value.toordinal() if value else None


def canonical_country(name: str | None) -> str | None:
    if not name or not name.strip():
        return None
    return place_names().country_name(name) or " ".join(name.split())


def canonical_state(state: str | None, country: str | None) -> str | None:
    if not state or not state.strip():
        return None
    if country == "United States":
        return place_names().us_state_name(state) or " ".join(state.split())
    return " ".join(state.split())


def _strings(values: Any) -> list[str]:
    return [str(v).strip() for v in values or [] if v is not None and str(v).strip()]


def search_doc(document: str | bytes | dict[str, Any]) -> SearchDoc:
    """Build the index view of one trial from its stored JSON (or an already parsed dict)."""
    d: dict[str, Any] = document if isinstance(document, dict) else orjson.loads(document)
    elig = d.get("eligibility") or {}
    dates = d.get("dates") or {}
    interventions = d.get("interventions") or []
    organizations = d.get("organizations") or []
    intervention_names = _strings(i.get("name") for i in interventions)
    other_names = _strings(n for i in interventions for n in i.get("other_names") or [])
    sponsors = _strings(o.get("name") for o in organizations)
    ids = [d["nct_id"], d.get("org_study_id"), d.get("acronym")]
    ids += [s.get("id") for s in d.get("secondary_ids") or []]
    chunks: list[tuple[str, str]] = []

    def add(name: str, values: list[str]) -> None:
        chunks.extend((name, v) for v in values if v)

    add("ids", _strings(ids))
    add("brief_title", _strings([d.get("brief_title")]))
    add("official_title", _strings([d.get("official_title")]))
    add("conditions", _strings(d.get("conditions")))
    add("keywords", _strings(d.get("keywords")))
    add("condition_mesh", _strings(d.get("condition_mesh_terms")))
    add("interventions", intervention_names + other_names)
    add("intervention_mesh", _strings(d.get("intervention_mesh_terms")))
    add("brief_summary", _strings([d.get("brief_summary")]))
    add("detailed_description", _strings([d.get("detailed_description")]))
    add("eligibility_criteria", _strings([elig.get("criteria")]))
    add("sponsor", sponsors)
    sites = []
    for position, s in enumerate(d.get("sites") or []):
        country = canonical_country(s.get("country"))
        geo = s.get("geo") or {}
        city = s.get("city")
        sites.append(SiteDoc(
            position=position,
            status=s.get("status") or None,
            country=country,
            state=canonical_state(s.get("state"), country),
            city=" ".join(city.split()) if city and city.strip() else None,
            lat=geo.get("lat"), lon=geo.get("lon"),
        ))
    countries = list(dict.fromkeys(s.country for s in sites if s.country))
    return SearchDoc(
        nct_id=d["nct_id"],
        chunks=chunks,
        status=d.get("overall_status"),
        study_type=d.get("study_type"),
        phases=_strings(d.get("phases")),
        sex=(elig.get("sex") or "ALL").upper(),
        min_age_days=elig.get("minimum_age_days"),
        max_age_days=elig.get("maximum_age_days"),
        healthy_volunteers=elig.get("healthy_volunteers"),
        has_results=bool(d.get("has_results")),
        start_day=_day(dates.get("start")),
        update_day=_day(dates.get("last_update")),
        conditions=_strings(d.get("conditions")),
        condition_match=_strings(d.get("conditions")) + _strings(d.get("condition_mesh_terms")),
        interventions=intervention_names,
        intervention_match=intervention_names + other_names
        + _strings(d.get("intervention_mesh_terms")),
        sponsors=sponsors,
        countries=countries,
        sites=sites,
    )


def value_key(text: str) -> str:
    """The key that groups facet values: case-, accent- and spacing-insensitive."""
    return " ".join(fold(text).split())
