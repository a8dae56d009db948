"""The criteria rules: YAML data files in ``rules/``, each validated by a schema here.

Rules are data so that a new heading spelling, unit or negation cue is a one-line change
that a test checks, not a code change. Each file is loaded once per process.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from trialscout import rulefiles
from trialscout.rulefiles import RuleFile
from trialscout.rulefiles import read_yaml as read_yaml  # the tests read files as written

RULES_DIR = Path(__file__).with_name("rules")
Op = Literal["lt", "le", "gt", "ge", "eq", "between"]
TimeUnit = Literal["hour", "day", "week", "month", "year"]


class _Schema(RuleFile):
    """A criteria rule file: ``version``, ``tuned_on`` and its own fields."""


def _check_regexes(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
    return patterns


class SectionRules(_Schema):
    inclusion: list[str]
    exclusion: list[str]
    prefixes: list[str]
    subheadings: list[str]


class Comparators(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prefix: dict[Op, list[str]]
    suffix: dict[Literal["ge", "le"], list[str]]


class TimeUnitRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: float = Field(gt=0)
    forms: list[str]


class TemporalRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window_prefix: list[str]
    window_recency: list[str]
    window_suffix: list[str]
    anchors: list[str]
    words: dict[Literal["ever", "current", "recent"], list[str]]


class NegationRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pre: list[str]
    post: list[str]
    pseudo: list[str]
    exceptions: list[str]
    scope_breaks: list[str]


class RegexList(BaseModel):
    """Regular expressions, tried only when the lower-cased text contains a trigger."""

    model_config = ConfigDict(extra="forbid")
    triggers: list[str]
    regex: list[str]

    @field_validator("regex")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        return _check_regexes(patterns)


class AgeRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cues: list[str]


class SexRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    female: list[str]
    male: list[str]
    any: list[str]


class AllergyRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cues: list[str]
    links: list[str]


class PatternRules(_Schema):
    comparators: Comparators
    number_words: dict[str, float]
    time_units: dict[TimeUnit, TimeUnitRule]
    temporal: TemporalRules
    negation: NegationRules
    item_kinds: dict[Literal["consent", "investigator", "administrative"], RegexList]
    age: AgeRules
    sex: SexRules
    status_concepts: dict[str, Literal["pregnancy", "lactation", "menopause"]]
    performance_concepts: list[str]
    allergy: AllergyRules
    qualitative: dict[str, list[str]]


class UnitRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    symbol: str
    pint: str
    forms: list[str]


class AffineRule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_unit: str = Field(alias="from")
    scale: float
    offset: float = 0.0


class AnalyteRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str | None = None
    assume: str | None = None
    molar_mass: float | None = Field(default=None, gt=0)
    affine: list[AffineRule] = Field(default_factory=list)
    equivalent: list[str] = Field(default_factory=list)


class UnitRules(_Schema):
    pint_definitions: list[str]
    units: list[UnitRule]
    analytes: dict[str, AnalyteRule]

    @field_validator("analytes")
    @classmethod
    def _known_units(cls, analytes: dict[str, AnalyteRule], info: Any) -> dict[str, AnalyteRule]:
        symbols = {unit.symbol for unit in info.data.get("units", [])}
        for name, rule in analytes.items():
            for unit in (rule.unit, rule.assume, *rule.equivalent,
                         *(a.from_unit for a in rule.affine)):
                if unit is not None and unit not in symbols:
                    raise ValueError(f"analyte {name}: unknown unit {unit!r}")
        return analytes


class ExternalLexicon(BaseModel):
    model_config = ConfigDict(extra="forbid")
    package: str
    file: str
    kind: Literal["disease", "drug"]


class EntityRules(_Schema):
    external_lexicons: list[ExternalLexicon]
    mesh_tree_types: dict[str, Literal["condition", "procedure", "drug"]]
    drug_drop_tree_prefixes: list[str]
    min_length: int = Field(ge=1)
    short_exact_case_max: int = Field(ge=0)
    max_tokens: int = Field(ge=1)
    stopwords: list[str]
    generic_condition_heads: list[str]
    condition_suffixes: list[str]
    condition_suffix_stopwords: list[str]
    procedure_suffixes: list[str]
    procedure_suffix_stopwords: list[str]
    procedure_heads: list[str]
    procedure_modifiers: list[str]
    measurement_links: list[str]
    measurement_heads: list[str]
    specimen_prefixes: list[str]
    life_stage_words: list[str]
    generic_concepts: list[str]


class QuestionRules(_Schema):
    tuned_on: list[str]
    templates: dict[str, str | dict[str, str]]
    comparators: dict[Op, str]
    age_comparators: dict[Op, str]
    duration_comparators: dict[Op, str]
    concepts: dict[str, dict[str, str]]
    generic_names: list[str]
    score_words: list[str]
    method_cues: list[str]
    test_words: list[str]
    disjunctive_cues: list[str]
    not_alternatives: list[str]
    event_age_words: list[str]
    eponyms: list[str]
    conditional_cues: list[str]


class CorpusLabels(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value_span: Literal["full", "quantity", "number"]
    gold: dict[str, str]
    ours: dict[str, str]


class EvalLabelRules(_Schema):
    corpora: dict[str, CorpusLabels]


class ContextCues(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pre: list[str]
    post: list[str] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)
    conditional: list[str] = Field(default_factory=list)
    occurs: list[str] = Field(default_factory=list)


class ContextRules(_Schema):
    tuned_on: list[str]
    reach: dict[Literal["pre", "post"], int]
    restart: list[str]
    shared: list[str]
    exclusion_no_keeps: list[str]
    family: ContextCues
    planned: ContextCues
    contraindication: ContextCues
    hypothetical: ContextCues


class LogicGroups(BaseModel):
    model_config = ConfigDict(extra="forbid")
    any: list[str]
    at_least: list[str]
    all: list[str]


class LogicRules(_Schema):
    tuned_on: list[str]
    groups: LogicGroups
    blockers: list[str]
    numbers: dict[str, int]
    chain_or: list[str]
    inline_exclusion: list[str]
    who: list[str]
    alternative_groups: list[str]
    defining: list[str]
    exclusion_blockers: list[str]


SCHEMAS: dict[str, type[_Schema]] = {
    "sections.yaml": SectionRules,
    "patterns.yaml": PatternRules,
    "units.yaml": UnitRules,
    "entities.yaml": EntityRules,
    "questions.yaml": QuestionRules,
    "eval_labels.yaml": EvalLabelRules,
    "logic.yaml": LogicRules,
    "context.yaml": ContextRules,
}


_by_name: dict[str, Any] = {}


def load(name: str) -> Any:
    """The validated rules file ``name`` (e.g. ``"units.yaml"``), read once per process by
    the one rule loader. Kept by name as well: the parser asks for its rules for every
    item, and building the path to look them up was 4% of bulk parsing."""
    found = _by_name.get(name)
    if found is None:
        found = _by_name[name] = rulefiles.load(RULES_DIR / name, SCHEMAS[name])
    return found


def sections() -> SectionRules:
    return load("sections.yaml")


def patterns() -> PatternRules:
    return load("patterns.yaml")


def units() -> UnitRules:
    return load("units.yaml")


def entities() -> EntityRules:
    return load("entities.yaml")


def questions() -> QuestionRules:
    return load("questions.yaml")


def eval_labels() -> EvalLabelRules:
    return load("eval_labels.yaml")


def context() -> ContextRules:
    return load("context.yaml")


def logic() -> LogicRules:
    return load("logic.yaml")


def phrase_regex(phrases: list[str], *, boundary: bool = True) -> str:
    """An alternation of literal phrases, longest first, spaces matching any whitespace."""
    parts = []
    for phrase in sorted(set(phrases), key=lambda p: (-len(p), p)):
        escaped = re.escape(phrase.strip()).replace(r"\ ", r"\s+")
        if boundary and phrase[:1].isalnum():
            escaped = r"\b" + escaped
        if boundary and phrase[-1:].isalnum():
            escaped = escaped + r"\b"
        parts.append(escaped)
    return "(?:" + "|".join(parts) + ")"
