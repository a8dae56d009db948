"""Turn search facets into filter controls: checkboxes for the multi-valued filters
(status, phase, study type) and links for the single-valued ones (condition, country ...)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from trialscout.search.models import FacetCount, SearchRequest
from trialscout.web.formatting import label, url_with

# facet name as the search engine reports it -> (request parameter, heading, multi-valued)
FACETS: dict[str, tuple[str, str, bool]] = {
    "status": ("status", "Recruitment status", True),
    "overall_status": ("status", "Recruitment status", True),
    "phase": ("phase", "Phase", True),
    "phases": ("phase", "Phase", True),
    "study_type": ("study_type", "Study type", True),
    "condition": ("condition", "Condition", False),
    "conditions": ("condition", "Condition", False),
    "intervention": ("intervention", "Intervention", False),
    "interventions": ("intervention", "Intervention", False),
    "country": ("country", "Country", False),
    "countries": ("country", "Country", False),
    "sponsor": ("sponsor", "Sponsor", False),
    "sponsors": ("sponsor", "Sponsor", False),
}
ORDER = ("status", "phase", "study_type", "condition", "intervention", "country", "sponsor")
SINGLE_LIMIT = 10


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool
    href: str


@dataclass
class FacetGroup:
    param: str
    title: str
    multi: bool
    options: list[FacetOption] = field(default_factory=list)
    active: str | None = None
    clear_href: str | None = None


def facet_groups(request: Request, search: SearchRequest,
                 facets: dict[str, list[FacetCount]]) -> list[FacetGroup]:
    groups: dict[str, FacetGroup] = {}
    for name, counts in facets.items():
        if name not in FACETS:
            continue
        param, title, multi = FACETS[name]
        if param in groups:
            continue
        current = getattr(search, param)
        selected = set(current) if multi else ({current} if current else set())
        group = FacetGroup(param=param, title=title, multi=multi)
        shown = counts if multi else counts[:SINGLE_LIMIT]
        for item in shown:
            group.options.append(FacetOption(
                value=item.value, label=label(item.value) if multi else item.value,
                count=item.count, selected=item.value in selected,
                href=url_with(request, page=None, **{param: item.value})))
        if multi:
            seen = {o.value for o in group.options}
            group.options.extend(FacetOption(value=v, label=label(v), count=0, selected=True,
                                             href="") for v in sorted(selected - seen))
        elif current:
            group.active = current
            group.clear_href = url_with(request, page=None, **{param: None})
        groups[param] = group
    for param in ("condition", "intervention", "country", "sponsor"):
        current = getattr(search, param)
        if current and param not in groups:
            title = next(t for p, t, _ in FACETS.values() if p == param)
            groups[param] = FacetGroup(param=param, title=title, multi=False, active=current,
                                       clear_href=url_with(request, page=None, **{param: None}))
    return [groups[p] for p in ORDER if p in groups]


HIDDEN_PARAMS = ("site_status", "state", "city", "started_after", "updated_after",
                 "has_results", "lat", "lon", "page_size")


def hidden_params(search: SearchRequest) -> list[tuple[str, str]]:
    """Parameters the search form has no control for, kept across a resubmit."""
    defaults = SearchRequest()
    out: list[tuple[str, str]] = []
    for name in HIDDEN_PARAMS:
        value = getattr(search, name)
        if value is None or value == getattr(defaults, name) or value == []:
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            text = str(v).lower() if isinstance(v, bool) else str(v)
            out.append((name, text))
    return out
