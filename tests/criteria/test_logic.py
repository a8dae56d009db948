"""Criteria as a logic tree: how a section's items combine (issue 13, "What to build" 1).

The texts are written for these tests: lead-ins that name a count over nested or flat
sub-items, "or" chains, plain parents, lead-ins that block a group, and paragraphs that
run inclusion and exclusion together.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscout.criteria import ParsedCriteria, parse_criteria
from trialscout.criteria.logic import leaves, read_group
from trialscout.criteria.model import LogicNode


def shape(node: LogicNode, parsed: ParsedCriteria) -> tuple:
    """A readable tree: (op[k], label text, [leaf texts], [child shapes])."""
    op = node.op + (str(node.k) if node.k else "")
    label = parsed.items[node.item].text if node.item is not None else None
    return (op, label, [parsed.items[i].text for i in node.items],
            [shape(child, parsed) for child in node.children])


def indices(node: LogicNode) -> list[int]:
    """Every index in the tree, leaves and labels, with repeats."""
    out = list(node.items) + ([node.item] if node.item is not None else [])
    for child in node.children:
        out += indices(child)
    return out


def test_at_least_one_of_nested_sub_items_is_an_any_group_labelled_by_its_lead_in() -> None:
    parsed = parse_criteria(
        "Inclusion Criteria:\n\n"
        "* Adults aged 40 to 80\n"
        "* Any one of these warning signs:\n"
        "  * a broken wrist after a minor fall\n"
        "  * a sister with early heart disease\n"
        "  * resting pulse over 100\n"
        "* Able to walk unaided\n\n"
        "Exclusion Criteria:\n\n* Pacemaker\n")
    inclusion = parsed.logic["inclusion"]
    assert shape(inclusion, parsed) == (
        "all", None, ["Adults aged 40 to 80", "Able to walk unaided"],
        [("any", "Any one of these warning signs:",
          ["a broken wrist after a minor fall", "a sister with early heart disease",
           "resting pulse over 100"], [])])
    label = inclusion.children[0]
    assert label.span is not None
    assert parsed.items[label.item or 0].span == label.span
    assert parsed.group_labels == frozenset({1})
    assert shape(parsed.logic["exclusion"], parsed) == ("any", None, ["Pacemaker"], [])


def test_group_labels_ask_no_question() -> None:
    parsed = parse_criteria("Inclusion Criteria:\n\n* One of the following:\n"
                            "  * Type 1 diabetes\n  * Type 2 diabetes on insulin\n")
    label = parsed.items[0]
    assert label.index in parsed.group_labels
    assert label.question.key not in {q.key for q in parsed.questions()}
    assert len(parsed.questions()) == 2


def test_counts_in_words_and_digits() -> None:
    for lead, op, k in [("At least two of the following:", "at_least", 2),
                        ("2 or more of these findings:", "at_least", 2),
                        ("A minimum of three of the following:", "at_least", 3),
                        ("Either of the following:", "any", None),
                        ("One or more of:", "any", None),
                        ("At least 1 of the following:", "any", None),
                        ("All of the following:", "all", None),
                        ("Both of the following:", "all", None)]:
        reading = read_group(lead)
        assert reading is not None, lead
        assert (reading.op, reading.k) == (op, k), lead


def test_at_least_k_over_its_sub_items() -> None:
    parsed = parse_criteria("Inclusion Criteria:\n\n* At least two of the following:\n"
                            "  * cough\n  * fever above 38 C\n  * shortness of breath\n"
                            "  * chest pain\n")
    group = parsed.logic["inclusion"].children[0]
    assert (group.op, group.k, group.item) == ("at_least", 2, 0)
    assert len(group.items) == 4


def test_a_count_as_large_as_the_group_means_all() -> None:
    parsed = parse_criteria("Inclusion Criteria:\n\n* At least two of the following:\n"
                            "  * cough\n  * fever above 38 C\n")
    assert parsed.logic["inclusion"].children[0].op == "all"


def test_lead_ins_that_block_a_group_keep_the_section_logic() -> None:
    for lead in ["Brain metastases unless all of the following are met:",
                 "Must not meet any of the following:",
                 "Prior cancer, except any of the following:"]:
        assert read_group(lead) is None, lead
    parsed = parse_criteria("Exclusion Criteria:\n\n"
                            "* Brain metastases, unless all of the following are met:\n"
                            "  * treated more than 4 weeks ago\n  * stable on imaging\n")
    exclusion = parsed.logic["exclusion"]
    assert exclusion.op == "any"
    assert not any(child.op == "all" for child in exclusion.children)


def test_plain_parent_in_exclusion_means_each_sub_item_excludes() -> None:
    parsed = parse_criteria("Exclusion Criteria:\n\n* Heart problems:\n"
                            "  * heart attack in the last 6 months\n"
                            "  * unstable angina\n")
    exclusion = parsed.logic["exclusion"]
    assert exclusion.op == "any"
    assert sorted(leaves(exclusion)) == [1, 2]
    assert all(child.op == "any" for child in exclusion.children)


def test_lead_in_that_says_something_stays_a_leaf_anded_with_its_group() -> None:
    parsed = parse_criteria("Exclusion Criteria:\n\n"
                            "* Postmenopausal women with at least one of the following:\n"
                            "  * hip fracture\n  * spine fracture\n")
    exclusion = parsed.logic["exclusion"]
    assert parsed.group_labels == frozenset()
    [group] = exclusion.children
    assert group.op == "all" and group.items == [0]
    assert [(c.op, c.items) for c in group.children] == [("any", [1, 2])]


def test_trailing_or_chains_items_into_alternatives() -> None:
    parsed = parse_criteria("Inclusion Criteria:\n\n* Age 18 or older\n"
                            "* A kidney stone seen on CT; or\n"
                            "* Blood in the urine on two tests; or\n"
                            "* Flank pain for a week\n* Speaks English\n")
    assert shape(parsed.logic["inclusion"], parsed) == (
        "all", None, ["Age 18 or older", "Speaks English"],
        [("any", None, ["A kidney stone seen on CT; or", "Blood in the urine on two tests; or",
                        "Flank pain for a week"], [])])


def test_a_lone_or_line_labels_the_alternatives_either_side() -> None:
    parsed = parse_criteria("Inclusion Criteria:\n\n* HbA1c of 7% or higher\n\nOR\n\n"
                            "* Fasting glucose of 126 mg/dL or higher\n* Age 30 to 70\n")
    inclusion = parsed.logic["inclusion"]
    [alternatives] = inclusion.children
    assert alternatives.op == "any"
    assert parsed.items[alternatives.item or 0].text == "OR"
    assert [parsed.items[i].text for i in alternatives.items] == [
        "HbA1c of 7% or higher", "Fasting glucose of 126 mg/dL or higher"]


def test_flat_lead_in_takes_its_run_when_a_blank_line_ends_it() -> None:
    parsed = parse_criteria("Inclusion Criteria:\n\n* Adults\n"
                            "* Any of the following heart findings:\n"
                            "* atrial fibrillation\n* a heart murmur\n\n"
                            "* Willing to wear a monitor\n")
    assert shape(parsed.logic["inclusion"], parsed) == (
        "all", None, ["Adults", "Willing to wear a monitor"],
        [("any", "Any of the following heart findings:",
          ["atrial fibrillation", "a heart murmur"], [])])


def test_flat_lead_in_whose_run_only_the_section_end_closes_is_not_guessed() -> None:
    """Which items follow "one of the following:" is unclear: a requirement read as an
    alternative would let a patient in on someone else's criterion."""
    parsed = parse_criteria("Inclusion Criteria:\n\n* One of the following:\n"
                            "* asthma\n* COPD\n* Age 40 or older\n")
    inclusion = parsed.logic["inclusion"]
    assert inclusion.op == "all"
    assert not inclusion.children


