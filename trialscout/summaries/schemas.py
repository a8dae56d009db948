"""The schemas of the summary rule files (``rules/wording.yaml``, ``rules/grounding.yaml``),
read through the one rule loader (:mod:`trialscout.rulefiles`)."""

from __future__ import annotations

from trialscout.rulefiles import RuleFile, Strict


class _People(Strict):
    adult: str
    child: str
    both: str


class _Topics(Strict):
    what: str
    who: str
    where: str


class WordingRules(RuleFile):
    """The schema of ``rules/wording.yaml``."""

    status: dict[str, str]
    status_missing: str
    phase: dict[str, str]
    study_type: dict[str, str]
    allocation: dict[str, str]
    masking: dict[str, str]
    intervention_model: dict[str, str]
    intervention_type: dict[str, str]
    tested_arm_types: list[str]
    comparator_arm_types: list[str]
    no_treatment_arm_types: list[str]
    placebo_note: str
    sham_note: str
    healthy_volunteers: str
    missing_note: str
    missing_topics: _Topics
    people: dict[str, _People]
    countries_with_the: list[str]
    keep_capitalized: list[str]
    vague_question_concepts: list[str]
    plain_words: list[str]


class GroundingSchema(RuleFile):
    """The schema of ``rules/grounding.yaml``."""

    number_words: dict[str, float]
    min_word_length: int
    drug_suffixes: list[str]
    condition_suffixes: list[str]
    head_nouns: list[str]
    function_words: list[str]
    generic_concepts: list[str]
    code_name_pattern: str
    plain_words: list[str]
