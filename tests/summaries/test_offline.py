"""The offline summary: plain, complete where the record is, and only what the record says."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import study
from trialscout.registry.api_v2 import trial_from_api_v2
from trialscout.registry.model import ArmGroup, Eligibility, Intervention, Site, Trial
from trialscout.summaries.grounding import check_paths, check_text, path_facts, record_facts
from trialscout.summaries.model import TARGET_GRADE, TOPIC_TITLES
from trialscout.summaries.offline import display_name, longest_duration, summarize
from trialscout.summaries.paths import resolve
from trialscout.summaries.readability import grade
from trialscout.summaries.service import offline_summary, parsed_criteria


def _assert_grounded(trial: Trial) -> None:
    summary = offline_summary(trial)
    facts = record_facts(trial)
    for sentence in summary.sentences:
        assert check_text(sentence.text, facts) == [], sentence
        if sentence.topic == "note":
            assert sentence.sources, sentence
            assert all(not resolve(trial, p) for p in sentence.sources), sentence
            continue
        assert sentence.sources, sentence
        assert check_paths(trial, sentence.sources) == [], sentence
        assert check_text(sentence.text, path_facts(trial, sentence.sources)) == [], sentence


def test_every_sample_summary_is_grounded_sentence_by_sentence(
        sample_trials: list[Trial]) -> None:
    for trial in sample_trials:
        _assert_grounded(trial)


def test_every_sample_summary_reads_at_grade_8_or_below(sample_trials: list[Trial]) -> None:
    for trial in sample_trials:
        summary = offline_summary(trial)
        assert summary.grade is not None and summary.grade <= TARGET_GRADE, summary.text
        assert summary.grade == pytest.approx(grade(summary.text), abs=0.01)


def test_sample_summaries_cover_what_who_do_where_and_status(
        sample_trials: list[Trial]) -> None:
    for trial in sample_trials:
        topics = {s.topic for s in offline_summary(trial).sentences}
        assert {"what", "who", "do", "where", "status"} <= topics, trial.nct_id


def test_a_comparison_trial_names_both_arms_and_the_facts(by_id: dict[str, Trial]) -> None:
    summary = offline_summary(by_id["NCT09000001"])
    text = summary.text
    assert "It tests the drug denosumab." in text
    assert "It compares it with alendronate." in text
    assert "Everyone also gets calcium and vitamin D." in text
    assert "Only women aged 55 to 85 can join." in text
    assert "840" in text and "24 months" in text and "Boston" in text
    assert "looking for people to join now" in text
    tested = next(s for s in summary.sentences if s.text.startswith("It tests"))
    assert "interventions[0].name" in tested.sources


def test_who_can_join_uses_the_parsed_criteria(by_id: dict[str, Trial]) -> None:
    trial = by_id["NCT09000001"]
    if parsed_criteria(trial) is None:
        pytest.skip("criteria parser not installed")
    summary = offline_summary(trial)
    asks = [s for s in summary.sentences if s.text.startswith("To join")]
    assert asks, summary.text
    for sentence in asks:
        (path,) = sentence.sources
        assert re.fullmatch(r"eligibility\.criteria\[\d+:\d+\]", path)
        assert resolve(trial, path)[0].strip()
        assert sentence.text.endswith("?")


def test_a_record_with_only_an_id_gets_a_short_honest_summary() -> None:
    trial = Trial(nct_id="NCT01234567")
    summary = summarize(trial)
    assert [s.topic for s in summary.sentences] == ["note", "note"]
    assert "does not say if it is open" in summary.text
    assert "what is tested, who can join and where it takes place" in summary.text


def test_title_concepts_stand_in_for_missing_structured_fields() -> None:
    trial = Trial(nct_id="NCT01234567",
                  brief_title="Zoledronate After Hip Fracture in Adults With T2DM")
    text = summarize(trial).text
    assert "It is about hip fracture and type 2 diabetes." in text
    assert "It looks at zoledronic acid." in text


def test_placebo_comparator_and_ages_in_months() -> None:
    trial = Trial(
        nct_id="NCT01234567", conditions=["Asthma"],
        arm_groups=[ArmGroup(label="A", type="EXPERIMENTAL", intervention_names=["Drug: X-1"]),
                    ArmGroup(label="B", type="PLACEBO_COMPARATOR",
                             intervention_names=["Drug: Placebo"])],
        interventions=[Intervention(type="DRUG", name="X-1", arm_group_labels=["A"]),
                       Intervention(type="DRUG", name="Placebo", arm_group_labels=["B"])],
        eligibility=Eligibility(minimum_age="6 Months", maximum_age="11 Years",
                                minimum_age_days=182.6, maximum_age_days=4017.75))
    text = summarize(trial).text
    assert "It compares it with a placebo." in text
    assert "A placebo looks like the real treatment" in text
    assert "Children aged 6 months to 11 years can join." in text


def test_many_sites_are_counted_and_sampled() -> None:
    sites = [Site(city=f"Town{i}", country="France") for i in range(7)]
    text = summarize(Trial(nct_id="NCT01234567", sites=sites)).text
    assert "It takes place at 7 sites in France." in text
    assert "Cities include Town0, Town1, Town2, Town3 and others." in text


@pytest.mark.parametrize(("frame", "expected"), [
    ("Baseline and Month 24", "24 months"), ("12 weeks", "12 weeks"),
    ("Day 1 to Day 253", "253 days"), ("up to 2 years", "2 years"), ("1 year", "1 year"),
    ("at discharge", None)])
def test_longest_duration(frame: str, expected: str | None) -> None:
    found = longest_duration(frame)
    assert (found[1] if found else None) == expected


@pytest.mark.parametrize(("name", "shown"), [
    ("Placebo Tablet", "placebo tablet"), ("Denosumab", "denosumab"), ("EU-Prolia", "EU-Prolia"),
    ("Prolia", "Prolia"), ("Alzheimer Disease", "Alzheimer disease"), ("CLW-4410", "CLW-4410"),
    ("Somatropin (recombinant human growth hormone for injection)", "Somatropin")])
def test_display_names(name: str, shown: str) -> None:
    assert display_name(name) == shown


def test_a_sentence_that_fails_the_fact_check_is_dropped() -> None:
    trial = Trial(nct_id="NCT01234567", conditions=["Osteoporosis"])
    from trialscout.summaries import offline

    builder = offline._Builder(trial)
    assert builder.add("what", "It is about osteoporosis.", ["conditions[0]"])
    assert not builder.add("what", "It is about osteoporosis in 300 people.", ["conditions[0]"])
    assert not builder.add("what", "It is about diabetes.", ["conditions[0]"])
    assert not builder.add("what", "It is about osteoporosis.", ["conditions[5]"])
    assert builder.dropped == 3


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
_AGE = st.one_of(st.none(), st.builds(lambda n, u: f"{n} {u}", st.integers(0, 120),
                                      st.sampled_from(["Years", "Months", "Weeks", "Days"])))


@st.composite
def _trials(draw: st.DrawFn) -> Trial:
    labels = draw(st.lists(_TEXT.filter(str.strip), max_size=4, unique=True))
    arm_types = st.sampled_from([None, "EXPERIMENTAL", "ACTIVE_COMPARATOR",
                                 "PLACEBO_COMPARATOR", "NO_INTERVENTION", "OTHER"])
    arms = [ArmGroup(label=label, type=draw(arm_types),
                     intervention_names=draw(st.lists(_TEXT, max_size=3))) for label in labels]
    interventions = [Intervention(name=draw(_TEXT.filter(str.strip)),
                                  type=draw(st.sampled_from([None, "DRUG", "DEVICE", "OTHER"])),
                                  arm_group_labels=draw(st.lists(st.sampled_from(labels or ["x"]),
                                                                 max_size=2)))
                     for _ in range(draw(st.integers(0, 4)))]
    return Trial(
        nct_id="NCT0" + str(draw(st.integers(1000000, 9999999))),
        brief_title=draw(st.one_of(st.none(), _TEXT)),
        overall_status=draw(st.one_of(st.none(), st.sampled_from(
            ["RECRUITING", "COMPLETED", "UNKNOWN", "WITHDRAWN"]))),
        phases=draw(st.lists(st.sampled_from(["PHASE1", "PHASE2", "PHASE3", "NA"]), max_size=2)),
        conditions=draw(st.lists(_TEXT, max_size=3)),
        arm_groups=arms, interventions=interventions,
        enrollment_count=draw(st.one_of(st.none(), st.integers(0, 10**6))),
        sites=[Site(city=draw(st.one_of(st.none(), _TEXT)),
                    country=draw(st.one_of(st.none(), _TEXT)))
               for _ in range(draw(st.integers(0, 6)))],
        eligibility=Eligibility(sex=draw(st.sampled_from(["ALL", "FEMALE", "MALE"])),
                                minimum_age=draw(_AGE), maximum_age=draw(_AGE),
                                criteria=draw(st.one_of(st.none(), _TEXT))),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trials())
def test_any_trial_gets_a_grounded_summary_without_crashing(trial: Trial) -> None:
    _assert_grounded(trial)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["conditionsModule", "descriptionModule",
                                        "armsInterventionsModule", "statusModule"]),
                       st.just({})))
def test_factory_studies_summarize(modules: dict[str, dict[str, object]]) -> None:
    trial = trial_from_api_v2(json.loads(json.dumps(study(**modules))))
    assert offline_summary(trial).sentences


def test_topic_titles_cover_every_topic() -> None:
    from trialscout.summaries.model import TOPICS

    assert set(TOPIC_TITLES) == set(TOPICS)
