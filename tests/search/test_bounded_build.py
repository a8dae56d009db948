"""The bounded-memory build (parts on disk, merged k-way) gives the in-memory build's index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trialscout.app import TrialScout
from trialscout.search import merge
from trialscout.search.analysis import Analyzer
from trialscout.search.documents import SearchDoc, search_doc
from trialscout.search.rules import search_rules
from trialscout.search.segment import (
    MULTI_FIELDS,
    SCALARS,
    SITE_COLUMNS,
    Segment,
    build_segment,
)
from trialscout.search.store import iter_documents

_TEXT = ("t_ptr", "t_doc", "t_tf", "p_ptr", "p_pos", "dl", "nct_num", "surface_term",
         "surface_sorted_ids")


def _docs(app: TrialScout) -> list[SearchDoc]:
    with app.engine.connect() as conn:
        return [search_doc(d) for _, d in iter_documents(conn)]


def _assert_same(a: Segment, b: Segment) -> None:
    for name in _TEXT:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name
    for k in SCALARS:
        assert a.scalars[k].dtype == b.scalars[k].dtype
        assert np.array_equal(a.scalars[k], b.scalars[k], equal_nan=a.scalars[k].dtype.kind == "f")
    for k in MULTI_FIELDS:
        assert all(np.array_equal(x, y) for x, y in zip(a.multi[k], b.multi[k], strict=True))
    for k in SITE_COLUMNS:
        x, y = a.sites[k], b.sites[k]
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), k
    assert a.nct_ids == b.nct_ids and a.terms.keys == b.terms.keys
    assert a.surface_sorted == b.surface_sorted


@pytest.mark.parametrize(("part_words", "batch", "block"), [(1, 1, 1), (50, 3, 7), (400, 7, 3),
                                                            (10**9, 2000, 1 << 22)])
def test_spilled_build_equals_the_in_memory_build(sample_app: TrialScout, tmp_path: Path,
                                                  part_words: int, batch: int, block: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    docs = _docs(sample_app)
    analyzer, rules = Analyzer(), search_rules()
    expected = build_segment(docs, analyzer, rules, batch=batch)
    monkeypatch.setattr(merge, "BLOCK_POSTINGS", block)
    spilled = build_segment(docs, analyzer, rules, batch=batch,
                            spill_dir=tmp_path / "parts", part_words=part_words)
    _assert_same(spilled, expected)
    assert not list((tmp_path / "parts").glob("part-*")), "parts are removed after the merge"
    if part_words < 10**9:
        assert (tmp_path / "t_doc.npy").is_file()


def test_a_truncated_part_is_an_error_not_a_wrong_index(sample_app: TrialScout,
                                                        tmp_path: Path) -> None:
    docs = _docs(sample_app)
    original = merge.merge

    def cut(parts: list[merge.Part], n_terms: int, out_dir: Path
            ) -> dict[str, np.ndarray]:
        victim = parts[0].file("pos")
        victim.write_bytes(victim.read_bytes()[:-4])
        return original(parts, n_terms, out_dir)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("trialscout.search.segment.merge", cut)
        with pytest.raises(OSError, match=r"shorter than expected|wrote"):
            build_segment(docs, Analyzer(), search_rules(), batch=5,
                          spill_dir=tmp_path / "parts", part_words=100)
