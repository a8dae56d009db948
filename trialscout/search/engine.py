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
import shutil
import threading
import time
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
from trialscout.search.errors import IndexNotPublished, SearchQueryError
from trialscout.search.facets import _facets, _order
from trialscout.search.filters import build_filters
from trialscout.search.lock import build_lock
from trialscout.search.models import (
    ConditionCount,
    NearestSite,
    SearchHit,
    SearchRequest,
    SearchResponse,
)
from trialscout.search.places import KM_PER_MILE
from trialscout.search.plan import Compiler, Executor
from trialscout.search.query import parse
from trialscout.search.rules import SearchRules, search_rules
from trialscout.search.segment import Segment, build_segment
from trialscout.search.suggest import suggest
from trialscout.search.synonyms import SynonymIndex, default_synonyms
from trialscout.search.values import ValueIndex, matching_values, stem_key
from trialscout.search.view import IndexView

log = logging.getLogger(__name__)
_VALUE_CACHE = 512
READER_DELTA = 5000
BrowseOrder = Literal["name", "count"]


@dataclass
class _State:
    main: Segment
    main_generation: int
    index_id: str
    dead: np.ndarray
    delta_docs: dict[str, SearchDoc] | None
    view: IndexView
    snapshot: str | None = None


@dataclass(frozen=True)
class PublishReport:
    """What ``trialscout index`` did: a full build, a delta over the published main
    segment, or nothing (the published snapshot already covers the store)."""

    kind: Literal["full", "delta", "current"]
    generation: int
    trials: int
    changed: int
    snapshot: str | None
    similar: str | None = None


