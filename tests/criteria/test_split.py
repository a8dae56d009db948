"""Splitting criteria texts into inclusion and exclusion items, whatever their layout."""

from __future__ import annotations

import pytest

from tests.criteria.helpers import items, parsed, texts


def _sections(text: str) -> list[tuple[str, str]]:
    return [(item.section, item.text) for item in items(text)]


@pytest.mark.parametrize("inc,exc", [
    ("Inclusion Criteria:", "Exclusion Criteria:"),
    ("INCLUSION:", "EXCLUSION:"),
    ("Key Inclusion Criteria", "Key Exclusion Criteria"),
    ("- Inclusion Criteria:", "- Exclusion Criteria:"),
    ("inclusion criteria:", "exclusion criteria:"),
    ("**Inclusion criteria:**", "**Exclusion criteria:**"),
    ("Inclusion Criteria (all participants):", "Main exclusion criteria:"),
    ("Criteria for inclusion", "Criteria for exclusion"),
    # a qualifier with "for ... in ..." runs up to the colon
    ("Inclusion Criteria for the first phase randomized control period:",
     "Exclusion Criteria for Randomized Controlled Period in Stage I:"),
    ("Inclusion criteria for primary study:", "Exclusion criteria FOR PATIENTS WITH PAH:"),
])
def test_heading_spellings(inc: str, exc: str) -> None:
    text = f"{inc}\n* Age 50 or older\n* Osteoporosis\n{exc}\n* Prior denosumab\n"
    assert _sections(text) == [("inclusion", "Age 50 or older"), ("inclusion", "Osteoporosis"),
                               ("exclusion", "Prior denosumab")]
    assert [h.section for h in parsed(text).headings] == ["inclusion", "exclusion"]


def test_exclusion_section_first() -> None:
    text = "Exclusion Criteria:\n- Pregnancy\nInclusion Criteria:\n- Adults"
    assert _sections(text) == [("exclusion", "Pregnancy"), ("inclusion", "Adults")]


def test_no_headings_means_inclusion_and_not_explicit() -> None:
    result = items("Adults with asthma\nNo smoking history")
    assert [(i.section, i.section_explicit) for i in result] == [("inclusion", False)] * 2
    assert [i.text for i in result] == ["Adults with asthma", "No smoking history"]


@pytest.mark.parametrize("marker", ["*", "-", "•", "- •", "1.", "1)", "(1)", "a.", "+", "o"])
def test_bullets_and_numbering(marker: str) -> None:
    text = f"Inclusion Criteria:\n{marker} First criterion\n{marker} Second criterion"
    assert texts(text) == ["First criterion", "Second criterion"]


def test_mixed_numbering_styles_are_siblings() -> None:
    text = "INCLUSION:\n1. First\n2) Second\n(3) Third\n10. Tenth"
    assert [(i.text, i.depth) for i in items(text)] == [
        ("First", 0), ("Second", 0), ("Third", 0), ("Tenth", 0)]


def test_nested_bullets_keep_their_parent() -> None:
    text = ("Inclusion Criteria:\n\n* Adequate organ function:\n  * ALT < 3 x ULN\n"
            "  * Creatinine < 1.5 mg/dL\n* Age 18 or older")
    result = items(text)
    assert [(i.text, i.depth, i.parent) for i in result] == [
        ("Adequate organ function:", 0, None), ("ALT < 3 x ULN", 1, 0),
        ("Creatinine < 1.5 mg/dL", 1, 0), ("Age 18 or older", 0, None)]


def test_letters_after_a_colon_are_children_and_numbering_resumes() -> None:
    text = "Exclusion:\n1. History of one of the following:\na. myocardial infarction\n" \
           "b. stroke\n2. Pregnancy"
    result = items(text)
    assert [(i.text, i.depth, i.parent) for i in result] == [
        ("History of one of the following:", 0, None), ("myocardial infarction", 1, 0),
        ("stroke", 1, 0), ("Pregnancy", 0, None)]


def test_dotted_numbering_nests() -> None:
    result = items("1. Disease\n1.1 Confirmed\n1.2 Measurable\n2. Age over 18")
    assert [(i.text, i.depth) for i in result] == [
        ("Disease", 0), ("Confirmed", 1), ("Measurable", 1), ("Age over 18", 0)]


def test_legacy_xml_wrapped_lines_stay_in_their_item() -> None:
    text = ("        Inclusion Criteria:\n\n          -  Male or female, 18 years or older\n\n"
            "          -  Histologically confirmed cancer that has\n"
            "             spread to the bone\n\n        Exclusion Criteria:\n\n"
            "          -  Pregnancy\n")
    result = items(text)
    assert [i.text for i in result] == [
        "Male or female, 18 years or older",
        "Histologically confirmed cancer that has\n             spread to the bone",
        "Pregnancy"]
    assert result[2].section == "exclusion"


def test_markdown_escapes_and_signs_are_kept_in_text_and_understood() -> None:
    item = items("Inclusion Criteria:\n\n* HbA1c \\>/= 7.0% and \\< 10%")[0]
    assert item.text == "HbA1c \\>/= 7.0% and \\< 10%"
    quantity = item.constraints[0].quantity
    assert quantity is not None and (quantity.comparator, quantity.value) == ("ge", 7.0)


def test_one_paragraph_criteria_split_into_sentences() -> None:
    text = ("Inclusion criteria: Postmenopausal women aged 55 to 80 years with osteoporosis. "
            "BMD T-score of -2.5 or lower (e.g. at the hip). No prior treatment with "
            "bisphosphonates. Exclusion criteria: Pregnancy. Severe renal impairment.")
    assert _sections(text) == [
        ("inclusion", "Postmenopausal women aged 55 to 80 years with osteoporosis."),
        ("inclusion", "BMD T-score of -2.5 or lower (e.g. at the hip)."),
        ("inclusion", "No prior treatment with bisphosphonates."),
        ("exclusion", "Pregnancy."), ("exclusion", "Severe renal impairment.")]


def test_subheadings_become_context_not_items() -> None:
    text = ("DISEASE CHARACTERISTICS:\n* Histologically confirmed breast cancer\n"
            "PATIENT CHARACTERISTICS:\nAge:\n* 18 and over\nPerformance status:\n* ECOG 0-1")
    result = items(text)
    assert [(i.heading, i.text) for i in result] == [
        ("DISEASE CHARACTERISTICS", "Histologically confirmed breast cancer"),
        ("Age", "18 and over"), ("Performance status", "ECOG 0-1")]
    assert result[1].kind == "age"


def test_heading_with_text_after_the_colon() -> None:
    assert _sections("Inclusion criteria: adults with asthma\nExclusion criteria: smokers") == [
        ("inclusion", "adults with asthma"), ("exclusion", "smokers")]


def test_spans_point_at_the_source() -> None:
    text = "Inclusion Criteria:\r\n\r\n  * Age \\>= 18\r\n  * Type 2 diabetes\r\n"
    result = parsed(text)
    for item in result.items:
        assert text[item.span.start:item.span.end] == item.text
        assert item.marker_span is not None
        assert text[item.marker_span.start:item.marker_span.end] == "*"
        for c in item.constraints:
            assert 0 <= c.span.start <= c.span.end <= len(item.text)
    for heading in result.headings:
        assert text[heading.span.start:heading.span.end] == heading.text


def test_empty_and_blank_texts() -> None:
    assert items("") == []
    assert items("   \n\n  ") == []
    assert parsed(None).items == []  # type: ignore[arg-type]


def test_decoration_lines_are_not_items() -> None:
    assert texts("Inclusion Criteria:\n----------\n* Adults\n") == ["Adults"]
