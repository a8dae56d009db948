"""The filter columns of an index view, computed once by the builder and mapped by workers.

A view's multi-valued columns (phase, conditions, ...) and site columns run over global doc
numbers, only over live docs. With a lone main segment whose docs are all live they are the
segment's own memory-mapped arrays, shared by every worker as they are. With a delta
segment (or replaced main docs) they are a merge of both segments, which each worker used
to compute for itself (about 40 bytes per site and 8 per value, private to the worker).
``trialscout index`` now computes the merge when it publishes a delta and saves it in the
snapshot (``view.*.npy``), so workers map it instead.

The latitude-sorted site rows that a radius search reads (:mod:`.distance`) and the
per-doc pointers into the facet columns (:mod:`.facets`) are saved the same way for every
snapshot.

Doc numbers are int32 here (a store holds far fewer than 2**31 trials); callers that
search these arrays with int64 docs cast them first (:func:`as_doc_dtype`), since numpy
would otherwise convert the whole column on every call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from trialscout.search.segment import MULTI_FIELDS, SCALARS, SITE_COLUMNS

DOC_DTYPE = np.int32
LATITUDE_KEYS = ("lat_order", "lat_sorted", "lon_by_lat")
#: Multi-valued fields counted as facets: each gets a per-doc pointer column.
FACET_FIELDS = ("phase", "condition", "intervention", "country")


class _HasColumns(Protocol):
    n: int
    nct_num: np.ndarray
    scalars: dict[str, np.ndarray]
    multi: dict[str, tuple[np.ndarray, np.ndarray]]
    sites: dict[str, np.ndarray]


def as_doc_dtype(docs: np.ndarray) -> np.ndarray:
    """``docs`` as the columns' doc type (a copy of the few query docs, not the column)."""
    return docs if docs.dtype == DOC_DTYPE else docs.astype(DOC_DTYPE)


def merge_columns(segments: Sequence[_HasColumns], offsets: Sequence[int], live: np.ndarray
                  ) -> dict[str, np.ndarray]:
    """``nct_num``, ``scalar.<name>`` (over all docs, dead ones too: doc numbers index
    them), and ``multi.<field>.docs|vals`` and ``site.<column>`` over the live docs of the
    segments; the segment's own arrays (no copy) when there is one and all of it lives."""
    out: dict[str, np.ndarray] = {}
    single = len(segments) == 1 and bool(live.all())
    out["nct_num"] = segments[0].nct_num if len(segments) == 1 else np.concatenate(
        [s.nct_num for s in segments])
    for name in SCALARS:
        out[f"scalar.{name}"] = segments[0].scalars[name] if len(segments) == 1 else \
            np.concatenate([s.scalars[name] for s in segments])
    for name in MULTI_FIELDS:
        if single:
            docs, vals = segments[0].multi[name]
        else:
            docs = np.concatenate([s.multi[name][0].astype(np.int64) + off
                                   for s, off in zip(segments, offsets, strict=False)])
            vals = np.concatenate([s.multi[name][1] for s in segments])
            keep = live[docs]
            docs, vals = docs[keep], vals[keep]
        out[f"multi.{name}.docs"] = as_doc_dtype(np.asarray(docs))
        out[f"multi.{name}.vals"] = vals
    if single:
        for name in SITE_COLUMNS:
            out[f"site.{name}"] = segments[0].sites[name]
        out["site.site_doc"] = as_doc_dtype(np.asarray(out["site.site_doc"]))
        return out
    site_doc = np.concatenate([s.sites["site_doc"].astype(np.int64) + off
                               for s, off in zip(segments, offsets, strict=False)])
    keep = live[site_doc]
    out["site.site_doc"] = as_doc_dtype(site_doc[keep])
    for name in SITE_COLUMNS:
        if name != "site_doc":
            out[f"site.{name}"] = np.concatenate([s.sites[name] for s in segments])[keep]
    return out


def by_latitude(site_lat: np.ndarray, site_lon: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Site rows with usable coordinates in latitude order, with their latitudes and
    longitudes in that order: a latitude band is then one contiguous slice of all three.
    float32 coordinates halve the memory; the bounding box's margin covers their rounding
    (< 2e-5 degrees), and distances are measured on the float64 columns."""
    usable = np.flatnonzero(np.isfinite(site_lat) & np.isfinite(site_lon))
    order = usable[np.argsort(site_lat[usable], kind="stable")]
    if len(site_lat) < 2**31:
        order = order.astype(np.int32)
    return (order, np.asarray(site_lat[order], dtype=np.float32),
            np.asarray(site_lon[order], dtype=np.float32))


def latitude_columns(sites: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """:func:`by_latitude` of a view's site columns, under the names a snapshot saves."""
    return dict(zip(LATITUDE_KEYS, by_latitude(sites["site_lat"], sites["site_lon"]),
                    strict=True))


def doc_pointers(docs: np.ndarray, n: int) -> np.ndarray:
    """Where each doc's values start in a doc-sorted multi-valued column (``n + 1``
    entries): a result's values are then gathered in one pass over its own docs, not
    found by binary search nor by scanning the column."""
    return np.searchsorted(docs, np.arange(n + 1, dtype=docs.dtype)).astype(np.int64)


def pointer_columns(multi: dict[str, tuple[np.ndarray, np.ndarray]], n: int
                    ) -> dict[str, np.ndarray]:
    """:func:`doc_pointers` of the facet fields, under the names a snapshot saves."""
    return {f"multi.{name}.ptr": doc_pointers(multi[name][0], n) for name in FACET_FIELDS}
