"""The trial model: everything a trial page shows, independent of the source format.

Both API v2 JSON and legacy XML end up here, so the store, search, criteria and web
layers only ever see one shape.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from trialscout.registry.partial_dates import PartialDate


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Identifier(_Model):
    id: str
    type: str | None = None
    domain: str | None = None


class Contact(_Model):
    name: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None


class Official(_Model):
    name: str | None = None
    affiliation: str | None = None
    role: str | None = None


class Organization(_Model):
    name: str
    role: str
    kind: str | None = None


class ResponsibleParty(_Model):
    type: str | None = None
    name: str | None = None
    title: str | None = None
    affiliation: str | None = None


class ArmGroup(_Model):
    label: str
    type: str | None = None
    description: str | None = None
    intervention_names: list[str] = Field(default_factory=list)


class Intervention(_Model):
    type: str | None = None
    name: str
    description: str | None = None
    other_names: list[str] = Field(default_factory=list)
    arm_group_labels: list[str] = Field(default_factory=list)


class Outcome(_Model):
    kind: str
    measure: str
    description: str | None = None
    time_frame: str | None = None


class GeoPoint(_Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Site(_Model):
    facility: str | None = None
    status: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    geo: GeoPoint | None = None
    contacts: list[Contact] = Field(default_factory=list)


class Reference(_Model):
    citation: str | None = None
    pmid: str | None = None
    type: str | None = None


class Eligibility(_Model):
    criteria: str | None = None
    sex: str = "ALL"
    minimum_age: str | None = None
    maximum_age: str | None = None
    minimum_age_days: float | None = None
    maximum_age_days: float | None = None
    healthy_volunteers: bool | None = None
    std_ages: list[str] = Field(default_factory=list)


class Design(_Model):
    allocation: str | None = None
    intervention_model: str | None = None
    primary_purpose: str | None = None
    masking: str | None = None
    who_masked: list[str] = Field(default_factory=list)
    observational_model: str | None = None
    time_perspective: str | None = None


class Dates(_Model):
    start: PartialDate | None = None
    start_type: str | None = None
    primary_completion: PartialDate | None = None
    primary_completion_type: str | None = None
    completion: PartialDate | None = None
    completion_type: str | None = None
    first_posted: PartialDate | None = None
    last_update: PartialDate | None = None
    results_first_posted: PartialDate | None = None
    status_verified: PartialDate | None = None


class Trial(_Model):
    """One registry study, normalized."""

    nct_id: str = Field(pattern=r"^NCT\d{8}$")
    brief_title: str | None = None
    official_title: str | None = None
    acronym: str | None = None
    org_study_id: str | None = None
    secondary_ids: list[Identifier] = Field(default_factory=list)
    overall_status: str | None = None
    why_stopped: str | None = None
    study_type: str | None = None
    phases: list[str] = Field(default_factory=list)
    design: Design = Field(default_factory=Design)
    enrollment_count: int | None = Field(default=None, ge=0)
    enrollment_type: str | None = None
    dates: Dates = Field(default_factory=Dates)
    conditions: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    condition_mesh_terms: list[str] = Field(default_factory=list)
    intervention_mesh_terms: list[str] = Field(default_factory=list)
    arm_groups: list[ArmGroup] = Field(default_factory=list)
    interventions: list[Intervention] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list)
    organizations: list[Organization] = Field(default_factory=list)
    responsible_party: ResponsibleParty | None = None
    officials: list[Official] = Field(default_factory=list)
    central_contacts: list[Contact] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    brief_summary: str | None = None
    detailed_description: str | None = None
    references: list[Reference] = Field(default_factory=list)
    has_results: bool = False

    @property
    def title(self) -> str:
        return self.brief_title or self.official_title or self.nct_id

    @property
    def lead_sponsor(self) -> str | None:
        for org in self.organizations:
            if org.role == "LEAD_SPONSOR":
                return org.name
        return None
