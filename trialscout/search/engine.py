"""The search service: keeps an index view fresh against the store and answers requests.

Freshness: the import write hook stamps changed trials with a new generation in the same
transaction (:mod:`trialscout.search.store`). Before every request the engine reads the
store's generation (one primary-key lookup); if it moved, the changed trials are re-read
into a small delta segment and their old versions masked out, so a search never sees a
stale or missing trial. When the delta grows past ``delta_limit`` the whole index is rebuilt
and, with an index directory, saved as a snapshot that the next process memory-maps.

Everything the index holds comes from ``trials.document`` and all scoring is numpy on the
client side, so SQLite and PostgreSQL give the same results.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sqlalchemy import Connection, Engine

from trialscout.search import persist, store
from trialscout.search.analysis import Analyzer, fold
from trialscout.search.distance import nearest, resolve_origin
from trialscout.search.documents import SearchDoc, search_doc
from trialscout.search.errors import SearchQueryError
from trialscout.search.filters import Filters, build_filters
from trialscout.search.models import (
    ConditionCount,
    FacetCount,
    NearestSite,
    SearchHit,
    SearchRequest,
    SearchResponse,
)
from trialscout.search.places import KM_PER_MILE
from trialscout.search.plan import Compiler, Executor
from trialscout.search.query import parse
from trialscout.search.rules import SearchRules, search_rules
from trialscout.search.segment import NO_DAY, Segment, build_segment
from trialscout.search.suggest import suggest
from trialscout.search.synonyms import SynonymIndex, default_synonyms
from trialscout.search.values import ValueIndex, matching_values, stem_key
from trialscout.search.view import IndexView

log = logging.getLogger(__name__)
FACET_LIMIT = 20
_VALUE_CACHE = 512
BrowseOrder = Literal["name", "count"]


@dataclass
class _State:
    main: Segment
    main_generation: int
    index_id: str
    dead: np.ndarray
    delta_docs: dict[str, SearchDoc]
    view: IndexView


class SearchEngine:
    """One per app. Thread-safe: views are immutable and swapped under a lock."""

    def __init__(self, engine: Engine | Callable[[], Engine], index_dir: Path | None = None, *,
                 rules: SearchRules | None = None, synonyms: SynonymIndex | None = None,
                 delta_limit: int | None = None) -> None:
        self._engine = engine
        self.index_dir = index_dir
        self.rules = rules or search_rules()
        self._synonyms = synonyms
        self.analyzer = Analyzer()
        self.delta_limit = delta_limit
        self._lock = threading.RLock()
        self._state: _State | None = None

    @property
    def engine(self) -> Engine:
        return self._engine if isinstance(self._engine, Engine) else self._engine()

    @property
    def synonyms(self) -> SynonymIndex:
        if self._synonyms is None:
            self._synonyms = default_synonyms()
        return self._synonyms

    # --- write side -----------------------------------------------------------------------
    @staticmethod
    def write_hook(conn: Connection, nct_ids: list[str]) -> None:
        """Registered on the app: runs inside every import/sync transaction."""
        store.mark_changed(conn, nct_ids)

    # --- index lifecycle ------------------------------------------------------------------
    def view(self) -> IndexView:
        """The index as of the store's latest committed generation."""
        state = self._state
        with self.engine.connect() as conn:
            generation, index_id = store.read_state(conn)
        if state is not None and state.view.generation == generation and \
                state.index_id == index_id:
            return state.view
        with self._lock:
            return self._refresh()

    def rebuild(self) -> IndexView:
        """Rebuild the whole index from the store (and save a snapshot if configured)."""
        with self._lock:
            with self._reading() as conn:
                self._state = self._full_build(conn)
            return self._state.view

    def _reading(self) -> Any:
        conn = self.engine.connect()
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        return _Transaction(conn)

    def _refresh(self) -> IndexView:
        with self._reading() as conn:
            generation, index_id = store.read_state(conn)
            state = self._state
            if state is not None and state.view.generation == generation and \
                    state.index_id == index_id:
                return state.view
            if state is None or state.index_id != index_id:
                state = self._open(conn, generation, index_id)
                if state.view.generation == generation:
                    self._state = state
                    return state.view
            changed = store.changed_since(conn, state.view.generation)
            docs = store.documents(conn, changed)
            dead = state.dead.copy()
            delta_docs = dict(state.delta_docs)
            main_pos = _positions(state.main, changed)
            for nct_id, pos in zip(changed, main_pos, strict=True):
                delta_docs.pop(nct_id, None)
                if pos >= 0:
                    dead[pos] = True
                document = docs.get(nct_id)
                if document is not None:
                    delta_docs[nct_id] = search_doc(document)
            if len(delta_docs) > self._delta_limit(state.main.n):
                self._state = self._full_build(conn)
                return self._state.view
            new = self._assemble(state.main, state.main_generation, index_id, dead,
                                 delta_docs, generation)
            if new.view.n_live != store.count_trials(conn):
                log.warning("search index out of step with the store; rebuilding")
                new = self._full_build(conn)
            self._state = new
            return new.view

    def _delta_limit(self, main_n: int) -> int:
        if self.delta_limit is not None:
            return self.delta_limit
        return max(5000, main_n // 10)

    def _open(self, conn: Connection, generation: int, index_id: str) -> _State:
        """A first view: the saved snapshot when it belongs to this store, else a build."""
        if self.index_dir is not None:
            loaded = persist.load(self.index_dir)
            if loaded is not None:
                meta, segment = loaded
                if meta.index_id == index_id and meta.rules_digest == self.rules.digest \
                        and meta.generation <= generation:
                    dead = np.zeros(segment.n, dtype=bool)
                    state = self._assemble(segment, meta.generation, index_id, dead, {},
                                           meta.generation)
                    if meta.generation < generation:
                        return state
                    if state.view.n_live == store.count_trials(conn):
                        return state
        return self._full_build(conn)

    def _full_build(self, conn: Connection) -> _State:
        generation, index_id = store.read_state(conn)
        docs = (search_doc(document) for _, document in store.iter_documents(conn))
        segment = build_segment(docs, self.analyzer, self.rules)
        if self.index_dir is not None:
            try:
                persist.save(self.index_dir, segment, persist.SnapshotMeta(
                    persist.FORMAT, index_id, generation, self.rules.digest, segment.n))
            except OSError as exc:
                log.warning("could not save the search index to %s: %s", self.index_dir, exc)
        return self._assemble(segment, generation, index_id,
                              np.zeros(segment.n, dtype=bool), {}, generation)

    def _assemble(self, main: Segment, main_generation: int, index_id: str,
                  dead: np.ndarray, delta_docs: dict[str, SearchDoc], generation: int
                  ) -> _State:
        delta = None
        if delta_docs:
            ordered = [delta_docs[k] for k in sorted(delta_docs)]
            delta = build_segment(ordered, self.analyzer, self.rules, base=main)
        live = ~dead if delta is None else np.concatenate([~dead, np.ones(delta.n, bool)])
        view = IndexView(main, delta, live, generation, index_id, self.rules)
        return _State(main, main_generation, index_id, dead, delta_docs, view)

    # --- value filters --------------------------------------------------------------------
    def match_values(self, view: IndexView, dict_name: str, text: str) -> np.ndarray:
        key = ("values", dict_name, text)
        cached = view._cache.get(key)
        if isinstance(cached, np.ndarray):
            return cached
        main_index = view.main.extra.get(("value_index", dict_name))
        if not isinstance(main_index, ValueIndex):
            main_index = ValueIndex(self.analyzer)
            main_index.extend(view.main.dicts[dict_name], 0)
            view.main.extra[("value_index", dict_name)] = main_index
        found = [matching_values(main_index, text, self.analyzer, self.synonyms)]
        if view.delta is not None:
            delta_index = view._cache.get(("value_index", dict_name))
            if not isinstance(delta_index, ValueIndex):
                delta_index = ValueIndex(self.analyzer)
                delta_index.extend(view.delta.dicts[dict_name], len(view.main.dicts[dict_name]))
                view._cache[("value_index", dict_name)] = delta_index
            found.append(matching_values(delta_index, text, self.analyzer, self.synonyms))
        result = np.unique(np.concatenate(found))
        if len(view._cache) < _VALUE_CACHE:
            view._cache[key] = result
        return result

    # --- search ---------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResponse:
        view = self.view()
        origin = resolve_origin(request)
        if request.sort == "distance" and origin is None:
            raise SearchQueryError("sorting by distance needs a place: give 'near' "
                                   "(a place name or 'lat,lon') or lat and lon")
        if request.radius is not None and origin is None:
            raise SearchQueryError("a radius needs a place: give 'near' or lat and lon")
        filters = build_filters(view, request, self.match_values)
        docs, scores = self.match(view, request.q, filters.docs, request.match)
        dist_km = site_rows = site_ok = None
        if origin is not None:
            radius_km = None
            if request.radius is not None:
                radius_km = request.radius * (KM_PER_MILE if request.unit == "mi" else 1.0)
            dist_km, site_rows, site_ok = nearest(view, docs, filters, origin, radius_km)
            if radius_km is not None:
                keep = dist_km <= radius_km
                docs, dist_km, site_rows = docs[keep], dist_km[keep], site_rows[keep]
                scores = scores[keep] if scores is not None else None
        facets = _facets(view, docs, filters, site_ok) if request.facets else {}
        order = _order(view, request, docs, scores, dist_km)
        page_docs = docs[order]
        hits = self._hits(view, page_docs, None if scores is None else scores[order],
                          None if dist_km is None else dist_km[order],
                          None if site_rows is None else site_rows[order], request)
        suggestion = None
        if not len(docs) and request.q:
            suggestion = suggest(view, request.q, lambda q: bool(len(
                self.match(view, q, filters.docs, request.match)[0])))
        return SearchResponse(request=request, total=len(docs), page=request.page,
                              page_size=request.page_size, hits=hits, facets=facets,
                              origin=origin, suggestion=suggestion)

    def match(self, view: IndexView, q: str, mask: np.ndarray | None,
              mode: Literal["auto", "all", "any"] = "auto"
              ) -> tuple[np.ndarray, np.ndarray | None]:
        """Docs matching the query text within ``mask``, with scores (None: no query)."""
        if not q.strip():
            alive = view.live if mask is None else (view.live & mask)
            return np.flatnonzero(alive), None
        parsed = parse(q, self.rules.query, mode)
        plan = Compiler(self.analyzer, self.synonyms, self.rules.stopwords,
                        self.rules.query).compile(parsed)
        docs, scores = Executor(view, mask, self.rules.query.max_prefix_expansions).run(plan)
        if mask is not None and len(docs):
            keep = mask[docs]
            docs, scores = docs[keep], scores[keep]
        return docs, scores

    def rank(self, q: str, limit: int, mode: Literal["auto", "all", "any"] = "any"
             ) -> list[tuple[str, float]]:
        """The best ``limit`` (nct_id, score) for a query, for evaluations and matching."""
        view = self.view()
        docs, scores = self.match(view, q, None, mode)
        if scores is None or not len(docs):
            return []
        order = np.lexsort((view.nct_num[docs], -scores))[:limit]
        return [(view.nct_id(int(d)), float(s)) for d, s in zip(docs[order], scores[order],
                                                                 strict=True)]

    def _hits(self, view: IndexView, docs: np.ndarray, scores: np.ndarray | None,
              dist_km: np.ndarray | None, site_rows: np.ndarray | None,
              request: SearchRequest) -> list[SearchHit]:
        ids = [view.nct_id(int(d)) for d in docs]
        positions: list[int | None] = [None] * len(ids)
        if dist_km is not None and site_rows is not None:
            positions = [int(view.sites["site_pos"][r]) if r >= 0 else None
                         for r in site_rows.tolist()]
        with self.engine.connect() as conn:
            rows = store.hit_rows(conn, ids)
            sites = store.site_rows(conn, [(i, p) for i, p in zip(ids, positions, strict=True)
                                           if p is not None])
        hits = []
        for i, nct_id in enumerate(ids):
            row = rows.get(nct_id)
            if row is None:
                continue
            nearest = None
            position = positions[i]
            if position is not None and dist_km is not None:
                site = sites.get((nct_id, position), {})
                km = float(dist_km[i])
                nearest = NearestSite(
                    **site, distance_km=round(km, 3),
                    distance=round(km / KM_PER_MILE if request.unit == "mi" else km, 3),
                    unit=request.unit)
            score = None if scores is None else round(float(scores[i]), 6)
            hits.append(SearchHit(**row, score=score, nearest_site=nearest))
        return hits

    # --- browse ---------------------------------------------------------------------------
    def browse_conditions(self, prefix: str | None = None, letter: str | None = None,
                          page: int = 1, page_size: int = 50, order: BrowseOrder = "name"
                          ) -> list[ConditionCount]:
        """Conditions with the number of trials ``search(condition=...)`` returns for each.

        Values that name the same vocabulary concept are listed once, under its name.
        """
        if page < 1 or not 1 <= page_size <= 1000:
            raise SearchQueryError("page starts at 1 and page_size is 1..1000")
        view = self.view()
        labels = self._condition_labels(view)
        if prefix:
            key = fold(prefix).strip()
            labels = [lbl for lbl in labels if fold(lbl).startswith(key)]
        if letter:
            first = fold(letter.strip())[:1]
            if first.isalpha():
                labels = [lbl for lbl in labels if fold(lbl).startswith(first)]
            else:
                labels = [lbl for lbl in labels if not fold(lbl)[:1].isalpha()]
        start = (page - 1) * page_size
        if order == "count":
            counted = sorted(((self._condition_count(view, lbl), lbl) for lbl in labels),
                             key=lambda x: (-x[0], fold(x[1]), x[1]))
            return [ConditionCount(condition=lbl, count=c)
                    for c, lbl in counted[start:start + page_size]]
        chosen = labels[start:start + page_size]
        return [ConditionCount(condition=lbl, count=self._condition_count(view, lbl))
                for lbl in chosen]

    def _condition_labels(self, view: IndexView) -> list[str]:
        cached = view._cache.get("condition_labels")
        if isinstance(cached, list):
            return cached
        _, vals = view.multi["condition"]
        vocab = view.dicts["condition"]
        labels: set[str] = set()
        for vid in np.unique(vals):
            label = vocab.label(int(vid))
            concepts = self.synonyms.concepts(stem_key(self.analyzer, label), label)
            if len(concepts) == 1:
                name = self.synonyms.names.get(next(iter(concepts)), label)
                label = name[:1].upper() + name[1:] if name[:1].islower() else name
            labels.add(label)
        out = sorted(labels, key=lambda lbl: (fold(lbl), lbl))
        view._cache["condition_labels"] = out
        return out

    def _condition_count(self, view: IndexView, label: str) -> int:
        key = ("condition_count", label)
        cached = view._cache.get(key)
        if isinstance(cached, int):
            return cached
        count = int(view.value_docs("condition_match",
                                    self.match_values(view, "condition_match", label)).sum())
        view._cache[key] = count
        return count


class _Transaction:
    """``with`` a connection inside one transaction (a consistent read on both backends)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        self.tx = self.conn.begin()
        return self.conn

    def __exit__(self, *exc: object) -> None:
        try:
            self.tx.rollback()
        finally:
            self.conn.close()


def _positions(segment: Segment, nct_ids: Iterable[str]) -> list[int]:
    """Where each NCT id sits in a segment built in NCT id order (-1 when absent)."""
    nums = np.asarray([int(i[3:]) for i in nct_ids], dtype=np.int64)
    if not len(nums) or segment.n == 0:
        return [-1] * len(nums)
    pos = np.searchsorted(segment.nct_num, nums)
    pos = np.minimum(pos, segment.n - 1)
    found = np.asarray(segment.nct_num)[pos] == nums
    return [int(p) if ok else -1 for p, ok in zip(pos, found, strict=True)]


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
    in_set = np.zeros(view.n, dtype=bool)
    in_set[docs] = True
    out = {
        "status": _counts(view, "status", view.scalars["status"][docs], None),
        "phase": _counts(view, "phase", _multi_values(view, "phase", in_set, docs), None),
        "study_type": _counts(view, "study_type", view.scalars["study_type"][docs], None),
        "conditions": _counts(view, "condition", _multi_values(view, "condition", in_set, docs),
                              FACET_LIMIT),
        "interventions": _counts(view, "intervention",
                                 _multi_values(view, "intervention", in_set, docs), FACET_LIMIT),
    }
    if filters.site_level or site_ok is not None:
        st = view.sites
        ok = in_set[st["site_doc"]]
        if filters.sites is not None:
            ok &= filters.sites
        if site_ok is not None:
            ok &= site_ok
        rows = np.flatnonzero(ok & (st["site_country"] >= 0))
        pairs = np.unique(st["site_doc"][rows] * (1 << 20) + st["site_country"][rows])
        out["countries"] = _counts(view, "country", pairs % (1 << 20), FACET_LIMIT)
    else:
        out["countries"] = _counts(view, "country", _multi_values(view, "country", in_set, docs),
                                   FACET_LIMIT)
    return out


def _multi_values(view: IndexView, name: str, in_set: np.ndarray, docs: np.ndarray
                  ) -> np.ndarray:
    """Values of multi-valued ``name`` over the docs in the result (sorted ``docs``).

    The value arrays are sorted by doc, so a small result gathers its ranges directly
    instead of scanning every value of the store."""
    mdocs, vals = view.multi[name]
    if len(docs) * 16 >= len(mdocs):
        return vals[in_set[mdocs]]
    lo = np.searchsorted(mdocs, docs, side="left")
    hi = np.searchsorted(mdocs, docs, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return vals[:0]
    gather = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(total)
    return vals[gather]


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
