"""The eligibility self-check: a trial's criteria as questions, the visitor's answers, a verdict.

The verdict is deliberately cautious: an answer that contradicts a criterion makes the trial
"probably not eligible"; answers that fit every question a patient can check make it
"possibly eligible" at best while the study team still has criteria of its own to check.

Criteria combine as the criteria text says: a lead-in such as "At least one of the
following:" makes its sub-items a group that one fitting answer satisfies, so a "no" to
another of them fails nothing. Without groups every inclusion must fit and every
exclusion must not apply. A lead-in is shown as the heading of its group, not asked.
Criteria only the study team can check are shown as what the team will check, never as a
Yes / No question, and are not counted as questions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from trialscout.sessions.models import Answer

Section = Literal["inclusion", "exclusion", "other"]
ItemStatus = Literal["met", "not_met", "unknown", "not_answerable"]
VerdictStatus = Literal["not_started", "possibly_eligible", "eligible", "not_eligible"]
GroupOp = Literal["all", "any", "at_least"]


@dataclass(frozen=True)
class Group:
    """A group of criteria the text combines in its own way ("at least two of these")."""

    id: str
    op: GroupOp
    k: int | None = None


@dataclass(frozen=True)
class Question:
    """One criterion as the self-check sees it, whatever produced it.

    ``groups`` are the groups the criterion belongs to, outermost first (the section
    itself is not one); ``label`` marks a lead-in that only announces its group.
    """

    item_id: str
    section: Section
    text: str
    question: str | None = None
    question_key: str | None = None
    satisfying_answer: Literal["yes", "no"] | None = None
    answerable: bool = False
    depth: int = 0
    groups: tuple[Group, ...] = ()
    label: Group | None = None

    @property
    def askable(self) -> bool:
        return bool(self.answerable and self.question and self.question_key
                    and self.satisfying_answer and self.label is None)


class ChecklistItem(BaseModel):
    id: str = Field(description="Stable id of the criterion within this trial.")
    section: Section
    text: str = Field(description="The criterion as the registry states it.")
    depth: int = 0
    question: str | None = Field(
        default=None, description="Plain-language question; for a criterion only the "
        "study team can check, what the team will check.")
    question_key: str | None = Field(
        default=None, description="Normalized key: the same question on another trial has "
        "the same key, so one answer serves both.")
    satisfying_answer: Literal["yes", "no"] | None = None
    answerable: bool = False
    answer: Answer | None = None
    status: ItemStatus
    group: str | None = Field(
        default=None, description="For a lead-in that announces a group of criteria: how "
        "many of them must apply, in words. Such an item is not a criterion itself.")


class Verdict(BaseModel):
    status: VerdictStatus
    label: str
    explanation: str
    counts: str = Field(default="", description="Progress in words: answered of asked.")
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


def plural(count: int, one: str, many: str | None = None) -> str:
    """"1 question", "2 questions", "1 criterion", "3 criteria"."""
    return f"{count} {one if count == 1 else many or one + 's'}"


def group_words(group: Group) -> str:
    if group.op == "any":
        return "Any one of the criteria below is enough."
    if group.op == "at_least":
        return f"At least {group.k or 1} of the criteria below must apply."
    return "All of the criteria below must apply."


def item_status(question: Question, answer: Answer | None) -> ItemStatus:
    if not question.askable:
        return "not_answerable"
    if answer in (None, "unsure"):
        return "unknown"
    return "met" if answer == question.satisfying_answer else "not_met"


Value = bool | None


def _combine(op: str, k: int | None, values: Sequence[Value]) -> Value:
    """Three-valued all / any / at-least-k."""
    yes = sum(1 for v in values if v is True)
    maybe = sum(1 for v in values if v is None)
    need = len(values) if op == "all" else 1 if op == "any" else (k or 1)
    if yes >= need:
        return True
    if yes + maybe < need:
        return False
    return None


class _Node:
    __slots__ = ("children", "k", "leaves", "op", "value")

    def __init__(self, op: str, k: int | None) -> None:
        self.op = op
        self.k = k
        self.children: dict[str, _Node] = {}
        self.leaves: list[int] = []
        self.value: Value = None


def _section_tree(section: str, indices: list[int], questions: Sequence[Question]) -> _Node:
    """The section's tree from each criterion's groups: inclusions must all hold; one
    applying exclusion excludes."""
    root = _Node("all" if section == "inclusion" else "any", None)
    for index in indices:
        node = root
        for group in questions[index].groups:
            node = node.children.setdefault(group.id, _Node(group.op, group.k))
        node.leaves.append(index)
    return root


def _holds(item: ChecklistItem) -> Value:
    """Whether the criterion holds: an inclusion is met, an exclusion applies."""
    if item.status in ("unknown", "not_answerable"):
        return None
    met = item.status == "met"
    return met if item.section == "inclusion" else not met


def _evaluate(node: _Node, items: Sequence[ChecklistItem]) -> Value:
    values = [_holds(items[i]) for i in node.leaves]
    values += [_evaluate(child, items) for child in node.children.values()]
    node.value = _combine(node.op, node.k, values) if values else None
    return node.value


def _settled(node: _Node, items: Sequence[ChecklistItem], wanted: Value, failing: list[int],
             pending: list[int]) -> None:
    """Collect the criteria that make a section fail (``wanted``: the value that fails
    it) and those whose answer could still change it (every enclosing group undecided)."""
    for i in node.leaves:
        if node.value is None and _holds(items[i]) is None:
            pending.append(i)
        elif node.value is wanted and _holds(items[i]) is wanted:
            failing.append(i)
    for child in node.children.values():
        if node.value is None and child.value is None:
            _settled(child, items, wanted, failing, pending)
        elif node.value is wanted and child.value is wanted:
            _settled(child, items, wanted, failing, [])


def verdict_of(items: Iterable[ChecklistItem],
               questions: Sequence[Question] | None = None) -> Verdict:
    """The verdict over ``items``; ``questions`` (in the same order) carry their groups."""
    listed = list(items)
    if questions is None or len(questions) != len(listed):
        questions = [Question(i.id, i.section, i.text) for i in listed]
    criteria = [n for n, q in enumerate(questions) if q.label is None]
    failing_at: list[int] = []
    pending: list[int] = []
    for section in ("inclusion", "exclusion", "other"):
        indices = [n for n in criteria if listed[n].section == section]
        if not indices:
            continue
        tree = _section_tree(section, indices, questions)
        _evaluate(tree, listed)
        wanted: Value = section == "exclusion"
        _settled(tree, listed, wanted, failing_at, pending)
    askable = [listed[n] for n in criteria if listed[n].status != "not_answerable"]
    failing = [listed[n].id for n in sorted(failing_at)]
    open_ids = [listed[n].id for n in sorted(pending) if listed[n].status == "unknown"]
    by_team = sum(1 for n in pending if listed[n].status == "not_answerable")
    met = sum(1 for i in askable if i.status == "met")
    not_met = sum(1 for i in askable if i.status == "not_met")
    unsure = sum(1 for i in askable if i.answer == "unsure")
    answered = met + not_met
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
        explanation = (f"Answer the {plural(len(askable), 'question')} below to check your "
                       "eligibility." if len(askable) > 1 else
                       "Answer the question below to check your eligibility.")
    elif open_ids or by_team:
        status, label = "possibly_eligible", "Possibly eligible"
        parts = []
        if open_ids:
            parts.append(f"{plural(len(open_ids), 'question')} still open")
        if by_team:
            parts.append(f"{plural(by_team, 'criterion', 'criteria')} only the study team "
                         "can check")
        explanation = "Your answers fit so far; " + " and ".join(parts) + "."
    else:
        status, label = "eligible", "Likely eligible"
        explanation = ("Your answers fit every criterion. The study team makes the final "
                       "decision.")
    counts = f"{answered} of {plural(len(askable), 'question')} answered" + (
        f", {unsure} not sure" if unsure else "") + "."
    return Verdict(status=status, label=label, explanation=explanation, counts=counts,
                   questions=len(askable), answered=answered, met=met, not_met=not_met,
                   unsure=unsure, checked_by_team=by_team, failing=failing, open=open_ids)


def build_checklist(nct_id: str, questions: Iterable[Question],
                    answers: Mapping[str, Answer], parser: str | None = None) -> Checklist:
    asked = list(questions)
    items = []
    for question in asked:
        answer = answers.get(question.question_key or "") if question.askable else None
        items.append(ChecklistItem(
            id=question.item_id, section=question.section, text=question.text,
            depth=question.depth, question=question.question,
            question_key=question.question_key if question.askable else None,
            satisfying_answer=question.satisfying_answer if question.askable else None,
            answerable=question.askable, answer=answer, status=item_status(question, answer),
            group=group_words(question.label) if question.label is not None else None))
    return Checklist(nct_id=nct_id, items=items, verdict=verdict_of(items, asked),
                     parser=parser)


def question_keys(questions: Iterable[Question]) -> set[str]:
    return {q.question_key for q in questions if q.askable and q.question_key}
