"""The self-check verdict: cautious, explainable, and consistent with the item statuses."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trialscout.sessions.selfcheck import Question, build_checklist

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
def test_verdict_agrees_with_item_statuses(spec) -> None:  # type: ignore[no-untyped-def]
    questions, given_answers = [], {}
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
