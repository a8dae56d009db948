"""What each page shows, as the models the JSON API returns for the same request."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from trialscout.registry.model import Contact, Trial
from trialscout.search.models import (
    ConditionCount,
    ResolvedPlace,
    SearchHit,
    SearchRequest,
    SearchResponse,
)
from trialscout.sessions.models import Answer, Profile
from trialscout.sessions.selfcheck import Checklist, Verdict


class ResultHit(SearchHit):
    match: Verdict | None = Field(
        default=None, description="This visitor's eligibility verdict for the trial, when "
        "they have answered self-check questions (later also from a patient profile).")


class SearchPage(SearchResponse):
    hits: list[ResultHit]  # type: ignore[assignment]
    error: str | None = Field(default=None, description="Why the query could not run.")
    profile_active: bool = False


class SiteView(BaseModel):
    facility: str | None = None
    status: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    contacts: list[Contact] = Field(default_factory=list)
    distance_km: float | None = None
    distance: float | None = Field(default=None, description="In the requested unit.")
    unit: Literal["km", "mi"] = "km"


class PlainSummary(BaseModel):
    text: str | None
    generated: bool = Field(default=False, description="False: the registry's brief summary "
                            "stands in until a plain-language generator is configured.")


class TrialPage(BaseModel):
    trial: Trial
    summary: PlainSummary
    sites: list[SiteView]
    origin: ResolvedPlace | None = None
    place_error: str | None = None
    checklist: Checklist
    similar: list[SearchHit] = Field(default_factory=list,
                                     description="Similar trials (filled by a later release).")
    registry_url: str


class LetterCount(BaseModel):
    letter: str
    count: int


class ConditionList(BaseModel):
    items: list[ConditionCount]
    total: int
    page: int
    page_size: int
    letter: str | None = None
    q: str | None = None
    letters: list[LetterCount] = Field(default_factory=list)


class ConditionTrials(BaseModel):
    condition: str
    results: SearchPage


class HomePage(BaseModel):
    trial_count: int
    conditions: list[ConditionCount]
    profile: Profile
    request: SearchRequest


class AnswersBody(BaseModel):
    answers: dict[str, Answer | None] = Field(
        max_length=500, description="Question key -> yes / no / unsure; null forgets it.")


class AnswersView(BaseModel):
    answers: dict[str, Answer]


class SessionInfo(BaseModel):
    csrf_token: str = Field(description="Send as X-CSRF-Token on POST, PUT and DELETE, "
                            "together with the session cookie.")
    csrf_header: str = "X-CSRF-Token"
    answers: int
    has_profile: bool


class ProfileView(BaseModel):
    profile: Profile
    search: SearchRequest | None = Field(default=None, description="The search the profile "
                                         "feeds, if it has anything to filter by.")


class MatchesPage(BaseModel):
    profile: Profile
    results: SearchPage | None = None
    note: str
