"""Negation reach in criteria (issue 13, failure kind 5): prohibitions inside exclusion
lists, bounds listed after a negated condition, and "free of X for N years"."""

from __future__ import annotations

from trialscout.criteria import parse_criteria
from trialscout.criteria.model import Constraint


def _constraints(section: str, text: str) -> list[Constraint]:
    heading = "Inclusion Criteria" if section == "inclusion" else "Exclusion Criteria"
    parsed = parse_criteria(f"{heading}:\n\n* {text}\n")
    items = parsed.inclusion if section == "inclusion" else parsed.exclusion
    assert len(items) == 1
    return list(items[0].constraints)


def _one(section: str, text: str, concept: str) -> Constraint:
    found = [c for c in _constraints(section, text) if c.concept and c.concept.id == concept]
    assert len(found) == 1, _constraints(section, text)
    return found[0]


def test_a_prohibition_in_an_exclusion_names_what_excludes() -> None:
    for text in ("Participants may not be taking any other experimental drug",
                 "Subjects must not have received prior chemotherapy",
                 "Women should not be pregnant"):
        for c in _constraints("exclusion", text):
            if c.concept is not None:
                assert c.polarity == "must_not" and not c.negated, (text, c)


def test_the_same_prohibition_in_an_inclusion_still_forbids() -> None:
    c = _one("inclusion", "Subjects must not have received prior chemotherapy", "chemotherapy")
    assert c.polarity == "must_not" and c.negated


def test_an_inability_in_an_exclusion_is_still_a_negation() -> None:
    # "who may not tolerate" is a supposition about the patient, not a rule of the study
    c = _one("exclusion", "Patients who may not tolerate MRI", "mri")
    assert c.negated


def test_a_bound_listed_after_a_negated_condition_is_required() -> None:
    text = "No uncontrolled heart disease, left ventricular ejection fraction of at least 50%"
    lvef = _one("inclusion", text, "lvef")
    assert lvef.polarity == "required" and not lvef.negated
    hb = _one("inclusion", "Without need for blood transfusions (hemoglobin > 9 g/dL)",
              "hemoglobin")
    assert hb.polarity == "required"


def test_a_bound_that_defines_the_negated_condition_stays_negated() -> None:
    for text in ("No congestive heart failure (LVEF < 35%)",
                 "No heart failure with LVEF < 35%",
                 "No LVEF < 35%"):
        lvef = _one("inclusion", text, "lvef")
        assert lvef.polarity == "must_not", text


def test_free_of_a_condition_for_years_is_a_window_not_a_duration() -> None:
    for text in ("Free of any malignancy for at least 5 years",
                 "Cancer-free for 3 years or more",
                 "No cancer for the last 4 years"):
        c = _one("inclusion", text, "cancer")
        assert c.kind == "condition" and c.polarity == "must_not", text
        assert c.window is not None and c.window.relation == "within", text
    had = _one("inclusion", "Diabetes for at least 8 years", "diabetes")
    assert had.kind == "disease_duration" and had.window is not None
    assert had.window.relation == "duration"
