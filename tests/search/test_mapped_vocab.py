"""Word lists memory-mapped from a snapshot answer exactly like the in-memory ones."""

from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.search.helpers import fixture_studies, load
from trialscout.app import create_app
from trialscout.sample import sample_path
from trialscout.search import persist
from trialscout.search.models import SearchRequest
from trialscout.search.vocab import MappedVocab, NctIds


@settings(max_examples=150, deadline=None)
@given(keys=st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=40),
       probes=st.lists(st.text(max_size=8), max_size=10))
def test_mapped_lookups_equal_the_dict_and_sorted_list(keys: list[str],
                                                       probes: list[str]) -> None:
    vocab = MappedVocab(*MappedVocab.arrays(keys))
    assert len(vocab) == len(keys) and list(vocab.keys) == keys
    ordered = sorted(keys)
    assert list(vocab.sorted_keys) == ordered
    for probe in probes + keys:
        assert vocab.get(probe) == (keys.index(probe) if probe in keys else None)
        assert vocab.lower_bound(probe) == bisect.bisect_left(ordered, probe)


def test_mapped_facet_values_keep_their_labels() -> None:
    """A facet vocabulary is looked up by its folded key and shows each value as written."""
    keys, labels = ["breast cancer", "copd", "étude"], ["Breast Cancer", "COPD", "Étude"]
    label_blob, label_offsets, _ = MappedVocab.arrays(labels)
    vocab = MappedVocab(*MappedVocab.arrays(keys), display=(label_blob, label_offsets))
    assert [vocab.label(i) for i in range(3)] == labels == list(vocab.display)
    assert vocab.get("copd") == 1 and vocab.get("COPD") is None and vocab.key(2) == "étude"


def test_nct_ids_are_rebuilt_from_their_numbers() -> None:
    ids = ["NCT00000101", "NCT50000002"]
    nums = np.asarray([101, 50000002], dtype=np.int64)
    assert NctIds.fits(ids, nums) and list(NctIds(nums)) == ids
    assert not NctIds.fits(["NCT0101"], np.asarray([101]))


def test_a_reader_on_mapped_word_lists_answers_like_the_builder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    builder = create_app(database_url=url)
    reader = create_app(database_url=url, search_index_role="open")
    try:
        builder.import_paths([sample_path()])
        load(builder, fixture_studies(), tmp_path, "a")
        builder.index(full=True)
        loaded = persist.load_published(tmp_path / "store.db.search")
        assert loaded is not None and isinstance(loaded.main.terms, MappedVocab)
        assert isinstance(loaded.main.nct_ids, NctIds)
        assert all(isinstance(d, MappedVocab) for d in loaded.main.dicts.values())
        in_memory = create_app(database_url=url, search_index_dir="none")
        queries = ["osteoporosis", "osteop*", "diab*", '"breast cancer"', "denosumab OR asthma",
                   "osteoporsis", "diabetis", "", "zzzznotaword", "metformin -diet"]
        filters = [{}, {"condition": "osteoporosis", "status": ["RECRUITING"]},
                   {"intervention": "Prolia", "country": "United States"},
                   {"sponsor": "amgen", "phase": ["PHASE3"], "study_type": ["INTERVENTIONAL"]}]
        for q in queries:
            for extra in filters:
                request = SearchRequest(q=q, page_size=50, near="Boston", **extra)
                expected = in_memory.search(request)
                assert builder.search(request) == expected, (q, extra)
                assert reader.search(request) == expected, (q, extra)
        assert reader.search_engine.browse_conditions() == \
            in_memory.search_engine.browse_conditions()
        assert reader.search(SearchRequest(q="osteoporsis")).suggestion == "osteoporosis"
        in_memory.close()
    finally:
        reader.close()
        builder.close()
