"""What a parsed eligibility text is: items, their typed constraints and their questions.

Every offset is a character offset into the original criteria text (``text[start:end]``),
so the web page can highlight evidence and the matcher can quote it. Constraints keep the
span of their own evidence, which always lies inside their item's span.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Section = Literal["inclusion", "exclusion"]
Polarity = Literal["required", "must_not"]
Comparator = Literal["lt", "le", "gt", "ge", "eq", "between"]
Answer = Literal["yes", "no"]
ConstraintKind = Literal[
    "age", "sex", "pregnancy", "lactation", "menopause", "condition", "measurement",
    "medication", "procedure", "disease_duration", "performance_status", "allergy",
    "consent", "administrative", "investigator", "other",
]
UNANSWERABLE_KINDS: frozenset[str] = frozenset({"consent", "administrative", "investigator"})
# Whose the fact is: a parent's hip fracture is family history, not the patient's own.
Experiencer = Literal["patient", "family"]
# In what way the criterion speaks of it: as something that happened or holds
# ("actual"), something to come ("planned": surgery planned during the study), a reason
# the patient must not receive it ("contraindication": contraindication to MRI), or a
# supposition ("hypothetical": if pregnancy occurs ...).
Modality = Literal["actual", "planned", "contraindication", "hypothetical"]
LogicOp = Literal["all", "any", "at_least"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Model):
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Concept(_Model):
    """A named thing a constraint is about, normalized through the shared vocabulary."""

    id: str
    name: str
    kind: str
    text: str
    span: Span


class Quantity(_Model):
    """A comparison against a number: as written and, where known, in the analyte's unit."""

    comparator: Comparator
    value: float
    value_high: float | None = None
    unit: str | None = None
    normalized_value: float | None = None
    normalized_value_high: float | None = None
    normalized_unit: str | None = None


class TimeWindow(_Model):
    """When an exposure or event counts.

    ``within``: in the last ``amount`` units; ``before``: at least that long ago;
    ``duration``: has lasted ``comparator`` that long; ``current``: ongoing now;
    ``ever``: at any time in the past.
    """

    relation: Literal["within", "before", "duration", "current", "ever"]
    amount: float | None = None
    unit: Literal["hour", "day", "week", "month", "year"] | None = None
    days: float | None = None
    comparator: Comparator | None = None
    span: Span | None = None


class Question(_Model):
    """A plain-language question a patient can answer, and the answer that satisfies it.

    ``key`` is normalized so that the same question asked by different trials (or by
    different phrasings) shares it; an answer stored under a key serves every trial.
    """

    key: str
    text: str
    meets: Answer
    answerable: bool
    kind: str = "yes_no"


class Constraint(_Model):
    kind: ConstraintKind
    polarity: Polarity
    negated: bool = False
    exception: bool = False
    concept: Concept | None = None
    any_of: list[Concept] = Field(default_factory=list)
    quantity: Quantity | None = None
    qualitative: str | None = None
    window: TimeWindow | None = None
    value: str | None = None
    text: str
    span: Span
    question: Question | None = None
    experiencer: Experiencer = "patient"
    modality: Modality = "actual"

    @property
    def answerable(self) -> bool:
        return self.kind not in UNANSWERABLE_KINDS


class Heading(_Model):
    text: str
    span: Span
    section: Section | None = None


class Item(_Model):
    index: int
    section: Section
    section_explicit: bool
    heading: str | None = None
    text: str
    span: Span
    marker: str | None = None
    marker_span: Span | None = None
    depth: int = 0
    parent: int | None = None
    kind: ConstraintKind
    constraints: list[Constraint]
    question: Question


class LogicNode(_Model):
    """How a section's items combine: ``all`` of them, ``any`` one, or ``at_least`` ``k``.

    ``items`` are indices into :attr:`ParsedCriteria.items` that are direct leaves of this
    node; ``children`` are nested groups (a parent item "At least one of the following:"
    with its sub-items). ``item`` is the index of the lead-in item that introduced the
    group, if any; ``span`` its source text.
    """

    op: LogicOp
    k: int | None = None
    items: list[int] = Field(default_factory=list)
    children: list[LogicNode] = Field(default_factory=list)
    item: int | None = None
    span: Span | None = None


class ParsedCriteria(_Model):
    parser_version: str
    items: list[Item] = Field(default_factory=list)
    headings: list[Heading] = Field(default_factory=list)
    logic: dict[str, LogicNode] = Field(default_factory=dict)

    @property
    def inclusion(self) -> list[Item]:
        return [item for item in self.items if item.section == "inclusion"]

    @property
    def exclusion(self) -> list[Item]:
        return [item for item in self.items if item.section == "exclusion"]

    @property
    def other_share(self) -> float:
        if not self.items:
            return 0.0
        return sum(item.kind == "other" for item in self.items) / len(self.items)

    @property
    def group_labels(self) -> frozenset[int]:
        """Indices of the items that only introduce a group of sub-items ("At least one of
        the following:"): not criteria of their own, never evaluated nor asked."""
        found: set[int] = set()
        stack = list(self.logic.values())
        while stack:
            node = stack.pop()
            if node.item is not None:
                found.add(node.item)
            stack.extend(node.children)
        return frozenset(found)

    def questions(self) -> list[Question]:
        """Each distinct question once, in item order (group labels ask nothing)."""
        seen: set[str] = set()
        labels = self.group_labels
        out = []
        for item in self.items:
            if item.index in labels:
                continue
            if item.question.key not in seen:
                seen.add(item.question.key)
                out.append(item.question)
        return out
