"""Folding, splitting, stemming and spelling variants."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from trialscout.search.analysis import Analyzer, fold, spellings, words


def test_words_fold_case_accents_and_possessives() -> None:
    assert words("Crohn's Disease") == ["crohn", "disease"]
    assert words("Montréal, QUÉBEC") == ["montreal", "quebec"]
    assert words("COVID-19; HbA1c ≥ 7%") == ["covid", "19", "hba1c", "7"]
    assert fold("ÉCOLE") == "ecole"


def test_stemming_joins_plurals_and_inflections() -> None:
    analyzer = Analyzer()
    assert analyzer.stem("fractures") == analyzer.stem("fracture")
    assert analyzer.stem("diabetes") == analyzer.stem("diabetic")
    assert analyzer.stems(["women", "running", "2"]) == [analyzer.stem("women"),
                                                          analyzer.stem("running"), "2"]


def test_spellings_cover_letter_digit_variants() -> None:
    assert spellings(["covid", "19"]) == [["covid", "19"], ["covid19"]]
    assert ["t", "2", "d"] in spellings(["t2d"]) and ["t2d"] in spellings(["t2d"])
    assert spellings(["breast"]) == [["breast"]]


@settings(deadline=None)
@given(st.text(max_size=200))
def test_words_are_folded_alphanumeric(text: str) -> None:
    for word in words(text):
        assert word and word == fold(word)
        assert all(ch.isalnum() for ch in word)


@settings(deadline=None)
@given(st.lists(st.text(alphabet="ab12", min_size=1, max_size=6), min_size=1, max_size=3))
def test_spellings_keep_the_characters(tokens: list[str]) -> None:
    for variant in spellings(tokens):
        assert "".join(variant) == "".join(tokens)