def test_inline_headings_and_dash_lists_in_one_paragraph() -> None:
    text = ("Inclusion Criteria: - Adults with a new diagnosis of gout. - Serum urate above "
            "6 mg/dL - Able to take tablets Exclusion Criteria: - Kidney stones. - Prior "
            "allopurinol")
    parsed = parse_criteria(text)
    assert [(i.section, i.text) for i in parsed.items] == [
        ("inclusion", "Adults with a new diagnosis of gout."),
        ("inclusion", "Serum urate above 6 mg/dL"),
        ("inclusion", "Able to take tablets"),
        ("exclusion", "Kidney stones."),
        ("exclusion", "Prior allopurinol")]
    assert [h.section for h in parsed.headings] == ["inclusion", "exclusion"]
    for item in parsed.items:
        assert text[item.span.start:item.span.end] == item.text


def test_a_paragraph_that_switches_to_exclusions_mid_sentence() -> None:
    text = ("Adults over 60 with knee arthritis confirmed by X-ray are eligible if they can "
            "walk 50 meters; patients are excluded if they have a knee replacement, steroid "
            "injection in the last 3 months (either knee), rheumatoid arthritis, or any "
            "bleeding disorder.")
    parsed = parse_criteria(text)
    sections = [(i.section, i.text) for i in parsed.items]
    assert sections[0][0] == "inclusion" and sections[0][1].startswith("Adults over 60")
    assert sections[1:] == [
        ("exclusion", "a knee replacement"),
        ("exclusion", "steroid injection in the last 3 months (either knee)"),
        ("exclusion", "rheumatoid arthritis"),
        ("exclusion", "or any bleeding disorder.")]
    assert [h.text for h in parsed.headings] == ["patients are excluded if they have"]
    covered = sorted([(i.span.start, i.span.end) for i in parsed.items]
                     + [(h.span.start, h.span.end) for h in parsed.headings])
    words = set(text.replace(";", " ").replace(",", " ").split())
    kept = " ".join(text[a:b] for a, b in covered)
    assert words <= set(kept.replace(";", " ").replace(",", " ").split())


