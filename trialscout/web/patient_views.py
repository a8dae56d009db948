"""What the profile and "my matches" pages show, as the models the JSON API returns.

A visitor's profile has two parts, both tied to their anonymous session: the short form
(age, sex, place; :class:`~trialscout.sessions.models.Profile`) and, optionally, a medical
history read from a FHIR R4 Bundle or a clinical note (a versioned patient record).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trialscout.matching.model import TrialMatch, TrialVerdictLabel
from trialscout.patients.model import MAX_TEXT, PatientProfile
from trialscout.search.models import ResolvedPlace, SearchRequest
from trialscout.sessions.models import Profile
from trialscout.web.params import EmptyMeansMissing

VERDICT_LABELS: dict[str, str] = {"eligible": "Eligible",
                                  "possibly_eligible": "Possibly eligible",
                                  "not_eligible": "Not eligible"}


class RecordUpload(BaseModel):
    """A medical history to read: exactly one of a clinical note or a FHIR R4 Bundle."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT,
                             description="A free-text clinical note, e.g. 'Type 2 diabetes "
                             "since 2015. Denies smoking.'")
    bundle: dict[str, Any] | None = Field(
        default=None, description="A FHIR R4 Bundle as a JSON object (resourceType Bundle).")

    @model_validator(mode="after")
    def _exactly_one(self) -> RecordUpload:
        if (self.note is None) == (self.bundle is None):
            raise ValueError("send exactly one of note and bundle")
        return self


class RecordFacts(BaseModel):
    """The facts read from the medical history, as short lines a person can check."""

    conditions: list[str] = Field(default_factory=list)
    medications: list[str] = Field(default_factory=list)
    procedures: list[str] = Field(default_factory=list)
    measurements: list[str] = Field(default_factory=list)
    allergies: list[str] = Field(default_factory=list)
    denied: list[str] = Field(default_factory=list,
                              description="What the record says the patient does not have.")
    family_history: list[str] = Field(default_factory=list)
    other: list[str] = Field(default_factory=list, description="Age, sex, menopause, smoking…")

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in type(self).model_fields)


class PatientRecord(BaseModel):
    """The visitor's medical history: one version of their patient record."""

    patient_id: int = Field(description="Id of the record; only its own session can use it.")
    version: int
    source: str = Field(description="fhir, note or profile: what the last upload was.")
    saved_at: datetime
    facts: RecordFacts
    profile: PatientProfile = Field(description="Everything read, each fact with its source.")


class ProfileView(BaseModel):
    profile: Profile
    record: PatientRecord | None = Field(default=None, description="The medical history, "
                                         "if one was uploaded.")
    answers: int = Field(default=0, description="Self-check answers remembered in this "
                         "session; matching counts them as facts.")
    active: bool = Field(default=False, description="Whether there is a profile to match "
                         "(form facts or a medical history).")
    search: SearchRequest | None = Field(default=None, description="The search the profile "
                                         "feeds, if it has anything to filter by.")


class HitMatch(BaseModel):
    """A search result's verdict for the visitor's profile (only as far as the first failing
    criterion: open my matches for every criterion)."""

    verdict: TrialVerdictLabel
    label: str
    reason: str


class MatchesQuery(EmptyMeansMissing):
    """Where to look, overriding the profile's place; how many; open trials only or not."""

    model_config = ConfigDict(extra="forbid")

    near: str | None = Field(default=None, max_length=200,
                             description="Place name resolved offline, or 'lat,lon'. "
                             "Default: the profile's place.")
    radius: float | None = Field(default=None, gt=0, le=20_000,
                                 description="Only trials with a site this close (in unit).")
    unit: Literal["km", "mi"] | None = Field(default=None,
                                            description="Default: the profile's unit.")
    limit: int = Field(default=20, ge=1, le=50)
    include_closed: bool = Field(default=False, description="Also trials that are not "
                                 "recruiting (completed, active but closed, ...).")
    all: bool = Field(default=False, description="Also list the trials the registry's age "
                      "and sex fields removed before matching, each with that reason.")


class MatchResult(TrialMatch):
    label: str = Field(description="The verdict in words.")
    distance: float | None = Field(default=None, description="To the nearest site, in unit.")
    unit: Literal["km", "mi"] = "km"


class MatchesPage(BaseModel):
    active: bool = Field(description="False: there is no profile to match yet.")
    profile: Profile
    patient_id: int | None = None
    profile_version: int | None = None
    record_source: str | None = None
    answers_used: int = Field(default=0, description="Self-check answers counted as facts.")
    ranked_by: Literal["history", "filters"] | None = Field(
        default=None, description="history: candidates found from the medical history, then "
        "checked criterion by criterion; filters: no medical history yet, so the trials "
        "open to the profile's age, sex and place are checked.")
    near: str | None = None
    origin: ResolvedPlace | None = None
    radius: float | None = Field(default=None, description="In unit.")
    unit: Literal["km", "mi"] = "km"
    include_closed: bool = False
    reference_date: date | None = None
    candidates: int = 0
    results: list[MatchResult] = Field(default_factory=list)
    removed: list[MatchResult] = Field(default_factory=list, description="With all=true: "
                                       "trials the registry's age and sex fields removed.")
    place_error: str | None = None
    note: str
