"""What matching returns: a verdict per criterion with its evidence, per trial, and a ranking.

A criterion verdict says whether the patient *passes* that criterion: for an exclusion,
MET means "not excluded by it". ``holds`` keeps the plain truth of the criterion's own
statement (for an exclusion, True means the excluding condition is present), which is what
benchmark labels such as "excluded" / "not excluded" are about.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from trialscout.search.models import NearestSite

Verdict = Literal["MET", "NOT_MET", "UNKNOWN"]
TrialVerdictLabel = Literal["eligible", "possibly_eligible", "not_eligible"]
EvidenceKind = Literal["fact", "note", "answer", "trial", "absence"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evidence(_Model):
    """One thing a verdict rests on: a profile fact, a note sentence, or an answer."""

    kind: EvidenceKind
    fact_id: str | None = None
    sentence: int | None = None
    text: str = Field(default="", max_length=2_000)


class QuestionRef(_Model):
    key: str
    text: str
    meets: Literal["yes", "no"]


class CriterionVerdict(_Model):
    item_index: int
    section: Literal["inclusion", "exclusion"]
    kind: str
    text: str
    start: int | None = None
    end: int | None = None
    verdict: Verdict
    holds: bool | None = None
    applicable: bool = True
    checkable: bool = True
    reason: str
    evidence: list[Evidence] = Field(default_factory=list)
    question: QuestionRef | None = None
    confidence: float | None = Field(
        default=None, ge=0, le=1, description="For NOT_MET: how sure the verdict is "
        "(1 for the registry's sex and age range, less for criteria text, by what decided "
        "it); ranking weighs a failing criterion by it.")


class TrialMatch(_Model):
    """The verdict for one trial, which profile version it was computed from, and its rank."""

    nct_id: str
    title: str
    overall_status: str | None = None
    verdict: TrialVerdictLabel
    reason: str
    criteria: list[CriterionVerdict] = Field(default_factory=list)
    failing: list[int] = Field(default_factory=list)
    to_confirm: list[int] = Field(
        default_factory=list, description="Criteria read as not fitting on unsure evidence "
        "only (a loose note mention, the note's silence): the trial is then labelled and ranked "
        "possibly eligible, and these are to confirm with the study team or by answering.")
    open_questions: list[QuestionRef] = Field(default_factory=list)
    met: int = 0
    not_met: int = 0
    unknown: int = 0
    relevance: float = 0.0
    eligibility: float = 0.0
    distance_km: float | None = None
    nearest_site: NearestSite | None = None
    main_condition: Literal["recorded", "not_recorded", "undetermined"] | None = Field(
        default=None, description="Whether the patient is known to have the condition the "
        "trial studies (its registry conditions and title); within a verdict, trials for a "
        "condition not recorded rank below the others.")
    score: float = 0.0
    rank: int = 0
    patient_id: int | None = None
    profile_version: int | None = None
    facts_used: list[str] = Field(default_factory=list)
    reference_date: date | None = None
    complete: bool = Field(default=True, description="False when checking stopped at the "
                           "first failing criterion (enough to rank it as not eligible).")


class MatchResponse(_Model):
    patient_id: int | None = None
    profile_version: int | None = None
    reference_date: date
    query: str
    candidates: int = Field(description="Search hits considered.")
    checked: int = Field(default=0, description="Candidates whose criteria were checked "
                         "before no other could enter the top results.")
    results: list[TrialMatch]
    removed: list[TrialMatch] = Field(
        default_factory=list, description="Only when asked for (match --all): trials the "
        "registry's age and sex fields removed before matching, each with that reason.")
