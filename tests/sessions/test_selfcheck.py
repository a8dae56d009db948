"""The self-check verdict: cautious, explainable, and consistent with the item statuses."""

from __future__ import annotations

from typing import Literal

from hypothesis import given
from hypothesis import strategies as st

from trialscout.sessions.models import Answer
from trialscout.sessions.selfcheck import Group, Question, Section, build_checklist

INCLUSION = Question("c1", "inclusion", "Postmenopausal", "Are you postmenopausal?",
                     "menopause:post", "yes", True)
EXCLUSION = Question("c2", "exclusion", "Denosumab in 6 months",
                     "Have you received denosumab in the past 6 months?", "med:denosumab:6m",
                     "no", True)
CONSENT = Question("c3", "inclusion", "Signed informed consent")


def test_nothing_answered_is_not_started() -> None:
    checklist = build_checklist("NCT1", [INCLUSION, EXCLUSION, CONSENT], {})
    assert checklist.verdict.status == "not_started"
    assert checklist.verdict.questions == 2 and checklist.verdict.checked_by_team == 1
    assert [i.status for i in checklist.items] == ["unknown", "unknown", "not_answerable"]


def test_a_contradicting_answer_makes_it_not_eligible_naming_the_item() -> None:
    checklist = build_checklist("NCT1", [INCLUSION, EXCLUSION],
                                {"menopause:post": "yes", "med:denosumab:6m": "yes"})
    assert checklist.verdict.status == "not_eligible"
    assert checklist.verdict.failing == ["c2"]


def test_fitting_answers_with_team_checks_left_are_possibly_eligible() -> None:
    checklist = build_checklist("NCT1", [INCLUSION, EXCLUSION, CONSENT],
                                {"menopause:post": "yes", "med:denosumab:6m": "no"})
    assert checklist.verdict.status == "possibly_eligible"
    assert checklist.verdict.met == 2 and checklist.verdict.open == []


def test_all_questions_fitting_and_nothing_else_is_eligible() -> None:
    checklist = build_checklist("NCT1", [INCLUSION, EXCLUSION],
                                {"menopause:post": "yes", "med:denosumab:6m": "no"})
    assert checklist.verdict.status == "eligible"


def test_not_sure_keeps_the_question_open() -> None:
    checklist = build_checklist("NCT1", [INCLUSION, EXCLUSION], {"menopause:post": "unsure"})
    assert checklist.verdict.status == "possibly_eligible"
    assert checklist.verdict.unsure == 1 and set(checklist.verdict.open) == {"c1", "c2"}


def test_answers_to_unasked_keys_are_ignored_and_unanswerable_items_take_none() -> None:
    checklist = build_checklist("NCT1", [CONSENT], {"other": "yes"})
    assert checklist.items[0].answer is None and checklist.items[0].question_key is None


answers = st.sampled_from(["yes", "no", "unsure"])


@given(st.lists(st.tuples(st.sampled_from(["inclusion", "exclusion"]),
                          st.sampled_from(["yes", "no"]), st.booleans(),
                          st.one_of(st.none(), answers)), max_size=12))
def test_verdict_agrees_with_item_statuses(
        spec: list[tuple[Section, Literal["yes", "no"], bool, Answer | None]]) -> None:
    questions: list[Question] = []
    given_answers: dict[str, Answer] = {}
    for i, (section, meets, answerable, answer) in enumerate(spec):
        key = f"k{i}"
        questions.append(Question(f"c{i}", section, f"criterion {i}", f"question {i}?", key,
                                  meets, answerable))
        if answer is not None:
            given_answers[key] = answer
    checklist = build_checklist("NCT1", questions, given_answers)
    statuses = [item.status for item in checklist.items]
    verdict = checklist.verdict
    assert (verdict.status == "not_eligible") == ("not_met" in statuses)
    if verdict.status == "eligible":
        assert all(s == "met" for s in statuses) and statuses
    assert verdict.questions == sum(s != "not_answerable" for s in statuses)
    assert verdict.answered == statuses.count("met") + statuses.count("not_met")
    assert set(verdict.failing) == {i.id for i in checklist.items if i.status == "not_met"}


# ------------------------------------------------------------------ plurals and counts
TEAM = Question("c9", "inclusion", "At least 2 evaluable vertebrae",
                "The study team will check your test results.", "team:abc", "yes", False)


