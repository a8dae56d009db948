"""The parser's fast paths compute exactly what the plain rules say.

Each fast path (merged phrase matching, word-indexed item-kind triggers, gated unit
alternation, trusted model building, memoized analyses) is checked against the plain
computation it replaces, on hand-made and generated inputs.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscout.criteria import parse_criteria, parser, rules, units
from trialscout.criteria.construct import build
from trialscout.criteria.item_kinds import kinds as _kinds
from trialscout.criteria.mentions import compiled
from trialscout.criteria.model import Concept, Constraint, Item, Question, Span
from trialscout.criteria.text import _MULTI, clean
from trialscout.criteria.tokens import tokenize
from trialscout.criteria.values import number_starts as _number_starts

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
PIECES = st.sampled_from([
    "informed consent", "signed ICF", "in the opinion of the investigator", "able to comply",
    "willing to participate in the study", "liver", "live in", "English speaking", "family member",
    "follow-up visits", "social security", "not appropriate for participation", "prisoner",
    "HbA1c ≥ 7%", "eGFR < 60 mL / min / 1.73 m2", "3 x ULN", "ANC ≥ 1.5 x 10^9/L", "mmHg.",
    "mm Hg", "/ul", " per minute", "within the past 6 months", "no history of", "except",
    "two weeks", "six months", "a single dose", "ſix", "K", "İnsurance", "ı", "ß", "naïve",
    "male or female", "pregnant", "allergy to", "\\>=", "&gt;", "  ", "\t", "\n", ", ", ". ", " ",
])
TEXTS = st.one_of(st.lists(PIECES, max_size=25).map("".join), st.text(max_size=120))


@SETTINGS
@given(TEXTS)
def test_item_kinds_match_the_plain_rule(text: str) -> None:
    kinds = _kinds().patterns
    lowered = text.casefold()
    plain = [(k.name, m.span()) for k in kinds.kinds if k.trigger_re.search(lowered)
             for m in [k.pattern.search(text)] if m]
    words = {t.low for t in tokenize(text)}
    assert [(name, m.span()) for name, m in kinds.matches(text, words)] == plain


@SETTINGS
@given(TEXTS)
def test_phrase_set_equals_each_matcher(text: str) -> None:
    c = compiled()
    tokens = tokenize(text)
    matchers = c.cue_phrases.matchers
    assert c.cue_phrases.find(text, tokens) == [m.find(text, tokens) for m in matchers]


@SETTINGS
@given(TEXTS)
def test_number_starts_equal_the_combined_pattern(text: str) -> None:
    c = compiled()
    words = {t.low for t in tokenize(text)}
    assert _number_starts(text, words, c) == [m.start() for m in c.num_start.finditer(text)]


@SETTINGS
@given(TEXTS)
def test_gated_unit_alternation_equals_the_plain_one(text: str) -> None:
    forms = {f.casefold() for unit in rules.units().units for f in unit.forms}
    parts = []
    for form in sorted(forms, key=lambda f: (-len(f), f)):
        escaped = re.escape(form).replace(r"\ ", r"\s?").replace("/", r"\s?/\s?")
        parts.append(escaped + (r"(?![a-z0-9])" if form[-1:].isalnum() else ""))
    plain = re.compile("(?:" + "|".join(parts) + ")", re.IGNORECASE)
    gated = re.compile(units.unit_regex(), re.IGNORECASE)
    for pos in range(len(text) + 1):
        a, b = plain.match(text, pos), gated.match(text, pos)
        assert (a and a.span()) == (b and b.span())


def test_unit_pattern_is_the_same_in_every_process() -> None:
    # ties in length are broken alphabetically, not by set order
    pattern = units.unit_regex()
    assert pattern.index("mm\\s?hg(?![a-z0-9])") < pattern.index("mmhg\\.")


@SETTINGS
@given(TEXTS)
def test_clean_prefilter_never_skips_a_rewrite(text: str) -> None:
    cleaned = clean(text)
    if cleaned._norm is None:
        from trialscout.criteria.text import _ONE_TO_ONE
        assert _MULTI.search(text.translate(_ONE_TO_ONE)) is None
        assert cleaned.text == text.translate(_ONE_TO_ONE)


def test_build_equals_validation() -> None:
    span = Span(start=1, end=4)
    cases = [
        (Span, {"start": 1, "end": 4}),
        (Concept, {"id": "x", "name": "X", "kind": "condition", "text": "x", "span": span}),
        (Question, {"key": "k", "text": "t?", "meets": "yes", "answerable": True,
                    "kind": "yes_no"}),
    ]
    question = Question(key="k", text="t?", meets="yes", answerable=True, kind="yes_no")
    constraint_values = {
        "kind": "condition", "polarity": "required", "negated": False, "exception": False,
        "concept": None, "any_of": [], "quantity": None, "qualitative": None, "window": None,
        "value": None, "text": "abc", "span": span, "question": question,
        "experiencer": "patient", "modality": "actual"}
    cases.append((Constraint, constraint_values))
    constraint = Constraint(**constraint_values)
    cases.append((Item, {
        "index": 0, "section": "inclusion", "section_explicit": True, "heading": None,
        "text": "abc", "span": span, "marker": None, "marker_span": None, "depth": 0,
        "parent": None, "kind": "condition", "constraints": [constraint],
        "question": question}))
    for cls, values in cases:
        built, validated = build(cls, dict(values)), cls(**values)
        assert built == validated
        assert built.model_fields_set == validated.model_fields_set
        assert list(built.__dict__) == list(cls.model_fields)
        assert built.model_dump_json() == validated.model_dump_json()


def test_repeated_items_give_equal_results_with_and_without_the_memo() -> None:
    text = ("Inclusion Criteria:\n* Signed informed consent\n* HbA1c ≥ 7%\n"
            "Exclusion Criteria:\n* Pregnant or breastfeeding women\n* Known allergy")
    parser._cache.clear()
    parser._seen.clear()
    first = parse_criteria(text)
    second = parse_criteria(text)  # now memoized
    third = parse_criteria(text)  # served from the memo
    assert first == second == third
