"""The eligibility self-check: a trial's criteria as questions, the visitor's answers, a verdict.

The verdict is deliberately cautious: an answer that contradicts a criterion makes the trial
"probably not eligible"; answers that fit every question a patient can check make it
"possibly eligible" at best while the study team still has criteria of its own to check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from trialscout.sessions.models import Answer

Section = Literal["inclusion", "exclusion", "other"]
ItemStatus = Literal["met", "not_met", "unknown", "not_answerable"]
VerdictStatus = Literal["not_started", "possibly_eligible", "eligible", "not_eligible"]


@dataclass(frozen=True)
class Question:
    """One criterion as the self-check sees it, whatever produced it."""

    item_id: str
    section: Section
    text: str
    question: str | None = None
    question_key: str | None = None
    satisfying_answer: Literal["yes", "no"] | None = None
    answerable: bool = False
    depth: int = 0

    @property
    def askable(self) -> bool:
        return bool(self.answerable and self.question and self.question_key
                    and self.satisfying_answer)


class ChecklistItem(BaseModel):
    id: str = Field(description="Stable id of the criterion within this trial.")
    section: Section
    text: str = Field(description="The criterion as the registry states it.")
    depth: int = 0
    question: str | None = Field(default=None, description="Plain-language question.")
    question_key: str | None = Field(
        default=None, description="Normalized key: the same question on another trial has "
        "the same key, so one answer serves both.")
    satisfying_answer: Literal["yes", "no"] | None = None
    answerable: bool = False
    answer: Answer | None = None
    status: ItemStatus


class Verdict(BaseModel):
    status: VerdictStatus
    label: str
    explanation: str
    questions: int = Field(description="Criteria a patient can answer.")
    answered: int = Field(description="Of those, answered Yes or No.")
    met: int
    not_met: int
    unsure: int
    checked_by_team: int = Field(description="Criteria only the study team can check.")
    failing: list[str] = Field(default_factory=list, description="Ids of criteria not met.")
    open: list[str] = Field(default_factory=list, description="Ids still to answer.")


class Checklist(BaseModel):
    nct_id: str
    items: list[ChecklistItem]
    verdict: Verdict
    parser: str | None = Field(default=None, description="Criteria parser and version.")


def item_status(question: Question, answer: Answer | None) -> ItemStatus:
    if not question.askable:
        return "not_answerable"
    if answer in (None, "unsure"):
        return "unknown"
    return "met" if answer == question.satisfying_answer else "not_met"


def verdict_of(items: Iterable[ChecklistItem]) -> Verdict:
    listed = list(items)
    askable = [i for i in listed if i.status != "not_answerable"]
    failing = [i.id for i in askable if i.status == "not_met"]
    open_ids = [i.id for i in askable if i.status == "unknown"]
    met = sum(1 for i in askable if i.status == "met")
    unsure = sum(1 for i in askable if i.answer == "unsure")
    by_team = len(listed) - len(askable)
    answered = met + len(failing)
    status: VerdictStatus
    if failing:
        status, label = "not_eligible", "Probably not eligible"
        explanation = (f"{len(failing)} of your answers do not fit this trial's criteria."
                       if len(failing) > 1 else
                       "One of your answers does not fit this trial's criteria.")
    elif not askable:
        status, label = "not_started", "No questions to answer"
        explanation = "The study team checks every criterion of this trial."
    elif answered == 0 and unsure == 0:
        status, label = "not_started", "Not checked yet"
        explanation = f"Answer the {len(askable)} questions below to check your eligibility."
    elif open_ids or by_team:
        status, label = "possibly_eligible", "Possibly eligible"
        parts = []
        if open_ids:
            parts.append(f"{len(open_ids)} question{'s' if len(open_ids) != 1 else ''} "
                         "still open")
        if by_team:
            parts.append(f"{by_team} criteri{'a' if by_team != 1 else 'on'} only the study "
                         "team can check")
        explanation = "Your answers fit so far; " + " and ".join(parts) + "."
    else:
        status, label = "eligible", "Likely eligible"
        explanation = ("Your answers fit every criterion. The study team makes the final "
                       "decision.")
    return Verdict(status=status, label=label, explanation=explanation,
                   questions=len(askable), answered=answered, met=met, not_met=len(failing),
                   unsure=unsure, checked_by_team=by_team, failing=failing, open=open_ids)


def build_checklist(nct_id: str, questions: Iterable[Question],
                    answers: Mapping[str, Answer], parser: str | None = None) -> Checklist:
    items = []
    for question in questions:
        answer = answers.get(question.question_key or "") if question.askable else None
        items.append(ChecklistItem(
            id=question.item_id, section=question.section, text=question.text,
            depth=question.depth, question=question.question,
            question_key=question.question_key if question.askable else None,
            satisfying_answer=question.satisfying_answer if question.askable else None,
            answerable=question.askable, answer=answer, status=item_status(question, answer)))
    return Checklist(nct_id=nct_id, items=items, verdict=verdict_of(items), parser=parser)


def question_keys(questions: Iterable[Question]) -> set[str]:
    return {q.question_key for q in questions if q.askable and q.question_key}