def test_semicolon_clauses_of_a_paragraph_are_items_unless_they_lean_on_each_other() -> None:
    parsed = parse_criteria("Exclusion Criteria:\n\nHeart failure needing treatment; a "
                            "stroke in the past year; liver cirrhosis (Child-Pugh B; or C).\n")
    assert [i.text for i in parsed.items] == [
        "Heart failure needing treatment;", "a stroke in the past year;",
        "liver cirrhosis (Child-Pugh B; or C)."]
    kept = parse_criteria("Inclusion Criteria:\n\nPrior surgery is allowed; however, it "
                          "must be 4 weeks before the first dose.\n")
    assert len(kept.items) == 1
    examples = parse_criteria("Inclusion Criteria:\n\nA solid tumour, i.e. breast cancer; "
                              "lung cancer; bowel cancer.\n")
    assert len(examples.items) == 1


def test_inclusions_of_named_participant_groups_are_alternatives() -> None:
    parsed = parse_criteria("Inclusion Criteria - asthma group:\n\n* Age 12 to 65\n"
                            "* Asthma for a year or more\n\n"
                            "Inclusion Criteria - healthy control group:\n\n* Age 12 to 65\n"
                            "* No lung disease\n\nExclusion Criteria:\n\n* Smoker\n")
    inclusion = parsed.logic["inclusion"]
    [either] = inclusion.children
    assert either.op == "any"
    assert [[parsed.items[i].text for i in group.items] for group in either.children] == [
        ["Age 12 to 65", "Asthma for a year or more"], ["Age 12 to 65", "No lung disease"]]
    # stages of screening are not alternatives
    staged = parse_criteria("Pre-registration Inclusion Criteria:\n* Adults\n"
                            "Registration Inclusion Criteria:\n* Measurable disease\n")
    assert staged.logic["inclusion"].op == "all" and not staged.logic["inclusion"].children


def test_short_named_heading_lines() -> None:
    parsed = parse_criteria("Study A Inclusion Criteria:\n* Adults\n"
                            "Study A Exclusion Criteria:\n* Pregnancy\n")
    assert [(i.section, i.text) for i in parsed.items] == [
        ("inclusion", "Adults"), ("exclusion", "Pregnancy")]


def test_dashes_inside_a_criterion_are_not_items() -> None:
    parsed = parse_criteria("Inclusion Criteria:\n\n- Stage I - III breast cancer\n"
                            "- Age 18 - 70 years\n")
    assert [i.text for i in parsed.items] == ["Stage I - III breast cancer",
                                              "Age 18 - 70 years"]


# ------------------------------------------------------------------ properties
WORDS = st.sampled_from([
    "diabetes", "age over 18", "or", "OR", "and", "at least one of the following:",
    "two or more of:", "all of the following:", "either:", "unless any of:", "asthma;",
    "eGFR below 30", "prior surgery", "pregnancy", "no", "any", "(see below)", "such as",
])
LINE = st.lists(WORDS, min_size=1, max_size=5).map(" ".join)
MARKERS = st.sampled_from(["* ", "  * ", "    - ", "1. ", "a) ", "", "- "])
TEXTS = st.lists(st.tuples(MARKERS, LINE, st.booleans()), min_size=1, max_size=14).map(
    lambda rows: "Inclusion Criteria:\n" + "".join(
        f"{marker}{line}\n" + ("\n" if blank else "") for marker, line, blank in rows))


@given(TEXTS, st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_item_appears_exactly_once_in_its_sections_tree(text: str, swap: bool) -> None:
    if swap:
        text = text.replace("Inclusion Criteria:\n", "Exclusion Criteria:\n", 1) + \
            "Inclusion Criteria:\n* adults\n  * either:\n  * or asthma\n"
    parsed = parse_criteria(text)
    for section in ("inclusion", "exclusion"):
        expected = sorted(i.index for i in parsed.items if i.section == section)
        tree = parsed.logic.get(section)
        assert sorted(indices(tree) if tree is not None else []) == expected
        if tree is not None:
            assert tree.op == ("all" if section == "inclusion" else "any")
            assert tree.item is None
    for node_section, tree in parsed.logic.items():
        stack = [tree]
        while stack:
            node = stack.pop()
            if node.op == "at_least":
                assert node.k is not None and 2 <= node.k < len(node.items) + len(
                    node.children)
            if node.span is not None:
                assert 0 <= node.span.start < node.span.end <= len(text)
            for index in node.items:
                assert parsed.items[index].section == node_section
            stack.extend(node.children)
