"""Folding criterion verdicts through the logic tree (issue 13, "What to build" 1 and 4).

The fold is checked against its meaning rather than against a copy of its code: a value
is decided exactly when every way of filling in the unknown leaves agrees on it. The
trial-level tests answer the self-check questions of fictional criteria (so they do not
depend on how well a note is read), and run the two sample defects end to end.
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from functools import lru_cache

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscout.criteria import ParsedCriteria, parse_criteria
from trialscout.criteria.model import LogicNode
from trialscout.matching.facts import PatientFacts
from trialscout.matching.logic import fold, fold_trial, section_trees
from trialscout.matching.model import CriterionVerdict, TrialMatch
from trialscout.matching.trial import trial_verdict
from trialscout.patients.loader import load_patient_text
from trialscout.patients.model import Answer, PatientProfile
from trialscout.registry.api_v2 import trial_from_api_v2
from trialscout.registry.model import Trial
from trialscout.sample import sample_path

REF = date(2025, 6, 1)
Truth = bool | None


def verdict(index: int, section: str, holds: Truth, *, checkable: bool = True,
            applicable: bool = True, confidence: float | None = None) -> CriterionVerdict:
    """A criterion verdict whose statement holds (True), does not (False) or is open."""
    if holds is None:
        label = "UNKNOWN"
    else:
        passes = holds if section == "inclusion" else not holds
        label = "MET" if passes else "NOT_MET"
    return CriterionVerdict(
        item_index=index, section=section, kind="condition", text=f"criterion {index}",
        verdict=label, holds=holds, checkable=checkable, applicable=applicable,
        reason="test", confidence=confidence if label == "NOT_MET" else None)


# ------------------------------------------------------------------ the meaning of a value
def two_valued(node: LogicNode, values: dict[int, bool]) -> bool:
    members = [values[i] for i in node.items] + [two_valued(c, values) for c in node.children]
    if node.op == "all":
        return all(members)
    if node.op == "any":
        return any(members)
    return sum(members) >= (node.k or 1)


def decided(node: LogicNode, values: dict[int, Truth]) -> Truth:
    """True or False when every completion of the open leaves gives it, else None."""
    open_ = [i for i, v in values.items() if v is None]
    seen = set()
    for filling in itertools.product([True, False], repeat=len(open_)):
        complete = {i: bool(v) for i, v in values.items() if v is not None}
        complete.update(zip(open_, filling, strict=True))
        seen.add(two_valued(node, complete))
    return seen.pop() if len(seen) == 1 else None


@st.composite
def trees(draw: st.DrawFn, depth: int = 0, counter: list[int] | None = None) -> LogicNode:
    counter = counter if counter is not None else [0]
    leaves = draw(st.integers(min_value=0 if depth < 2 else 1, max_value=3))
    items = list(range(counter[0], counter[0] + leaves))
    counter[0] += leaves
    children = [draw(trees(depth + 1, counter))
                for _ in range(draw(st.integers(0, 2 if depth < 2 else 0)))]
    if not items and not children:
        items = [counter[0]]
        counter[0] += 1
    op = draw(st.sampled_from(["all", "any", "at_least"]))
    size = len(items) + len(children)
    k = draw(st.integers(1, size)) if op == "at_least" else None
    return LogicNode(op=op, k=k, items=items, children=children)


def all_items(node: LogicNode) -> list[int]:
    return list(node.items) + [i for c in node.children for i in all_items(c)]


@given(trees(), st.data(), st.sampled_from(["inclusion", "exclusion"]))
@settings(max_examples=300, deadline=None)
def test_a_value_is_decided_exactly_when_every_completion_agrees(
        tree: LogicNode, data: st.DataObject, section: str) -> None:
    leaves = all_items(tree)
    values: dict[int, Truth] = {i: data.draw(st.sampled_from([True, False, None]))
                                for i in leaves}
    verdicts = {i: verdict(i, section, v) for i, v in values.items()}
    result = fold(tree, verdicts, section)
    assert result.value == decided(tree, values)
    target = section == "inclusion"
    if result.value == target:
        assert result.failing == [] and result.unknown == []
    if result.value is None:
        # a failed alternative inside a group still open fails nothing
        assert result.failing == []
    for i in result.failing:
        assert values[i] is (not target)
    for i in result.unknown:
        assert values[i] is None
    if result.value is not None and result.value != target:
        assert result.failing
        # turning what fails and what is open the wanted way satisfies the tree
        fixed = {i: (target if i in result.failing or i in result.unknown else v)
                 for i, v in values.items()}
        assert decided(tree, fixed) == target


def test_one_met_alternative_satisfies_an_any_group_and_fails_nothing() -> None:
    tree = LogicNode(op="all", items=[0], children=[LogicNode(op="any", items=[1, 2, 3])])
    verdicts = {0: verdict(0, "inclusion", True), 1: verdict(1, "inclusion", False),
                2: verdict(2, "inclusion", True), 3: verdict(3, "inclusion", None)}
    result = fold(tree, verdicts, "inclusion")
    assert (result.value, result.failing, result.unknown) == (True, [], [])


def test_open_alternatives_are_asked_and_failed_ones_are_not_listed() -> None:
    tree = LogicNode(op="any", items=[1, 2, 3])
    verdicts = {1: verdict(1, "inclusion", False), 2: verdict(2, "inclusion", None),
                3: verdict(3, "inclusion", False)}
    result = fold(tree, verdicts, "inclusion")
    assert (result.value, result.failing, result.unknown) == (None, [], [2])


def test_criteria_no_one_can_check_hold_nobody_back() -> None:
    inclusion = LogicNode(op="all", items=[0, 1])
    exclusion = LogicNode(op="any", items=[2, 3])
    verdicts = {0: verdict(0, "inclusion", True),
                1: verdict(1, "inclusion", None, checkable=False),
                2: verdict(2, "exclusion", False),
                3: verdict(3, "exclusion", None, checkable=False)}
    outcome = fold_trial({"inclusion": inclusion, "exclusion": exclusion}, verdicts)
    assert outcome.passes and outcome.unknown == []
    # among alternatives an unchecked one might be the one met: open, but not asked
    alternatives = LogicNode(op="any", items=[4, 5])
    verdicts = {4: verdict(4, "inclusion", False),
                5: verdict(5, "inclusion", None, checkable=False)}
    result = fold(alternatives, verdicts, "inclusion")
    assert (result.value, result.failing, result.unknown) == (None, [], [])


def test_a_criterion_that_only_lets_a_group_in_is_not_an_alternative() -> None:
    tree = LogicNode(op="any", items=[0, 1])
    verdicts = {0: verdict(0, "inclusion", False),
                1: verdict(1, "inclusion", True, applicable=False)}
    assert fold(tree, verdicts, "inclusion").value is not True


def test_not_evaluated_leaves_are_open_but_not_asked() -> None:
    tree = LogicNode(op="all", items=[0, 1])
    result = fold(tree, {0: verdict(0, "inclusion", True)}, "inclusion")
    assert (result.value, result.unknown) == (None, [])


def test_an_inclusion_read_as_an_exclusion_counts_by_what_it_says() -> None:
    """"Patients with brain metastases should be excluded" under the inclusion heading:
    matching reads it as an exclusion; present metastases fail the inclusion tree."""
    tree = LogicNode(op="all", items=[0])
    flipped = verdict(0, "exclusion", True)
    assert fold(tree, {0: flipped}, "inclusion").value is False


def test_failure_confidence_of_groups() -> None:
    verdicts = {1: verdict(1, "inclusion", False, confidence=0.9),
                2: verdict(2, "inclusion", False, confidence=0.4)}
    every = fold(LogicNode(op="all", items=[1, 2]), verdicts, "inclusion")
    either = fold(LogicNode(op="any", items=[1, 2]), verdicts, "inclusion")
    assert every.confidence == 0.9
    assert either.confidence == 0.4
    excluded = {1: verdict(1, "exclusion", True, confidence=0.9),
                2: verdict(2, "exclusion", True, confidence=0.4)}
    assert fold(LogicNode(op="any", items=[1, 2]), excluded, "exclusion").confidence == 0.9
    assert fold(LogicNode(op="all", items=[1, 2]), excluded, "exclusion").confidence == 0.4


def test_registry_criteria_join_the_inclusion_root() -> None:
    parsed = parse_criteria("Inclusion Criteria:\n* Adults\nExclusion Criteria:\n* Pregnancy")
    trees_ = section_trees(parsed, [-1, -2])
    assert trees_["inclusion"].op == "all"
    assert {-1, -2} <= set(all_items(trees_["inclusion"]))
    assert trees_["exclusion"].op == "any"


# ------------------------------------------------------------------ whole trials
FICTIONAL = ("Inclusion Criteria:\n\n* Adults with long-standing migraine\n"
             "* At least one of the following:\n  * four or more attacks a month\n"
             "  * attacks lasting over a day\n  * missed work because of attacks\n\n"
             "Exclusion Criteria:\n\n* Pregnancy\n* Any of the following heart problems:\n"
             "  * a stroke\n  * a heart attack\n")


def fictional_trial(text: str = FICTIONAL) -> Trial:
    return trial_from_api_v2({"protocolSection": {
        "identificationModule": {"nctId": "NCT09990777", "briefTitle": "A fictional study"},
        "eligibilityModule": {"eligibilityCriteria": text, "sex": "ALL"}}})


def answered(parsed: ParsedCriteria, meets: dict[str, bool]) -> PatientProfile:
    """Answers to the questions of the items whose text starts with a key of ``meets``:
    the satisfying answer when True, the other one when False."""
    answers = []
    for item in parsed.items:
        for start, ok in meets.items():
            if item.text.startswith(start):
                answer = item.question.meets if ok else (
                    "no" if item.question.meets == "yes" else "yes")
                answers.append(Answer(question_key=item.question.key, answer=answer))
    return PatientProfile(answers=answers)


def match(meets: dict[str, bool], *, stop: bool = False) -> tuple[TrialMatch, ParsedCriteria]:
    parsed = parse_criteria(FICTIONAL)
    result = trial_verdict(fictional_trial(), parsed, PatientFacts(answered(parsed, meets), REF),
                           stop_at_failure=stop)
    return result, parsed


ALL_CLEAR = {"Adults": True, "Pregnancy": True, "a stroke": True, "a heart attack": True}


def test_one_alternative_is_enough_and_the_others_are_not_failing() -> None:
    result, parsed = match({**ALL_CLEAR, "four or more": False, "attacks lasting": True,
                            "missed work": False})
    assert result.verdict == "eligible", result.reason
    assert result.failing == [] and result.open_questions == []
    label = next(i for i in parsed.items if i.text.startswith("At least one"))
    assert label.index not in {v.item_index for v in result.criteria}


def test_no_alternative_met_fails_the_group_and_names_every_alternative() -> None:
    result, parsed = match({**ALL_CLEAR, "four or more": False, "attacks lasting": False,
                            "missed work": False})
    assert result.verdict == "not_eligible"
    alternatives = {i.index for i in parsed.items if i.parent is not None
                    and i.section == "inclusion"}
    assert set(result.failing) == alternatives
    assert result.reason.startswith("fails 3 criteria:")


def test_an_open_alternative_leaves_the_trial_possibly_eligible_and_is_asked() -> None:
    result, parsed = match({**ALL_CLEAR, "four or more": False, "attacks lasting": False})
    assert result.verdict == "possibly_eligible"
    assert result.failing == []
    asked = {q.key for q in result.open_questions}
    missed = next(i for i in parsed.items if i.text.startswith("missed work"))
    assert asked == {missed.question.key}
    assert "fails" not in result.reason


def test_one_exclusion_in_a_group_excludes() -> None:
    result, parsed = match({**ALL_CLEAR, "attacks lasting": True, "a heart attack": False})
    assert result.verdict == "not_eligible"
    [failing] = result.failing
    assert parsed.items[failing].text == "a heart attack"


def test_stopping_early_waits_until_the_tree_has_decided() -> None:
    """A first failed alternative (a sure answer) used to stop the check as a failure."""
    meets = {**ALL_CLEAR, "four or more": False, "attacks lasting": True}
    stopped, _ = match(meets, stop=True)
    full, _ = match(meets)
    assert stopped.verdict == full.verdict != "not_eligible"
    assert stopped.complete
    failed, _ = match({**ALL_CLEAR, "Adults": False}, stop=True)
    assert failed.verdict == "not_eligible" and not failed.complete


# ------------------------------------------------------------------ the sample defects
@lru_cache(maxsize=1)
def sample_trials() -> dict[str, Trial]:
    out = {}
    for line in sample_path().read_bytes().splitlines():
        if line.strip():
            trial = trial_from_api_v2(orjson.loads(line))
            out[trial.nct_id] = trial
    return out


def sample_match(nct_id: str, profile: PatientProfile) -> tuple[TrialMatch, ParsedCriteria]:
    trial = sample_trials()[nct_id]
    parsed = parse_criteria(trial.eligibility.criteria or "")
    return trial_verdict(trial, parsed, PatientFacts(profile, REF)), parsed


def test_sample_at_least_one_risk_factor_is_met_by_one() -> None:
    """NCT09000001: meeting one of the three additional risk factors is enough."""
    trial = sample_trials()["NCT09000001"]
    parsed = parse_criteria(trial.eligibility.criteria or "")
    [group] = [c for c in parsed.logic["inclusion"].children if c.item is not None]
    assert group.op == "any" and len(group.items) == 3
    assert parsed.items[group.item or 0].text.startswith("At least one of the following")
    risk = [parsed.items[i] for i in group.items]
    meets = {risk[0].text: False, risk[1].text: True, risk[2].text: False}
    result = trial_verdict(trial, parsed, PatientFacts(answered(parsed, meets), REF))
    assert not set(result.failing) & set(group.items), result.reason
    assert not re.search(r"T-score ≤ -3\.0", result.reason)
    assert all(q.key not in {r.question.key for r in risk} for q in result.open_questions)


def test_sample_inline_paragraph_is_two_sections_and_fails_without_kidney_disease() -> None:
    """NCT09000010 runs inclusion and exclusion in one paragraph; its one inclusion item
    was MET while its reason said no eGFR was recorded."""
    note = ("A 70-year-old woman with osteoporosis, lumbar spine T-score -3.0. She has no "
            "kidney disease; eGFR 88 mL/min/1.73m2.")
    profile = load_patient_text(note, reference_date=REF).profile
    result, parsed = sample_match("NCT09000010", profile)
    assert {"inclusion", "exclusion"} == {i.section for i in parsed.items}
    assert len([i for i in parsed.items if i.section == "exclusion"]) >= 5
    assert all(len(i.text) < 400 for i in parsed.items)
    assert result.verdict == "not_eligible", result.reason
    for v in result.criteria:
        if v.verdict == "MET":
            assert not re.search(r"\bno\b.*\bvalue recorded\b", v.reason), v.reason



def test_a_single_failing_criterion_is_said_in_the_singular() -> None:
    result, _ = match({**ALL_CLEAR, "Adults": False, "four or more": True})
    assert result.verdict == "not_eligible" and len(result.failing) == 1
    assert result.reason.startswith("fails 1 criterion:"), result.reason
