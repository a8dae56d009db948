"""Offline summaries over every real study in ../shared/data (slow tier)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialscout.evaluation.readability_eval import evaluate_readability, iter_trials
from trialscout.summaries.grounding import check_paths, check_text, path_facts
from trialscout.summaries.service import offline_summary

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def test_no_summary_states_a_fact_its_sources_do_not(shared_data: Path) -> None:
    studies = shared_data / "ctgov" / "studies.jsonl.gz"
    count = 0
    for trial in iter_trials(studies):
        for sentence in offline_summary(trial).sentences:
            if sentence.topic == "note":
                continue
            assert check_paths(trial, sentence.sources) == [], (trial.nct_id, sentence)
            facts = path_facts(trial, sentence.sources)
            assert check_text(sentence.text, facts) == [], (trial.nct_id, sentence)
        count += 1
    assert count > 30_000


def test_reading_level_over_all_studies(shared_data: Path) -> None:
    report = evaluate_readability(shared_data / "ctgov" / "studies.jsonl.gz")
    overall = report.grades["all"]
    assert overall.count == report.studies > 30_000
    assert report.summaries_with_fact_problems == 0
    assert overall.p90 <= 8.0
    assert report.grades["with_criteria"].share_at_or_below_8 >= 0.9
