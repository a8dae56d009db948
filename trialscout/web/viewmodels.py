"""What each page shows, as the models the JSON API returns for the same request."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from trialscout.guides.content import Guide
from trialscout.guides.links import GuideTrials
from trialscout.guides.questions import MAX_TEXT, MIN_TEXT, PublicAnswer
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
from trialscout.similar.explain import SimilarTrial
from trialscout.summaries.model import SummarySentence, Topic
from trialscout.web.patient_views import HitMatch


class ResultHit(SearchHit):
    match: Verdict | None = Field(
        default=None, description="This visitor's self-check verdict for the trial, when "
        "they have answered questions it asks.")
    profile_match: HitMatch | None = Field(
        default=None, description="The trial's verdict for this visitor's profile (form, "
        "medical history and self-check answers), when they have one.")


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


class SummaryPart(BaseModel):
    """One topic of a plain-language summary ("Who can join"), with its sentences."""

    topic: Topic
    title: str
    text: str
    sentences: list[SummarySentence] = Field(description="Each sentence with the record "
                                             "fields it restates (its sources).")


class TrialSummary(BaseModel):
    """A trial's plain-language summary, written automatically from its registry record."""

    nct_id: str
    generated: bool = Field(description="True when TrialScout wrote a summary; False when "
                            "none could be written and only the sponsor's summary is shown.")
    backend: Literal["offline", "llm"] | None = Field(
        default=None, description="offline: TrialScout's rule-based writer; llm: rewritten by "
        "a language model and checked sentence by sentence against the record.")
    model: str | None = Field(default=None, description="The language model, for llm.")
    llm_fallback: bool = Field(default=False, description="A language model is configured, "
                               "but its rewrite was not used (it failed or did not pass the "
                               "fact check), so the offline text is shown.")
    grade: float | None = Field(default=None, description="US school reading grade.")
    sections: list[SummaryPart] = Field(default_factory=list)
    text: str | None = Field(default=None, description="All sections as one text.")
    note: str = Field(description="How the summary was written, as the page says it.")
    brief_summary: str | None = Field(default=None,
                                      description="The sponsor's summary from the registry.")


class SimilarTrials(BaseModel):
    nct_id: str
    origin: ResolvedPlace | None = Field(default=None, description="Where distances are "
                                         "measured from, when a place was given.")
    items: list[SimilarTrial]


class GuideLink(BaseModel):
    slug: str
    title: str
    kind: Literal["condition", "drug"]
    summary: str


class TrialPage(BaseModel):
    trial: Trial
    summary: TrialSummary
    sites: list[SiteView]
    origin: ResolvedPlace | None = None
    place_error: str | None = None
    checklist: Checklist
    similar: list[SimilarTrial] = Field(
        default_factory=list, description="More related trials, with why each is listed.")
    guides: list[GuideLink] = Field(default_factory=list, description="Our guides about this "
                                    "trial's conditions and treatments.")
    registry_url: str | None = Field(description="The trial on ClinicalTrials.gov; null for "
                                     "the bundled fictional demonstration trials.")


class GuideSummary(GuideLink):
    also_known_as: list[str]
    reviewed: date
    trial_count: int = Field(description="Stored trials the guide lists.")


class GuideList(BaseModel):
    items: list[GuideSummary]
    total: int


class GuideTrialPage(GuideTrials):
    page: int
    page_size: int
    open_only: bool


class QuestionRules(BaseModel):
    min_length: int
    max_length: int
    per_visitor: int = Field(description="Questions one visitor may send per window.")
    window_seconds: int


class GuidePage(BaseModel):
    guide: Guide
    trials: GuideTrialPage
    answers: list[PublicAnswer] = Field(description="Visitors' questions the team answered "
                                        "and published (never with an email).")
    question_rules: QuestionRules
    question_sent: bool = Field(default=False, description="True after the page's form sent "
                                "a question (its confirmation).")


class QuestionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description=f"The question, {MIN_TEXT} to {MAX_TEXT} characters, as "
                      "plain text. Please leave out names and health details that identify "
                      "anyone.")
    email: str | None = Field(default=None, description="Optional, only for the team to "
                              "reply; never shown on the site.")


class QuestionReceipt(BaseModel):
    id: int
    guide_slug: str
    status: Literal["open", "answered"]
    created_at: datetime
    message: str


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
