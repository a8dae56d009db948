"""The query language parses every input into a query or a clear SearchQueryError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscout.search.errors import SearchQueryError
from trialscout.search.query import AnyOf, Phrase, Prefix, Sequence, Words, parse
from trialscout.search.rules import search_rules

RULES = search_rules().query


def flat(seq: Sequence) -> list[object]:
    return [node for group in seq.groups for node in group]


def test_plain_words_are_required_clauses() -> None:
    parsed = parse("breast cancer", RULES)
    assert parsed.mode == "all"
    assert [n.tokens for n in flat(parsed.root)] == [("breast",), ("cancer",)]


def test_phrase_prefix_or_and_not() -> None:
    parsed = parse('"lung cancer" diabet* OR obesity NOT smoking -asthma', RULES)
    nodes = flat(parsed.root)
    assert nodes[0] == Phrase(("lung", "cancer"))
    assert nodes[1] == AnyOf((Prefix(("diabet",)), Words("obesity", ("obesity",))))
    assert [n.tokens for n in parsed.root.negatives] == [("smoking",), ("asthma",)]


def test_explicit_and_splits_groups_and_parentheses_nest() -> None:
    parsed = parse("(a OR b) AND c d", RULES)
    assert len(parsed.root.groups) == 2
    assert isinstance(parsed.root.groups[0][0], Sequence)


def test_lower_case_operators_are_words() -> None:
    parsed = parse("salt and pepper or not", RULES)
    assert [n.tokens[0] for n in flat(parsed.root)] == ["salt", "and", "pepper", "or", "not"]


def test_lenient_readings() -> None:
    assert flat(parse('"unclosed phrase', RULES).root) == [Phrase(("unclosed", "phrase"))]
    assert len(flat(parse("((cancer", RULES).root)) == 1
    assert len(flat(parse("cancer) AND", RULES).root)) == 1
    assert len(flat(parse("OR cancer", RULES).root)) == 1
    assert [n.tokens for n in flat(parse("can\x00cer\x1b[31m", RULES).root)] == [
        ("can",), ("cer",), ("31m",)]


@pytest.mark.parametrize("query", ["AND OR", "!!!", "NOT", '""', "( )"])
def test_nothing_to_search_is_an_error(query: str) -> None:
    with pytest.raises(SearchQueryError, match="nothing to search"):
        parse(query, RULES)


def test_short_prefix_is_an_error() -> None:
    with pytest.raises(SearchQueryError, match="prefix"):
        parse("a*", RULES)


def test_too_deep_nesting_is_an_error() -> None:
    with pytest.raises(SearchQueryError, match="nests"):
        parse("(" * 100 + "x", RULES)


def test_too_many_words_is_an_error() -> None:
    text = " ".join(f"w{i}x" for i in range(RULES.max_terms + 5))
    with pytest.raises(SearchQueryError, match="different words"):
        parse(text, RULES)


def test_long_text_without_operators_is_free_text() -> None:
    note = ("A 64-year-old woman with postmenopausal osteoporosis, a prior vertebral "
            "fracture (T-score -3.0) and type 2 diabetes on metformin.")
    parsed = parse(note, RULES)
    assert parsed.mode == "any"
    assert parsed.root.negatives == ()
    assert parse(note, RULES, mode="all").mode == "all"
    assert parse("osteoporosis", RULES, mode="any").mode == "any"


def test_operators_keep_a_long_query_strict() -> None:
    query = "osteoporosis women denosumab injection bone density fracture risk AND trial"
    assert parse(query, RULES).mode == "all"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_or_raises_a_search_error(text: str) -> None:
    try:
        parsed = parse(text, RULES)
    except SearchQueryError as exc:
        assert str(exc)
        return
    assert parsed.mode in ("all", "any")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(['"', "(", ")", "AND", "OR", "NOT", "-", "*", "ab", "cd*",
                                 "x-1", " ", "\t", "\x07", "é", "'s"]), max_size=40))
def test_operator_soup_never_crashes(parts: list[str]) -> None:
    with contextlib.suppress(SearchQueryError):
        parse(" ".join(parts), RULES)
