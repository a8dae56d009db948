"""The search boundary: what a caller asks for and what it gets back.

The CLI, the web pages and the JSON API all speak these models, so they cannot drift.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SortOrder = Literal["relevance", "last_update", "start_date", "distance"]
DistanceUnit = Literal["km", "mi"]
MatchMode = Literal["auto", "all", "any"]


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=10_000, description="Query: words, \"phrases\", "
                   "AND / OR / NOT, prefix*; synonyms and abbreviations are expanded.")
    status: list[str] = Field(default_factory=list, description="Overall status values; "
                              "RECRUITING does not include NOT_YET_RECRUITING.")
    site_status: list[str] = Field(default_factory=list)
    phase: list[str] = Field(default_factory=list)
    study_type: list[str] = Field(default_factory=list)
    age: float | None = Field(default=None, ge=0, le=130, description="Patient age in years.")
    sex: Literal["FEMALE", "MALE"] | None = None
    healthy_volunteers: bool | None = None
    condition: str | None = None
    intervention: str | None = None
    sponsor: str | None = None
    country: str | None = None
    state: str | None = None
    city: str | None = None
    started_after: date | None = None
    updated_after: date | None = None
    has_results: bool | None = None
    near: str | None = Field(default=None, max_length=200,
                             description="Place name resolved offline, or 'lat,lon'.")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius: float | None = Field(default=None, gt=0, le=20_000)
    unit: DistanceUnit = "km"
    sort: SortOrder = "relevance"
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=20, ge=1, le=100)
    facets: bool = True
    match: MatchMode = Field(
        default="auto", description="How plain words combine: 'all' must match, 'any' may "
        "match (free text such as a patient note, ranked by BM25), 'auto' picks 'any' for "
        "long texts without operators.")


class NearestSite(BaseModel):
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    status: str | None = None
    distance_km: float
    distance: float
    unit: DistanceUnit = "km"


class SearchHit(BaseModel):
    nct_id: str
    title: str
    overall_status: str | None = None
    phases: list[str] = Field(default_factory=list)
    study_type: str | None = None
    conditions: list[str] = Field(default_factory=list)
    interventions: list[str] = Field(default_factory=list)
    lead_sponsor: str | None = None
    last_update: str | None = None
    start_date: str | None = None
    score: float | None = None
    nearest_site: NearestSite | None = None


class FacetCount(BaseModel):
    value: str
    count: int


class ResolvedPlace(BaseModel):
    name: str
    lat: float
    lon: float


class SearchResponse(BaseModel):
    request: SearchRequest
    total: int
    page: int
    page_size: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetCount]] = Field(default_factory=dict)
    origin: ResolvedPlace | None = None
    suggestion: str | None = Field(
        default=None, description="When nothing matched: a corrected query (from the "
        "index's own words) that finds trials, for a \"did you mean\".")


class ConditionCount(BaseModel):
    condition: str
    count: int
