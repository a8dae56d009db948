"""The fact check flags numbers, drugs, conditions and names that the record does not have."""

from __future__ import annotations

import pytest

from trialscout.registry.model import Trial
from trialscout.summaries.grounding import (
    SourceFacts,
    check_paths,
    check_text,
    number_key,
    path_facts,
    record_facts,
)
from trialscout.summaries.paths import PathError, resolve


def _facts(*values: object) -> SourceFacts:
    return SourceFacts.from_values(list(values))


def _kinds(text: str, facts: SourceFacts) -> list[str]:
    return [p.kind for p in check_text(text, facts)]


@pytest.mark.parametrize(("text", "key"), [("1,000", "1000"), ("09", "9"), ("2.50", "2.5"),
                                           ("840", "840")])
def test_numbers_compare_by_value(text: str, key: str) -> None:
    assert number_key(text) == key


def test_numbers_must_be_in_the_record() -> None:
    facts = _facts("Women aged 55 Years", 840, "Baseline and Month 24")
    assert check_text("About 840 women aged 55 take part for 24 months.", facts) == []
    assert _kinds("About 900 women take part.", facts) == ["number"]
    assert _kinds("It lasts two years.", facts) == ["number"]
    assert _kinds("It lasts 2.5 years.", facts) == ["number"]


def test_thousands_separators_match_either_way() -> None:
    assert check_text("About 1,500 people.", _facts(1500)) == []
    assert check_text("About 1500 people.", _facts("1,500 participants")) == []


def test_drugs_are_compared_as_vocabulary_concepts() -> None:
    facts = _facts("Denosumab 60 mg")
    assert check_text("It tests Prolia.", facts) == []
    assert check_text("It tests denosumab.", facts) == []
    assert _kinds("It tests metformin.", facts) == ["drug"]
    assert check_text("It tests the drug.", facts) == []


def test_unknown_drug_like_words_and_code_names_must_be_in_the_record() -> None:
    facts = _facts("CLW-4410 tablet", "Placebo")
    assert check_text("It tests CLW-4410.", facts) == []
    assert _kinds("It tests XQ-9981.", facts) == ["code name"]
    assert _kinds("It tests zorbatinib.", facts) == ["drug"]
    assert _kinds("It is about nephropathy.", facts) == ["condition"]


def test_conditions_and_disease_head_nouns() -> None:
    facts = _facts("Breast Cancer", "Osteopenia")
    assert check_text("It is about breast cancer and osteopenia.", facts) == []
    assert "condition" in _kinds("It is about lung cancer.", facts)
    assert _kinds("It is about type 2 diabetes.", facts) == ["condition"]


def test_names_in_mid_sentence_must_be_in_the_record() -> None:
    facts = _facts("Boston", "United States", "2023-09-12")
    assert check_text("It takes place in Boston, the United States, since September 2023.",
                      facts) == []
    assert _kinds("It takes place in Chicago.", facts) == ["name"]
    assert check_text("Chicago is not named mid-sentence here.", _facts("x")) == []


def test_record_facts_include_counts_of_listed_items(sample_trials: list[Trial]) -> None:
    trial = next(t for t in sample_trials if len(t.sites) > 1)
    facts = record_facts(trial)
    assert str(len(trial.sites)) in facts.numbers
    assert str(len({s.country for s in trial.sites if s.country})) in facts.numbers


def test_paths_resolve_indexes_lists_and_text_ranges(sample_trials: list[Trial]) -> None:
    trial = sample_trials[0]
    assert resolve(trial, "interventions[0].name") == [trial.interventions[0].name]
    assert resolve(trial, "sites[].country") == [s.country for s in trial.sites if s.country]
    text = trial.eligibility.criteria or ""
    assert resolve(trial, "eligibility.criteria[0:10]") == [text[:10]]
    assert resolve(trial, "interventions[99].name") == []
    assert check_paths(trial, ["conditions[0]", "conditions[99]", "no_such_field"]) == [
        "conditions[99]", "no_such_field"]
    with pytest.raises(PathError):
        resolve(trial, "conditions[0].name")


def test_path_facts_only_know_the_named_fields(sample_trials: list[Trial]) -> None:
    trial = sample_trials[0]
    facts = path_facts(trial, ["overall_status"])
    assert _kinds(f"It is about {trial.conditions[0]}.", facts)
