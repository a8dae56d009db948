"""The alerts boundary: what the CLI, the pages and the JSON API exchange."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from trialscout.search.models import SearchRequest
from trialscout.utc import UtcDateTime

Delivery = Literal["immediate", "daily", "weekly", "none"]
ChangeKind = Literal["new", "recruiting", "new_site", "eligibility"]
MAX_NAME_CHARS = 200
MAX_SEARCHES_PER_OWNER = 50

KIND_LABELS: dict[str, str] = {
    "new": "New trial",
    "recruiting": "Now recruiting",
    "new_site": "New site near you",
    "eligibility": "Eligibility criteria changed",
}
DELIVERY_LABELS: dict[str, str] = {
    "immediate": "as soon as something changes", "daily": "once a day at most",
    "weekly": "once a week at most", "none": "no email (feed only)"}


class SavedSearchCreate(BaseModel):
    """A search to save: the request as the search page has it, a name and a delivery."""

    model_config = ConfigDict(extra="forbid")

    request: SearchRequest
    name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    delivery: Delivery = "immediate"


class SavedSearchUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    delivery: Delivery | None = None


class SavedSearch(BaseModel):
    id: int
    name: str
    request: SearchRequest
    delivery: Delivery
    feed_path: str = Field(description="Path of the Atom feed (unguessable; keep it private).")
    created_at: UtcDateTime
    last_sent_at: UtcDateTime | None = None


class AlertItem(BaseModel):
    id: int
    nct_id: str
    kind: ChangeKind
    label: str
    title: str
    overall_status: str | None = None
    created_at: UtcDateTime
    emailed: bool = False


class RunReport(BaseModel):
    changes: int = 0
    searches: int = 0
    alerts: int = 0
    emails_queued: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    uncertain: int = 0
    smtp_configured: bool = True