class SearchEngine:
    """One per app. Thread-safe: views are immutable and swapped under a lock."""

    def __init__(self, engine: Engine | Callable[[], Engine], index_dir: Path | None = None, *,
                 rules: SearchRules | None = None, synonyms: SynonymIndex | None = None,
                 delta_limit: int | None = None, builds: bool = True) -> None:
        self._engine = engine
        self.index_dir = index_dir
        #: False in web workers of a shared deployment: they only open what
        #: ``trialscout index`` published and never build a whole index.
        self.builds = builds
        self._checked = 0.0
        self._retry_at = 0.0
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
    def published(self) -> str:
        """The published snapshot this process serves ("" when it serves its own build):
        a worker's page cache keys on it, since a reader can serve an older snapshot than
        the store's generation until ``trialscout index`` publishes a newer one."""
        state = self._state
        return "" if state is None or state.snapshot is None else state.snapshot

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
        """The index as of the store's latest committed generation (or, in a process that
        does not build, the newest published snapshot plus at most ``delta_limit`` changed
        trials read since)."""
        state = self._state
        if state is not None and self._newer_snapshot(state):
            with self._lock:
                self._adopt_published()
                state = self._state
        with self.engine.connect() as conn:
            generation, index_id = store.read_state(conn)
        if state is not None and state.view.generation == generation and \
                state.index_id == index_id:
            return state.view
        if state is not None and not self.builds and time.monotonic() < self._retry_at:
            return state.view
        with self._lock:
            return self._refresh()

    def _newer_snapshot(self, state: _State, every: float = 0.5) -> bool:
        """Whether another process published a snapshot since ours (polled twice a second:
        one small file read)."""
        if self.index_dir is None:
            return False
        now = time.monotonic()
        if now - self._checked < every:
            return False
        self._checked = now
        name = persist.current_name(self.index_dir)
        return name is not None and name != state.snapshot

    def _adopt_published(self) -> None:
        assert self.index_dir is not None
        state = self._state
        loaded = persist.load_published(self.index_dir)
        if loaded is None or state is None or loaded.name == state.snapshot:
            return
        if loaded.meta.index_id != state.index_id or \
                loaded.meta.rules_digest != self.rules.digest:
            return
        if loaded.meta.generation < state.view.generation and state.snapshot is not None \
                and self.builds:
            return
        self._state = self._from_loaded(loaded)

    def _from_loaded(self, loaded: persist.Loaded) -> _State:
        if loaded.delta is None:
            state = self._assemble(loaded.main, loaded.main_generation, loaded.meta.index_id,
                                   np.zeros(loaded.main.n, dtype=bool), {},
                                   loaded.meta.generation, loaded.columns)
        else:
            assert loaded.dead is not None
            dead = np.asarray(loaded.dead, dtype=bool)
            live = np.concatenate([~dead, np.ones(loaded.delta.n, bool)])
            view = IndexView(loaded.main, loaded.delta, live, loaded.meta.generation,
                             loaded.meta.index_id, self.rules, loaded.columns or None)
            state = _State(loaded.main, loaded.main_generation, loaded.meta.index_id, dead,
                           None, view)
        state.snapshot = loaded.name
        return state

    def rebuild(self) -> IndexView:
        """Rebuild the whole index from the store (and save a snapshot if configured)."""
        self.publish(full=True)
        assert self._state is not None
        return self._state.view

    def publish(self, *, full: bool = False) -> PublishReport:
        """Build what the store changed since the published snapshot and publish it, under
        the builder lock: a delta segment over the published main segment while the
        changes stay within ``delta_limit``, else (or with ``full``) the whole index."""
        with self._lock, build_lock(self.engine, self.index_dir), self._reading() as conn:
            generation, index_id = store.read_state(conn)
            loaded = persist.load_published(self.index_dir) if self.index_dir else None
            usable = (loaded is not None and loaded.meta.index_id == index_id
                      and loaded.meta.rules_digest == self.rules.digest
                      and loaded.main_generation <= generation)
            if not full and usable and loaded is not None:
                if loaded.meta.generation == generation:
                    self._state = self._from_loaded(loaded)
                    return PublishReport("current", generation, self._state.view.n_live, 0,
                                         loaded.name)
                changed = store.changed_since(conn, loaded.main_generation)
                if len(changed) <= self._delta_limit(loaded.main.n):
                    return self._publish_delta(conn, loaded, changed, generation, index_id)
            self._state = self._full_build(conn, locked=True)
            return PublishReport("full", self._state.view.generation,
                                 self._state.view.n_live, self._state.view.n_live,
                                 self._state.snapshot)

    def _publish_delta(self, conn: Connection, loaded: persist.Loaded, changed: list[str],
                       generation: int, index_id: str) -> PublishReport:
        assert self.index_dir is not None
        docs = store.documents(conn, changed)
        dead = np.zeros(loaded.main.n, dtype=bool)
        for pos in _positions(loaded.main, changed):
            if pos >= 0:
                dead[pos] = True
        delta_docs = {k: search_doc(docs[k]) for k in changed if k in docs}
        state = self._assemble(loaded.main, loaded.main_generation, index_id, dead,
                               delta_docs, generation)
        if state.view.n_live != store.count_trials(conn):
            log.warning("search index out of step with the store; rebuilding")
            self._state = self._full_build(conn, locked=True)
            return PublishReport("full", generation, self._state.view.n_live,
                                 self._state.view.n_live, self._state.snapshot)
        if state.view.delta is not None or dead.any():
            delta = state.view.delta or build_segment([], self.analyzer, self.rules,
                                                      base=loaded.main)
            path = persist.save_delta(
                self.index_dir, self.index_dir / loaded.name, delta, dead,
                persist.SnapshotMeta(persist.FORMAT, index_id, generation, self.rules.digest,
                                     loaded.main.n), state.view.columns)
            state.snapshot = path.name
        self._state = state
        return PublishReport("delta", generation, state.view.n_live, len(changed),
                             state.snapshot)

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
            if state.delta_docs is None:
                changed = store.changed_since(conn, state.main_generation)
                dead = np.zeros(state.main.n, dtype=bool)
                delta_docs: dict[str, SearchDoc] = {}
            else:
                changed = store.changed_since(conn, state.view.generation)
                dead = state.dead.copy()
                delta_docs = dict(state.delta_docs)
            if not self.builds and len(changed) > self._delta_limit(state.main.n):
                return self._stale(state, generation, len(changed))
            docs = store.documents(conn, changed)
            main_pos = _positions(state.main, changed)
            for nct_id, pos in zip(changed, main_pos, strict=True):
                delta_docs.pop(nct_id, None)
                if pos >= 0:
                    dead[pos] = True
                document = docs.get(nct_id)
                if document is not None:
                    delta_docs[nct_id] = search_doc(document)
            if len(delta_docs) > self._delta_limit(state.main.n):
                if not self.builds:
                    return self._stale(state, generation, len(delta_docs))
                self._state = self._full_build(conn)
                return self._state.view
            new = self._assemble(state.main, state.main_generation, index_id, dead,
                                 delta_docs, generation)
            new.snapshot = state.snapshot
            if new.view.n_live != store.count_trials(conn) and self.builds:
                log.warning("search index out of step with the store; rebuilding")
                new = self._full_build(conn)
            self._state = new
            return new.view

    def _stale(self, state: _State, generation: int, changed: int) -> IndexView:
        """A reader with more changes than it may index itself serves what was published
        (and says so in the log) until ``trialscout index`` publishes a newer snapshot."""
        if self._state is not state:
            self._state = state
        log.warning("search serves the published snapshot (generation %d); %d trials "
                    "changed since, store generation %d: run `trialscout index`",
                    state.view.generation, changed, generation)
        self._retry_at = time.monotonic() + 5.0
        return state.view

    def _delta_limit(self, main_n: int) -> int:
        """Changed trials a delta segment may hold: a tenth of the main segment for the
        builder (past it a full build is cheaper to search); a reader indexes at most
        ``READER_DELTA`` changed trials itself before it waits for ``trialscout index``."""
        if self.delta_limit is not None:
            return self.delta_limit
        if not self.builds:
            return READER_DELTA
        return max(5000, main_n // 10)

    def _open(self, conn: Connection, generation: int, index_id: str) -> _State:
        """A first view: the published snapshot when it belongs to this store, else a build
        (a process that does not build raises :class:`IndexNotPublished`)."""
        if self.index_dir is not None:
            loaded = persist.load_published(self.index_dir)
            if loaded is not None and loaded.meta.index_id == index_id \
                    and loaded.meta.rules_digest == self.rules.digest \
                    and loaded.meta.generation <= generation:
                state = self._from_loaded(loaded)
                if loaded.meta.generation < generation or not self.builds:
                    return state
                if state.view.n_live == store.count_trials(conn):
                    return state
        if not self.builds:
            raise IndexNotPublished(
                "the search index has not been published for this store yet: run "
                "`trialscout index` (this process only opens published indexes)")
        return self._full_build(conn)

    def _full_build(self, conn: Connection, *, locked: bool = False) -> _State:
        """Build the whole index, in bounded memory when it is saved, under the builder
        lock (unless the caller holds it); a snapshot another builder published for the
        current generation meanwhile is opened instead of building again."""
        if not locked:
            with build_lock(self.engine, self.index_dir):
                generation, index_id = store.read_state(conn)
                if self.index_dir is not None:
                    loaded = persist.load_published(self.index_dir)
                    if loaded is not None and loaded.meta.index_id == index_id and \
                            loaded.meta.generation == generation and \
                            loaded.meta.rules_digest == self.rules.digest:
                        state = self._from_loaded(loaded)
                        if state.view.n_live == store.count_trials(conn):
                            return state
                return self._full_build(conn, locked=True)
        generation, index_id = store.read_state(conn)
        docs = (search_doc(document) for _, document in store.iter_documents(conn))
        if self.index_dir is None:
            segment = build_segment(docs, self.analyzer, self.rules)
            return self._assemble(segment, generation, index_id,
                                  np.zeros(segment.n, dtype=bool), {}, generation)
        work = persist.work_dir(self.index_dir)
        try:
            segment = build_segment(docs, self.analyzer, self.rules, spill_dir=work / "parts")
            shutil.rmtree(work / "parts", ignore_errors=True)
            path = persist.save(self.index_dir, segment, persist.SnapshotMeta(
                persist.FORMAT, index_id, generation, self.rules.digest, segment.n))
        except OSError as exc:
            log.warning("could not save the search index to %s: %s", self.index_dir, exc)
            shutil.rmtree(work, ignore_errors=True)
            segment = build_segment((search_doc(d) for _, d in store.iter_documents(conn)),
                                    self.analyzer, self.rules)
            return self._assemble(segment, generation, index_id,
                                  np.zeros(segment.n, dtype=bool), {}, generation)
        state = self._assemble(segment, generation, index_id,
                               np.zeros(segment.n, dtype=bool), {}, generation)
        state.snapshot = path.name
        return state

    def _assemble(self, main: Segment, main_generation: int, index_id: str,
                  dead: np.ndarray, delta_docs: dict[str, SearchDoc], generation: int,
                  columns: dict[str, np.ndarray] | None = None) -> _State:
        """A state over ``main`` plus a delta of ``delta_docs``; ``columns``: view columns
        a snapshot saved for exactly this main segment (only without a delta)."""
        delta = None
        if delta_docs:
            ordered = [delta_docs[k] for k in sorted(delta_docs)]
            delta = build_segment(ordered, self.analyzer, self.rules, base=main)
        live = ~dead if delta is None else np.concatenate([~dead, np.ones(delta.n, bool)])
        view = IndexView(main, delta, live, generation, index_id, self.rules,
                         columns if delta is None and not dead.any() else None)
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
