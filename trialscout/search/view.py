"""A consistent, read-only picture of the index at one store generation.

Global doc numbers run over the main segment first, then the delta; main docs replaced by a
newer version are masked out by ``live``. Filter columns are merged once per view so
filters are plain vectorized numpy (in a worker, the snapshot's saved merge is mapped, see
:mod:`.columns`); the text postings stay per segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from trialscout.search.columns import merge_columns
from trialscout.search.rules import SearchRules
from trialscout.search.segment import MULTI_FIELDS, SCALARS, SITE_COLUMNS, Segment
from trialscout.search.vocab import MappedVocab, Vocab


@dataclass(frozen=True)
class Postings:
    """One term's postings restricted to live docs: global doc ids, weighted tf, and where
    in each segment the positions are (segment index, posting index)."""

    docs: np.ndarray
    tf: np.ndarray
    df: int
    seg: np.ndarray
    k: np.ndarray


@dataclass
class IndexView:
    main: Segment
    delta: Segment | None
    live: np.ndarray
    generation: int
    index_id: str
    rules: SearchRules
    #: Filter columns a snapshot saved (:mod:`.columns`): all of them, or only the
    #: latitude order, the rest being merged here.
    columns: dict[str, np.ndarray] | None = None
    _cache: dict[object, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.segments = [self.main] + ([self.delta] if self.delta is not None else [])
        self.offsets = [0, self.main.n]
        self.n = self.main.n + (self.delta.n if self.delta is not None else 0)
        self.last = self.segments[-1]
        self.terms: Vocab | MappedVocab = self.last.terms
        self.dicts: dict[str, Vocab | MappedVocab] = self.last.dicts

        def cat(arrays: list[np.ndarray]) -> np.ndarray:
            return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)

        columns = dict(self.columns or {})
        if "nct_num" not in columns:
            columns.update(merge_columns(self.segments, self.offsets, self.live))
        self.columns = columns
        self.nct_num = columns["nct_num"]
        self.scalars = {k: columns[f"scalar.{k}"] for k in SCALARS}
        self.multi: dict[str, tuple[np.ndarray, np.ndarray]] = {
            name: (columns[f"multi.{name}.docs"], columns[f"multi.{name}.vals"])
            for name in MULTI_FIELDS}
        self.sites = {name: columns[f"site.{name}"] for name in SITE_COLUMNS}
        dl = cat([s.dl for s in self.segments])
        self.n_live = int(self.live.sum())
        avgdl = float(dl[self.live].sum()) / self.n_live if self.n_live else 1.0
        k1, b = self.rules.k1, self.rules.b
        self.norm = k1 * (1.0 - b + b * dl / (avgdl or 1.0))
        self.live_ids = np.flatnonzero(self.live)
        self.all_live = [bool(self.live[off:off + seg.n].all())
                         for seg, off in zip(self.segments, self.offsets, strict=False)]

    # --- identity -------------------------------------------------------------------------
    def nct_id(self, doc: int) -> str:
        if doc >= self.main.n and self.delta is not None:
            return self.delta.nct_ids[doc - self.main.n]
        return self.main.nct_ids[doc]

    @cached_property
    def doc_by_nct(self) -> dict[str, int]:
        out = {}
        for seg, off in zip(self.segments, self.offsets, strict=False):
            for i, nct in enumerate(seg.nct_ids):
                if self.live[off + i]:
                    out[nct] = off + i
        return out

    # --- text -----------------------------------------------------------------------------
    def term_id(self, stem: str) -> int | None:
        return self.terms.get(stem)

    def postings(self, term: int, within: np.ndarray | None = None) -> Postings:
        """Live postings of ``term``; ``within`` (a bool mask over docs) restricts the docs
        returned but not the document frequency, so scores do not depend on filters."""
        docs, tfs, segs, ks = [], [], [], []
        df = 0
        for si, (seg, off) in enumerate(zip(self.segments, self.offsets, strict=False)):
            lo, hi = seg.postings(term)
            if hi <= lo:
                continue
            d = seg.t_doc[lo:hi].astype(np.int64)
            if off:
                d += off
            if self.all_live[si]:
                df += hi - lo
                if within is None:
                    docs.append(d)
                    tfs.append(seg.t_tf[lo:hi])
                    ks.append(np.arange(lo, hi, dtype=np.int64))
                    segs.append(np.full(hi - lo, si, dtype=np.int8))
                    continue
                alive = within[d]
            else:
                alive = self.live[d]
                df += int(np.count_nonzero(alive))
                if within is not None:
                    alive &= within[d]
            idx = np.flatnonzero(alive)
            docs.append(d[idx])
            tfs.append(seg.t_tf[lo:hi][idx])
            ks.append(idx + lo)
            segs.append(np.full(len(idx), si, dtype=np.int8))
        if not docs:
            empty = np.zeros(0, np.int64)
            return Postings(empty, np.zeros(0, np.float32), 0, np.zeros(0, np.int8), empty)
        if len(docs) == 1:
            return Postings(docs[0], tfs[0], df, segs[0], ks[0])
        return Postings(np.concatenate(docs), np.concatenate(tfs), df, np.concatenate(segs),
                        np.concatenate(ks))

    def idf(self, df: int) -> float:
        return float(np.log1p((self.n_live - df + 0.5) / (df + 0.5)))

    def bm25(self, p: Postings) -> np.ndarray:
        if len(p.docs) == 0:
            return np.zeros(0, np.float64)
        tf = p.tf.astype(np.float64)
        return self.idf(p.df) * tf * (self.rules.k1 + 1.0) / (tf + self.norm[p.docs])

    def positions(self, p: Postings, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(doc, position) pairs for the postings at ``rows`` of ``p``."""
        doc_parts, pos_parts = [], []
        for si, seg in enumerate(self.segments):
            sel = rows if len(self.segments) == 1 else rows[p.seg[rows] == si]
            if len(sel) == 0:
                continue
            ks = p.k[sel]
            starts = seg.p_ptr[ks].astype(np.int64)
            counts = seg.p_ptr[ks + 1].astype(np.int64) - starts
            total = int(counts.sum())
            gather = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(
                total, dtype=np.int64)
            doc_parts.append(np.repeat(p.docs[sel], counts))
            pos_parts.append(seg.p_pos[gather].astype(np.int64))
        if not doc_parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(doc_parts), np.concatenate(pos_parts)

    def prefix_terms(self, prefix: str, limit: int) -> list[int]:
        """Term ids of words starting with ``prefix`` (most frequent first, at most limit)."""
        terms: set[int] = set()
        for seg in self.segments:
            for sid in seg.words_with_prefix(prefix):
                terms.add(self._surface_term(sid))
        if len(terms) <= limit:
            return sorted(terms)
        df = {t: sum(seg.postings(t)[1] - seg.postings(t)[0] for seg in self.segments)
              for t in terms}
        return sorted(sorted(terms, key=lambda t: (-df[t], t))[:limit])

    def _surface_term(self, sid: int) -> int:
        if sid < len(self.main.surface_term) or self.delta is None:
            return int(self.main.surface_term[sid])
        return int(self.delta.surface_term[sid - self.delta.surface.offset])

    # --- values ---------------------------------------------------------------------------
    def value_docs(self, name: str, value_ids: np.ndarray) -> np.ndarray:
        """Bool mask over docs: docs holding any of ``value_ids`` in multi-valued ``name``."""
        docs, vals = self.multi[name]
        wanted = np.zeros(len(self.dicts[name]) + 1, dtype=bool)
        wanted[value_ids] = True
        mask = np.zeros(self.n, dtype=bool)
        mask[docs[wanted[vals]]] = True
        return mask
