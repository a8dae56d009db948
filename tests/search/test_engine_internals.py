"""Internal shortcuts give the same answers as the plain computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscout.app import TrialScout
from trialscout.search.facets import _multi_values
from trialscout.search.plan import _combine_max, _member_docs, _member_sorted, _position_keys


@settings(deadline=None, max_examples=50,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sets(st.integers(0, 29), max_size=30),
       st.sampled_from(["condition", "intervention", "phase", "country"]))
def test_facet_value_gather_equals_the_mask_scan(sample_app: TrialScout, picked: set[int],
                                                 name: str) -> None:
    view = sample_app.search_engine.view()
    docs = np.asarray(sorted(picked), dtype=np.int64)
    in_set = np.zeros(view.n, dtype=bool)
    in_set[docs] = True
    mdocs, vals = view.multi[name]
    expected = np.sort(vals[in_set[mdocs]])
    assert np.array_equal(np.sort(_multi_values(view, name, docs)), expected)


@given(st.lists(st.integers(0, 50), unique=True), st.lists(st.integers(0, 50), unique=True))
def test_sorted_membership(a: list[int], b: list[int]) -> None:
    left, right = np.asarray(sorted(a), np.int64), np.asarray(sorted(b), np.int64)
    assert _member_sorted(left, right).tolist() == [x in set(b) for x in sorted(a)]


@given(st.lists(st.integers(0, 60), unique=True), st.lists(st.integers(0, 60), unique=True))
def test_membership_through_a_mask_equals_the_binary_search(a: list[int], b: list[int]) -> None:
    left, right = np.asarray(sorted(a), np.int64), np.asarray(sorted(b), np.int64)
    assert _member_docs(left, right, 61).tolist() == _member_sorted(left, right).tolist()


@given(st.lists(st.dictionaries(st.integers(0, 40), st.floats(0, 50)), max_size=5))
def test_best_of_alternatives_is_the_same_dense_or_sorted(parts: list[dict[int, float]]
                                                         ) -> None:
    """Few docs are combined by sorting, many through a dense array: same docs, same
    scores."""
    results = [(np.asarray(sorted(p), np.int64), np.asarray([p[d] for d in sorted(p)]))
               for p in parts]
    dense = _combine_max(results, 41)
    sparse = _combine_max(results, 10**9)
    assert dense[0].tolist() == sparse[0].tolist()
    assert dense[1].tolist() == sparse[1].tolist()


def test_phrase_position_keys_equal_the_positions_with_a_delta_segment(tmp_path: Path
                                                                       ) -> None:
    from tests.search.helpers import fixture_studies, load, make_study
    from trialscout.app import create_app

    app = create_app(database_url=f"sqlite:///{tmp_path / 's.db'}")
    try:
        load(app, fixture_studies(), tmp_path, "a")
        load(app, [make_study("NCT00000102", "Type 2 diabetes in type 2 diabetes clinics",
                              conditions=["Diabetes Mellitus, Type 2"],
                              last_update="2025-02-02")], tmp_path, "b")
        view = app.search_engine.view()
        assert view.delta is not None
        for stem in ("diabet", "type", "osteoporosi", "2"):
            term = view.term_id(stem)
            assert term is not None, stem
            p = view.postings(term)
            rows = np.arange(len(p.docs))
            d, pos = view.positions(p, rows)
            for shift in (0, 1, 3):
                ok = pos >= shift
                expected = (d[ok] << 32) | (pos[ok] - shift)
                assert _position_keys(view, p, rows, shift).tolist() == expected.tolist()
    finally:
        app.close()
