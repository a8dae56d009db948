"""Property tests: the parser never crashes, never drops text, and its spans are exact."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscout.criteria import ParsedCriteria, parse_criteria
from trialscout.criteria.model import UNANSWERABLE_KINDS

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
ALPHABET = st.sampled_from(list(
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:()[]/-+*•–—≥≤<>=%\\'\"#"
    "\n\n\n\t\r µ²×éü\u00a0"))
FRAGMENTS = st.sampled_from([
    "Inclusion Criteria:", "Exclusion Criteria:", "INCLUSION:", "Key exclusion criteria",
    "* ", "- ", "1. ", "a) ", "(2) ", "  * ", "• ", "\\>", "\\<=", ">=", "≥", "HbA1c", "7%",
    "eGFR < 60 mL/min/1.73m²", "T-score ≤ -2.5", "denosumab", "within the past 6 months",
    "no history of", "or", "and", "except", "type 2 diabetes", "18 years or older", "ECOG 0-1",
    "DISEASE CHARACTERISTICS:", "\n", "\n\n", "   ", "pregnant", "x ULN", "mg/dL", "(", ")",
])
texts = st.one_of(st.text(ALPHABET, max_size=400),
                  st.lists(FRAGMENTS, max_size=40).map("".join),
                  st.text(max_size=200))


def _check_spans(text: str, parsed: ParsedCriteria) -> None:
    for item in parsed.items:
        assert 0 <= item.span.start < item.span.end <= len(text)
        assert text[item.span.start:item.span.end] == item.text
        assert item.text == item.text.strip()
        assert item.constraints, "every item has at least one constraint"
        for c in item.constraints:
            assert 0 <= c.span.start <= c.span.end <= len(item.text)
            assert item.text[c.span.start:c.span.end] == c.text
            for concept in ([c.concept] if c.concept else []) + c.any_of:
                assert 0 <= concept.span.start <= concept.span.end <= len(item.text)
                assert item.text[concept.span.start:concept.span.end] == concept.text
            if c.window is not None and c.window.span is not None:
                assert 0 <= c.window.span.start <= c.window.span.end <= len(item.text)
        if item.marker_span is not None:
            assert item.marker_span.end <= item.span.start
        if item.parent is not None:
            assert 0 <= item.parent < item.index
        assert item.question.meets in {"yes", "no"} and item.question.key


def _check_coverage(text: str, parsed: ParsedCriteria) -> None:
    covered = bytearray(len(text))
    spans = [item.span for item in parsed.items] + [h.span for h in parsed.headings] + [
        item.marker_span for item in parsed.items if item.marker_span is not None]
    for span in spans:
        covered[span.start:span.end] = b"\x01" * (span.end - span.start)
    missing = [i for i, ch in enumerate(text) if ch.isalnum() and not covered[i]]
    assert not missing, f"characters outside every item and heading: {missing[:5]}"


@SETTINGS
@given(texts)
def test_never_crashes_and_spans_are_exact(text: str) -> None:
    parsed = parse_criteria(text)
    _check_spans(text, parsed)
    _check_coverage(text, parsed)


@SETTINGS
@given(texts)
def test_untyped_items_are_kept_as_other(text: str) -> None:
    for item in parse_criteria(text).items:
        typed = [c for c in item.constraints if c.kind != "other"]
        if not typed:
            assert item.kind == "other"
            assert item.constraints[0].text == item.text
        if item.kind in UNANSWERABLE_KINDS:
            assert item.question.answerable is False


WORDS = st.sampled_from(["adults", "with", "osteoporosis", "denosumab", "prior", "fracture",
                         "HbA1c", "7%", "stable", "dose", "of", "metformin", "hip", "spine",
                         "BMI", "30", "kg/m2", "women", "not", "pregnant", "surgery", "(ULN)",
                         "eGFR", "≥", "<", "year", "months", "zzyzx", "qwerty"])
ITEM = st.lists(WORDS, min_size=1, max_size=12).map(" ".join)
MARKERS = st.sampled_from(["* ", "- ", "• ", "- • ", "{n}. ", "{n}) ", "({n}) "])


@SETTINGS
@given(st.lists(ITEM, min_size=1, max_size=15), st.lists(ITEM, max_size=10), MARKERS,
       st.sampled_from(["", "  ", "\t"]), st.booleans())
def test_no_item_is_dropped(inclusion: list[str], exclusion: list[str], marker: str,
                            indent: str, blank_lines: bool) -> None:
    sep = "\n\n" if blank_lines else "\n"

    def block(items: list[str]) -> str:
        return sep.join(indent + marker.format(n=i + 1) + text for i, text in enumerate(items))

    text = "Inclusion Criteria:" + sep + block(inclusion)
    if exclusion:
        text += sep + "Exclusion Criteria:" + sep + block(exclusion)
    parsed = parse_criteria(text)
    assert [(i.section, i.text) for i in parsed.items] == \
        [("inclusion", t) for t in inclusion] + [("exclusion", t) for t in exclusion]


@SETTINGS
@given(texts)
def test_parsing_is_deterministic_and_round_trips(text: str) -> None:
    first = parse_criteria(text)
    again = parse_criteria(text)
    assert first == again
    assert ParsedCriteria.model_validate_json(first.model_dump_json()) == first


def test_adversarial_inputs_finish() -> None:
    nasty = [
        "1" * 20000, "-" * 20000, "(" * 5000 + ")" * 5000, "≥ " * 5000, "\\>" * 5000,
        "a. " * 5000, "* " * 5000, "x ULN " * 3000, "within the past " * 2000,
        "no " * 5000 + "diabetes", "1,000," * 3000, ("Inclusion Criteria:\n" * 2000),
        "\n".join(["  " * (i % 40) + "* item" for i in range(3000)]),
        "mg/dL " * 3000, "1-2-3-4-5-" * 2000, "or " * 5000, "e.g. " * 4000,
        "* " * 8000, "# " * 8000, "- - " * 4000, "age " * 16000, "history of " * 8000,
        "past " * 16000, "Stroke. " * 8000, "* item\n" * 8000,
    ]
    for text in nasty:
        parsed = parse_criteria(text)
        _check_spans(text[:200_000], parsed)
