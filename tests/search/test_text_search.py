"""Full-text behaviour: fields, ranking, syntax, stemming, synonyms, free text."""

from __future__ import annotations

from tests.search.helpers import ids
from trialscout.app import TrialScout
from trialscout.search.models import SearchRequest


def test_words_must_all_match_by_default(world: TrialScout) -> None:
    assert ids(world, q="lung cancer") == ["NCT00000107"]
    assert set(ids(world, q="cancer")) == {"NCT00000106", "NCT00000107"}


def test_case_punctuation_and_plurals(world: TrialScout) -> None:
    expected = set(ids(world, q="osteoporosis"))
    assert expected and set(ids(world, q="OSTEOPOROSIS!")) == expected
    assert "NCT00000107" in ids(world, q="cancers")
    assert "NCT00000107" in ids(world, q="smoke")


def test_phrase_requires_adjacency(world: TrialScout) -> None:
    assert set(ids(world, q="breast cancer")) == {"NCT00000106", "NCT00000107"}
    assert set(ids(world, q='"breast cancer"')) == {"NCT00000106", "NCT00000107"}
    assert ids(world, q='"cancer breast"') == []
    assert ids(world, q='"lung cancer smoking"') == []


def test_phrase_does_not_span_two_list_items(world: TrialScout) -> None:
    assert ids(world, q='"cancer smoking"') == []


def test_or_and_not(world: TrialScout) -> None:
    assert set(ids(world, q="asthma OR metformin")) == {"NCT00000105", "NCT00000102"}
    assert ids(world, q="cancer NOT lung") == ["NCT00000106"]
    assert ids(world, q="cancer -lung") == ["NCT00000106"]
    assert set(ids(world, q="NOT cancer")) == set(ids(world)) - {"NCT00000106", "NCT00000107"}
    assert set(ids(world, q="(asthma OR diabetes) AND children")) == {"NCT00000105"}


def test_prefix(world: TrialScout) -> None:
    assert set(ids(world, q="osteop*")) == {"NCT00000101", "NCT00000103", "NCT00000108"}
    assert ids(world, q="tomosynth*") == ["NCT00000106"]


def test_hyphen_and_digit_spellings_meet(world: TrialScout) -> None:
    assert ids(world, q="covid19") == ["NCT00000107"]
    assert ids(world, q="COVID-19") == ["NCT00000107"]
    assert ids(world, q="covid 19") == ["NCT00000107"]


def test_synonyms_and_abbreviations_expand(world: TrialScout) -> None:
    assert "NCT00000102" in ids(world, q="T2D")
    assert "NCT00000102" in ids(world, q="type 2 diabetes")
    assert set(ids(world, q="Prolia")) >= {"NCT00000101", "NCT00000108"}
    assert set(ids(world, q="denosumab")) >= {"NCT00000101", "NCT00000108"}


def test_other_names_and_sponsors_and_ids_are_searched(world: TrialScout) -> None:
    assert ids(world, q="mammography") == ["NCT00000106"]
    assert "NCT00000106" in ids(world, q="Cancer Research Network")
    assert ids(world, q="NCT00000104") == ["NCT00000104"]


def test_title_match_outranks_a_passing_mention(world: TrialScout) -> None:
    ranked = ids(world, q="breast cancer")
    assert ranked[0] == "NCT00000106"


def test_scores_are_positive_and_descending(sample_app: TrialScout) -> None:
    hits = sample_app.search(SearchRequest(q="osteoporosis fracture", page_size=100)).hits
    scores = [h.score for h in hits]
    assert scores and all(s is not None and s > 0 for s in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]


def test_free_text_note_ranks_by_any_word(sample_app: TrialScout) -> None:
    note = ("64-year-old postmenopausal woman with osteoporosis and a prior vertebral "
            "fracture; T-score -3.1 at the lumbar spine; previously on alendronate.")
    response = sample_app.search(SearchRequest(q=note, page_size=5))
    assert response.total > 5
    assert response.hits[0].conditions and any(
        "steopor" in c or "Fracture" in c for c in response.hits[0].conditions)
    strict = sample_app.search(SearchRequest(q=note, match="all"))
    assert strict.total < response.total


def test_empty_query_lists_everything(sample_app: TrialScout) -> None:
    response = sample_app.search(SearchRequest(page_size=100))
    assert response.total == sample_app.trial_count() == len(response.hits)
    assert all(h.score is None for h in response.hits)
