"""Query parameters as validated models. Empty form fields count as "not given".

HTML forms submit every field, empty or not; dropping empty values here lets the same
models serve the pages and the API, and keeps a blank age box from becoming a 422.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trialscout.registry.enums import OVERALL_STATUSES, PHASES, STUDY_TYPES
from trialscout.search.models import SearchRequest
from trialscout.similar.service import DEFAULT_K as SIMILAR_DEFAULT
from trialscout.similar.service import MAX_K as SIMILAR_MAX


def drop_empty(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list):
            value = [v for v in value if v not in ("", None)]
            if not value:
                continue
        elif value in ("", None):
            continue
        out[key] = value
    return out


class EmptyMeansMissing(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        return drop_empty(data)


def _check_members(values: list[str], allowed: frozenset[str], what: str) -> list[str]:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}; one of {', '.join(sorted(allowed))}")
    return list(dict.fromkeys(values))


class SearchQuery(EmptyMeansMissing, SearchRequest):
    """The search request as query parameters (repeat a list parameter for several values)."""

    @field_validator("status", "site_status")
    @classmethod
    def _statuses(cls, values: list[str]) -> list[str]:
        return _check_members(values, OVERALL_STATUSES, "status")

    @field_validator("phase")
    @classmethod
    def _phases(cls, values: list[str]) -> list[str]:
        return _check_members(values, PHASES, "phase")

    @field_validator("study_type")
    @classmethod
    def _study_types(cls, values: list[str]) -> list[str]:
        return _check_members(values, STUDY_TYPES, "study type")

    def to_request(self, **changes: Any) -> SearchRequest:
        return SearchRequest.model_validate({**self.model_dump(), **changes})


class ConditionQuery(EmptyMeansMissing):
    model_config = ConfigDict(extra="forbid")

    letter: str | None = Field(default=None, pattern=r"^([A-Z]|0-9)$",
                               description="First letter (A-Z) or '0-9'.")
    q: str | None = Field(default=None, max_length=200, description="Words in the condition.")
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=100, ge=1, le=500)


class NearQuery(EmptyMeansMissing):
    """Where the visitor is: a place name, or coordinates."""

    model_config = ConfigDict(extra="forbid")

    near: str | None = Field(default=None, max_length=200,
                             description="Place name resolved offline, or 'lat,lon'.")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class PlaceQuery(NearQuery):
    """Where the visitor is, for distances to a trial's sites."""

    unit: Literal["km", "mi"] = "km"


class SimilarQuery(NearQuery):
    """How many similar trials, and where from (adds "12 km away" to each reason)."""

    limit: int = Field(default=SIMILAR_DEFAULT, ge=1, le=SIMILAR_MAX,
                       description="How many similar trials to return.")


class GuideQuery(EmptyMeansMissing):
    """Which page of a guide's trials."""

    model_config = ConfigDict(extra="forbid")

    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=20, ge=1, le=100)
    open_only: bool = Field(default=False, description="Only trials open to people "
                            "(recruiting, not yet recruiting, by invitation).")
    sent: bool = Field(default=False, description="Set by the page's question form after a "
                       "question was received; the page then confirms it.")
