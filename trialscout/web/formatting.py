"""Filters and URL helpers the templates use; plain functions, so tests can call them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request

from trialscout.registry.enums import PHASE_LABELS, STATUS_LABELS
from trialscout.search.models import SearchRequest

_STATUS_TONES = {
    "RECRUITING": "go", "ENROLLING_BY_INVITATION": "go", "AVAILABLE": "go",
    "NOT_YET_RECRUITING": "soon", "ACTIVE_NOT_RECRUITING": "wait",
    "TEMPORARILY_NOT_AVAILABLE": "wait", "SUSPENDED": "stop", "TERMINATED": "stop",
    "WITHDRAWN": "stop", "NO_LONGER_AVAILABLE": "stop", "WITHHELD": "stop",
}
_LABELS = {**STATUS_LABELS, **PHASE_LABELS, "ALL": "All", "FEMALE": "Female", "MALE": "Male",
           "LEAD_SPONSOR": "Lead sponsor", "COLLABORATOR": "Collaborator",
           "PRINCIPAL_INVESTIGATOR": "Principal investigator", "NA": "Not applicable"}


def label(value: object) -> str:
    """'ACTIVE_NOT_RECRUITING' -> 'Active, not recruiting'; 'SINGLE_GROUP' -> 'Single group'."""
    if value is None:
        return ""
    text = str(value)
    if text in _LABELS:
        return _LABELS[text]
    if text.isupper() or "_" in text:
        words = text.replace("_", " ").lower()
        return words[:1].upper() + words[1:]
    return text


def status_tone(value: str | None) -> str:
    return _STATUS_TONES.get(value or "", "done")


def fmt_date(value: object) -> str:
    """Partial ISO dates at their own precision: '2023-09-12' -> '12 Sep 2023'."""
    if value is None:
        return ""
    text = str(value)
    try:
        if len(text) == 10:
            return date.fromisoformat(text).strftime("%-d %b %Y")
        if len(text) == 7:
            return date.fromisoformat(text + "-01").strftime("%b %Y")
    except ValueError:
        return text
    return text


def fmt_distance(value: float | None, unit: str = "km") -> str:
    if value is None:
        return ""
    shown = f"{value:.0f}" if value >= 10 else f"{value:.1f}"
    return f"{shown} {'mi' if unit == 'mi' else 'km'}"


def url_with(request: Request, path: str | None = None, *, drop: Iterable[str] | None = None,
             **changes: Any) -> str:
    """The current URL with some query parameters replaced, added or removed.

    A value of None removes the parameter; a list sets several values.
    """
    removed = set(drop or ()) | set(changes)
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in removed and v]
    for key, value in changes.items():
        if value is None or value == "":
            continue
        if isinstance(value, list | tuple):
            items.extend((key, str(v)) for v in value)
        else:
            items.append((key, str(value)))
    target = request.url.path if path is None else path
    return f"{target}?{urlencode(items)}" if items else target


def pathquote(value: object) -> str:
    """Quote text for one URL path segment ('HIV/AIDS' -> 'HIV%2FAIDS')."""
    return quote(str(value), safe="")


PLACE_PARAMS = ("near", "lat", "lon", "unit")


def place_href(request: Request, path: str) -> str:
    """``path`` carrying only the current page's place (near, lat, lon, unit), if any."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k in PLACE_PARAMS and v]
    return f"{path}?{urlencode(items)}" if items else path


def trial_href(nct_id: str, search: SearchRequest | None = None) -> str:
    """Link to a trial page, carrying the search's place so sites show distances."""
    if search is not None and search.near:
        return f"/trials/{nct_id}?{urlencode({'near': search.near, 'unit': search.unit})}"
    if search is not None and search.lat is not None and search.lon is not None:
        return (f"/trials/{nct_id}?"
                f"{urlencode({'lat': search.lat, 'lon': search.lon, 'unit': search.unit})}")
    return f"/trials/{nct_id}"