def test_the_count_asks_only_what_the_patient_can_answer_with_plurals() -> None:
    one = build_checklist("NCT1", [INCLUSION, CONSENT, TEAM], {}).verdict
    assert one.questions == 1 and one.checked_by_team == 2
    assert one.explanation == "Answer the question below to check your eligibility."
    assert one.counts == "0 of 1 question answered."
    two = build_checklist("NCT1", [INCLUSION, EXCLUSION, TEAM], {}).verdict
    assert two.explanation == "Answer the 2 questions below to check your eligibility."
    assert two.counts == "0 of 2 questions answered."
    fitting = build_checklist("NCT1", [INCLUSION, TEAM], {"menopause:post": "yes"}).verdict
    assert fitting.explanation == ("Your answers fit so far; 1 criterion only the study team "
                                   "can check.")
    open_ = build_checklist("NCT1", [INCLUSION, EXCLUSION, CONSENT, TEAM],
                            {"menopause:post": "unsure"}).verdict
    assert "2 questions still open and 2 criteria only the study team" in open_.explanation


def test_a_study_team_statement_is_not_a_question() -> None:
    item = build_checklist("NCT1", [TEAM], {"team:abc": "yes"}).items[0]
    assert (item.status, item.answerable, item.answer) == ("not_answerable", False, None)
    assert item.question == "The study team will check your test results."


# ------------------------------------------------------------------ groups
ANY = Group("g1", "any")
RISK = [Question("c3", "inclusion", "At least one of the following risk factors:",
                 "The study team will check this with you.", "team:lead", "yes", False,
                 label=ANY),
        *(Question(f"c{n}", "inclusion", f"risk factor {n}", f"Do you have risk {n}?",
                   f"risk:{n}", "yes", True, depth=1, groups=(ANY,)) for n in (4, 5, 6))]


def test_one_fitting_answer_satisfies_at_least_one_of() -> None:
    checklist = build_checklist("NCT1", [INCLUSION, *RISK],
                                {"menopause:post": "yes", "risk:4": "no", "risk:5": "yes",
                                 "risk:6": "no"})
    verdict = checklist.verdict
    assert verdict.status == "eligible", verdict.explanation
    assert verdict.failing == [] and verdict.checked_by_team == 0
    assert verdict.questions == 4, "the lead-in is a heading, not a question"
    lead = checklist.items[1]
    assert lead.group == "Any one of the criteria below is enough." and not lead.answerable


def test_no_to_every_alternative_fails_naming_them() -> None:
    verdict = build_checklist("NCT1", [INCLUSION, *RISK],
                              {"risk:4": "no", "risk:5": "no", "risk:6": "no"}).verdict
    assert verdict.status == "not_eligible"
    assert verdict.failing == ["c4", "c5", "c6"]


def test_a_settled_group_leaves_no_open_questions_in_it() -> None:
    verdict = build_checklist("NCT1", [INCLUSION, *RISK], {"risk:6": "yes"}).verdict
    assert verdict.status == "possibly_eligible"
    assert verdict.open == ["c1"]


def test_at_least_two_of_needs_two() -> None:
    two = Group("g2", "at_least", 2)
    items = [Question(f"c{n}", "inclusion", f"sign {n}", f"Sign {n}?", f"sign:{n}", "yes",
                      True, groups=(two,)) for n in range(3)]
    assert build_checklist("NCT1", items, {"sign:0": "yes", "sign:1": "no"}
                           ).verdict.status == "possibly_eligible"
    assert build_checklist("NCT1", items, {"sign:0": "yes", "sign:1": "no", "sign:2": "no"}
                           ).verdict.status == "not_eligible"
    assert build_checklist("NCT1", items, {"sign:0": "yes", "sign:2": "yes"}
                           ).verdict.status == "eligible"


def test_an_exclusion_group_of_all_excludes_only_when_all_apply() -> None:
    both = Group("g3", "all")
    items = [Question(f"c{n}", "exclusion", f"finding {n}", f"Finding {n}?", f"f:{n}", "no",
                      True, groups=(both,)) for n in range(2)]
    assert build_checklist("NCT1", items, {"f:0": "yes", "f:1": "no"}
                           ).verdict.status == "eligible"
    verdict = build_checklist("NCT1", items, {"f:0": "yes", "f:1": "yes"}).verdict
    assert verdict.status == "not_eligible" and verdict.failing == ["c0", "c1"]
