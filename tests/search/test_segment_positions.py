"""The term-major reordering of word positions, done block by block to bound memory."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscout.search import merge as segment


def _all_at_once(pos: np.ndarray, counts: np.ndarray, perm: np.ndarray) -> np.ndarray:
    out = []
    old_start = np.cumsum(counts) - counts
    for k in perm:
        out.extend(pos[old_start[k]:old_start[k] + counts[k]])
    return np.asarray(out, dtype=pos.dtype)


@settings(max_examples=200, deadline=None)
@given(counts=st.lists(st.integers(1, 5), max_size=40), block=st.integers(1, 7),
       seed=st.integers(0, 2**32 - 1))
def test_blockwise_reordering_equals_the_plain_gather(counts: list[int], block: int,
                                                     seed: int) -> None:
    rng = np.random.default_rng(seed)
    cnt = np.asarray(counts, dtype=np.int32)
    pos = rng.integers(0, 10_000, int(cnt.sum()), dtype=np.uint32)
    perm = rng.permutation(len(cnt))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(segment, "POSITION_BLOCK", block)
        got = segment._term_major_positions(pos, cnt, perm, cnt[perm].astype(np.int64))
    assert np.array_equal(got, _all_at_once(pos, cnt, perm))
