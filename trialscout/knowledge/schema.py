"""The shape of the knowledge files, validated on load (unknown fields are errors).

Every entry names its ``source`` (a public classification or guideline), so a reviewer can
check a fact against where it came from; every file names its ``version`` and the
benchmark sets that shaped it (``tuned_on``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ID = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_ATC = re.compile(r"^[A-Z](?:\d{2}(?:[A-Z](?:[A-Z](?:\d{2})?)?)?)?$")
_TREE = re.compile(r"^[A-Z]\d{2}(?:\.\d{3})*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_ids(values: dict[str, object]) -> None:
    for key in values:
        if not _ID.match(key):
            raise ValueError(f"id {key!r} must be lower_snake_case")


def _check_trees(values: list[str]) -> list[str]:
    for value in values:
        if not _TREE.match(value):
            raise ValueError(f"{value!r} is not a MeSH tree number")
    return values


class Member(_Model):
    """A drug of a class: its generic name, and brand names the drug lexicon lacks."""

    name: str = Field(min_length=2)
    brands: list[str] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list)


class DrugClass(_Model):
    """A class and its members. ``not_with``: words that, written with a member, mean a
    use outside the class (prednisolone eye drops are not systemic glucocorticoids)."""

    name: str
    synonyms: list[str] = Field(default_factory=list)
    parents: list[str] = Field(default_factory=list)
    atc: list[str] = Field(default_factory=list)
    mesh_tree: list[str] = Field(default_factory=list)
    members: list[str | Member] = Field(default_factory=list)
    not_with: list[str] = Field(default_factory=list)
    source: str = Field(min_length=3)

    @field_validator("atc")
    @classmethod
    def _atc(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _ATC.match(value):
                raise ValueError(f"{value!r} is not an ATC code")
        return values

    @field_validator("mesh_tree")
    @classmethod
    def _trees(cls, values: list[str]) -> list[str]:
        return _check_trees(values)


class Regimen(_Model):
    """A named combination (FOLFOX): receiving it means receiving each component."""

    name: str
    synonyms: list[str] = Field(default_factory=list)
    parents: list[str] = Field(default_factory=list)
    components: list[str] = Field(min_length=2)
    source: str = Field(min_length=3)


class DrugClassesFile(_Model):
    version: int
    tuned_on: list[str]
    classes: dict[str, DrugClass]
    regimens: dict[str, Regimen] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ids(self) -> DrugClassesFile:
        _check_ids(dict(self.classes))
        _check_ids(dict(self.regimens))
        return self


class ConditionEntry(_Model):
    """A condition and its place in the hierarchy.

    ``mesh_tree``: every MeSH descriptor strictly below one of these tree numbers is a
    kind of this condition; ``mesh_exclude``: descriptors with a tree number under one of
    these are not (benign tumours under a "neoplasms of a site" heading, for instance).
    ``not_a``: concepts the MeSH tree files this condition under that it is not a kind of
    (MeSH lists "Prediabetic State" under "Diabetes Mellitus"; prediabetes is not diabetes).
    """

    name: str
    kind: Literal["condition", "procedure"] = "condition"
    synonyms: list[str] = Field(default_factory=list)
    parents: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)
    mesh_tree: list[str] = Field(default_factory=list)
    mesh_exclude: list[str] = Field(default_factory=list)
    not_a: list[str] = Field(default_factory=list)
    source: str = Field(min_length=3)

    @field_validator("mesh_tree", "mesh_exclude")
    @classmethod
    def _trees(cls, values: list[str]) -> list[str]:
        return _check_trees(values)


class ConditionsFile(_Model):
    version: int
    tuned_on: list[str]
    conditions: dict[str, ConditionEntry]

    @model_validator(mode="after")
    def _ids(self) -> ConditionsFile:
        _check_ids(dict(self.conditions))
        return self


class Band(_Model):
    """A half-open or closed interval of a measurement's value."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Band:
        if (self.gt is not None and self.ge is not None) or (
                self.lt is not None and self.le is not None):
            raise ValueError("a band has at most one lower and one upper bound")
        if all(v is None for v in (self.gt, self.ge, self.lt, self.le)):
            raise ValueError("a band needs a bound")
        low = self.gt if self.gt is not None else self.ge
        high = self.lt if self.lt is not None else self.le
        if low is not None and high is not None and low > high:
            raise ValueError("a band's lower bound is above its upper bound")
        return self

    def contains(self, value: float) -> bool:
        return not ((self.gt is not None and value <= self.gt)
                    or (self.ge is not None and value < self.ge)
                    or (self.lt is not None and value >= self.lt)
                    or (self.le is not None and value > self.le))

    def text(self) -> str:
        parts = []
        if self.gt is not None:
            parts.append(f"> {self.gt:g}")
        if self.ge is not None:
            parts.append(f"≥ {self.ge:g}")
        if self.lt is not None:
            parts.append(f"< {self.lt:g}")
        if self.le is not None:
            parts.append(f"≤ {self.le:g}")
        return " and ".join(parts)


class Definition(_Model):
    """A condition that a measurement decides, with the values that establish it and the
    values that rule it out; values in neither list decide nothing.

    ``absent`` is empty where a normal value does not rule the condition out (treated
    diabetes has a normal HbA1c); ``why_not_absent`` then says so. ``not_when``: recorded
    conditions or drug classes that make the rule-out direction unsafe (a fragility
    fracture makes osteoporosis a clinical diagnosis whatever the T-score; a glucose-
    lowering drug lowers the HbA1c of a diabetic). ``sex`` restricts a definition to one
    sex (haemoglobin thresholds differ).

    ``requires``: conditions the record must have before a value in a ``present`` band
    establishes the condition (an ejection fraction of 30% is heart failure with reduced
    ejection fraction only in a patient with heart failure); the rule-out needs none.
    ``group``: definitions of one condition that read the parts of one measurement
    (systolic and diastolic pressure): any part establishes it, the condition is ruled
    out only when every part rules it out. ``named``: the definition applies only when
    the criterion writes one of these words (WHO's osteopenia band ends at -2.5, while
    "low bone mass" may include osteoporosis). ``name_excludes``: measurements whose name
    holds one of these words are not this analyte's (ionised calcium).
    """

    condition: str
    analyte: str
    unit: str
    present: list[Band] = Field(default_factory=list)
    absent: list[Band] = Field(default_factory=list)
    why_not_absent: str | None = None
    not_when: list[str] = Field(default_factory=list)
    sex: Literal["female", "male"] | None = None
    persistent: bool = False
    name_requires: str | None = None
    name_excludes: list[str] = Field(default_factory=list)
    requires: list[str] = Field(default_factory=list)
    group: str | None = None
    named: list[str] = Field(default_factory=list)
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _directions(self) -> Definition:
        if not self.absent and not self.why_not_absent:
            raise ValueError(f"{self.condition}: give 'absent' bands or 'why_not_absent'")
        if not self.present and not self.absent:
            raise ValueError(f"{self.condition}: a definition needs a band")
        return self

    def state(self, value: float) -> bool | None:
        """True in a present band, False in an absent band, None in neither."""
        if any(band.contains(value) for band in self.present):
            return True
        if any(band.contains(value) for band in self.absent):
            return False
        return None


class DefinitionsFile(_Model):
    version: int
    tuned_on: list[str]
    definitions: list[Definition]
