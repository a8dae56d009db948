"""What an inquiry holds and what the pages and API show of it (typed at the boundary)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from trialscout.utc import UtcDateTime

Status = Literal["sent", "seen", "contacted", "screening", "enrolled", "not_eligible",
                 "withdrawn"]
STATUSES: tuple[Status, ...] = ("sent", "seen", "contacted", "screening", "enrolled",
                                "not_eligible", "withdrawn")
TEAM_STATUSES: tuple[Status, ...] = ("seen", "contacted", "screening", "enrolled",
                                     "not_eligible")
STATUS_LABELS: dict[str, str] = {
    "sent": "Sent", "seen": "Seen by the study team", "contacted": "Contacted",
    "screening": "Screening", "enrolled": "Enrolled", "not_eligible": "Not eligible",
    "withdrawn": "Withdrawn"}
Way = Literal["email", "phone", "either"]
Fit = Literal["met", "not_met", "unknown", "not_answerable"]

MAX_NAME = 120
MAX_PHONE = 40
MAX_WHEN = 200
MAX_MESSAGE = 2000
MAX_NOTE = 1000
MAX_PRESCREEN_ITEMS = 300


class ContactDetails(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=MAX_PHONE)
    preferred_way: Way = "either"
    preferred_time: str | None = Field(default=None, max_length=MAX_WHEN,
                                       description="e.g. 'weekday mornings'.")


class InquiryRequest(BaseModel):
    """What the patient agreed to send. ``share_prescreen`` adds their self-check answers
    and the fit per criterion; ``email_health_data`` lets the email to a site carry them
    (otherwise the email holds only a secure link)."""

    model_config = ConfigDict(extra="forbid")

    site_key: str = Field(min_length=1, max_length=16)
    contact: ContactDetails
    message: str | None = Field(default=None, max_length=MAX_MESSAGE)
    share_prescreen: bool = True
    email_health_data: bool = False
    agree: bool = Field(description="The patient saw what will be shared and agrees.")


class PrescreenItem(BaseModel):
    """One criterion, how the patient's answers fit it, and the evidence (their answer)."""

    section: str
    text: str = Field(max_length=5000)
    fit: Fit
    question: str | None = None
    answer: str | None = None


class Prescreen(BaseModel):
    verdict: str
    summary: str
    items: list[PrescreenItem] = Field(default_factory=list, max_length=MAX_PRESCREEN_ITEMS)

    @property
    def to_confirm(self) -> list[PrescreenItem]:
        return [i for i in self.items if i.fit in ("unknown", "not_answerable")]


class Shared(BaseModel):
    """Exactly what the patient shared; stored as one JSON document."""

    contact: ContactDetails
    message: str | None = None
    prescreen: Prescreen | None = None


class Event(BaseModel):
    status: Status
    note: str | None
    by: Literal["patient", "study team", "TrialScout"]
    at: UtcDateTime


class Inquiry(BaseModel):
    id: str = Field(description="Random public id of the inquiry.")
    nct_id: str
    trial_title: str | None = None
    site_key: str
    site: str
    status: Status
    route: Literal["workspace", "email"]
    shared: Shared
    email_health_data: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime
    history: list[Event] = Field(default_factory=list)


class SiteChoice(BaseModel):
    """A site the patient may write to, nearest first when their place is known."""

    key: str
    label: str
    distance_km: float | None = None
    reachable: bool = Field(description="A coordinator or a contact address receives it.")
    claimed: bool = False


class Claim(BaseModel):
    account_id: int
    nct_id: str
    site_key: str = Field(description="A site's key, or '*' for all sites.")
    via: str
    created_at: UtcDateTime


class AuditEntry(BaseModel):
    actor: str
    action: str
    inquiry_id: str | None
    nct_id: str | None
    detail: str | None
    at: UtcDateTime
