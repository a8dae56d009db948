"""Result shaping after the match: facet counts and the page's total, deterministic order.

Pure numpy over an :class:`~trialscout.search.view.IndexView`; split from the engine so the
service module holds the index lifecycle and the request flow.
"""

from __future__ import annotations

import numpy as np

from trialscout.search.columns import doc_pointers
from trialscout.search.filters import Filters
from trialscout.search.models import FacetCount, SearchRequest
from trialscout.search.segment import NO_DAY
from trialscout.search.view import IndexView

FACET_LIMIT = 20


def _label_rank(view: IndexView, dict_name: str) -> np.ndarray:
    """Per value id, its rank in label order (cached per view): vectorized tie-breaks."""
    key = ("label_rank", dict_name)
    cached = view._cache.get(key)
    if isinstance(cached, np.ndarray):
        return cached
    vocab = view.dicts[dict_name]
    labels = [vocab.label(i) for i in range(len(vocab))]
    order = sorted(range(len(labels)), key=labels.__getitem__)
    rank = np.empty(len(labels), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(labels), dtype=np.int64)
    view._cache[key] = rank
    return rank


def _counts(view: IndexView, dict_name: str, values: np.ndarray, limit: int | None
            ) -> list[FacetCount]:
    """Value counts, most frequent first, ties by label."""
    values = values[values >= 0]
    if not len(values):
        return []
    counts = np.bincount(values)
    ids = np.flatnonzero(counts)
    if limit is not None and len(ids) > limit:
        kth = np.partition(counts[ids], len(ids) - limit)[len(ids) - limit]
        ids = ids[counts[ids] >= kth]
    rank = _label_rank(view, dict_name)
    ids = ids[np.lexsort((rank[ids], -counts[ids]))]
    if limit is not None:
        ids = ids[:limit]
    vocab = view.dicts[dict_name]
    return [FacetCount(value=vocab.label(int(i)), count=int(counts[i])) for i in ids]


def _facets(view: IndexView, docs: np.ndarray, filters: Filters,
            site_ok: np.ndarray | None) -> dict[str, list[FacetCount]]:
    out = {
        "status": _counts(view, "status", view.scalars["status"][docs], None),
        "phase": _counts(view, "phase", _multi_values(view, "phase", docs), None),
        "study_type": _counts(view, "study_type", view.scalars["study_type"][docs], None),
        "conditions": _counts(view, "condition", _multi_values(view, "condition", docs),
                              FACET_LIMIT),
        "interventions": _counts(view, "intervention",
                                 _multi_values(view, "intervention", docs), FACET_LIMIT),
    }
    if filters.site_level or site_ok is not None:
        st = view.sites
        in_set = np.zeros(view.n, dtype=bool)
        in_set[docs] = True
        ok = in_set[st["site_doc"]]
        if filters.sites is not None:
            ok &= filters.sites
        if site_ok is not None:
            ok &= site_ok
        rows = np.flatnonzero(ok & (st["site_country"] >= 0))
        pairs = np.unique(st["site_doc"][rows].astype(np.int64) * (1 << 20)
                          + st["site_country"][rows])
        out["countries"] = _counts(view, "country", pairs % (1 << 20), FACET_LIMIT)
    else:
        out["countries"] = _counts(view, "country", _multi_values(view, "country", docs),
                                   FACET_LIMIT)
    return out


def _multi_values(view: IndexView, name: str, docs: np.ndarray) -> np.ndarray:
    """Values of multi-valued ``name`` over the docs in the result (sorted ``docs``),
    gathered through the per-doc pointers into the doc-sorted column: the cost follows
    the result, not the store."""
    _, vals = view.multi[name]
    ptr = _pointers(view, name)
    lo = ptr[docs]
    counts = ptr[docs + 1] - lo
    total = int(counts.sum())
    if total == 0:
        return vals[:0]
    gather = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(total)
    return vals[gather]


def _pointers(view: IndexView, name: str) -> np.ndarray:
    """The facet field's per-doc pointers: mapped from the snapshot, else computed once
    per view."""
    key = f"multi.{name}.ptr"
    saved = (view.columns or {}).get(key)
    if saved is not None:
        return saved
    cached = view._cache.get(key)
    if isinstance(cached, np.ndarray):
        return cached
    made = doc_pointers(view.multi[name][0], view.n)
    view._cache[key] = made
    return made


def _order(view: IndexView, request: SearchRequest, docs: np.ndarray,
           scores: np.ndarray | None, dist_km: np.ndarray | None) -> np.ndarray:
    """Indices into ``docs`` of the requested page, in a total, deterministic order."""
    start = (request.page - 1) * request.page_size
    stop = start + request.page_size
    if start >= len(docs):
        return np.zeros(0, dtype=np.int64)
    tie = view.nct_num[docs]
    if request.sort == "distance" and dist_km is not None:
        primary = dist_km
    elif request.sort == "relevance" and scores is not None:
        primary = -scores
    else:
        column = "start_day" if request.sort == "start_date" else "update_day"
        day = view.scalars[column][docs]
        primary = np.where(day == NO_DAY, np.inf, -day.astype(np.float64))
    if len(docs) > 4 * stop and len(docs) > 10_000:
        threshold = np.partition(primary, stop - 1)[stop - 1]
        cand = np.flatnonzero(primary <= threshold)
        order = cand[np.lexsort((tie[cand], primary[cand]))]
    else:
        order = np.lexsort((tie, primary))
    return order[start:stop]
