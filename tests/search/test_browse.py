"""Browsing conditions: counts agree with the trials listed for each."""

from __future__ import annotations

from trialscout.app import TrialScout
from trialscout.search.analysis import fold
from trialscout.search.models import SearchRequest


def test_conditions_are_sorted_and_counted_like_the_search(sample_app: TrialScout) -> None:
    rows = sample_app.browse_conditions(page_size=1000)
    names = [r.condition for r in rows]
    assert names == sorted(names, key=lambda n: (fold(n), n))
    assert len(set(names)) == len(names)
    for row in rows:
        found = sample_app.search(SearchRequest(condition=row.condition, facets=False))
        assert found.total == row.count > 0, row


def test_synonymous_values_are_listed_once(sample_app: TrialScout) -> None:
    names = [r.condition.casefold() for r in sample_app.browse_conditions(page_size=1000)]
    assert sum(1 for n in names if n in {"copd", "chronic obstructive pulmonary disease"}) == 1


def test_paging_prefix_letter_and_order(sample_app: TrialScout) -> None:
    everything = sample_app.browse_conditions(page_size=1000)
    first = sample_app.browse_conditions(page=1, page_size=5)
    second = sample_app.browse_conditions(page=2, page_size=5)
    assert first + second == everything[:10]
    osteo = sample_app.browse_conditions(prefix="osteo")
    assert osteo and all(fold(r.condition).startswith("osteo") for r in osteo)
    letter = sample_app.browse_conditions(letter="h")
    assert letter and all(fold(r.condition).startswith("h") for r in letter)
    by_count = sample_app.browse_conditions(order="count", page_size=1000)
    counts = [r.count for r in by_count]
    assert counts == sorted(counts, reverse=True)
    assert {r.condition for r in by_count} == {r.condition for r in everything}
