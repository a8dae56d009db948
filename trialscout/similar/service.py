"""Similar trials for the app: an in-memory index kept fresh from the store's history.

The index is built on first use from every stored trial. Freshness costs one indexed query
per request: the highest ``trial_history`` id. Every import or sync that changes a trial
adds a history row, in whichever process ran it (CLI or web), so when that id moves the
service re-reads only the trials changed since and updates the index in place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from trialscout.similar.explain import SimilarTrial, explain
from trialscout.similar.features import TrialFeatures, features_from_document
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
                batch: int = 2000, weights: dict[str, float] | None = None) -> SimilarIndex:
    """An index over trial documents (``Trial`` dumps), added in batches."""
    index = SimilarIndex(encoder, weights)
    pending: list[TrialFeatures] = []
    for doc in documents:
        pending.append(features_from_document(doc))
        if len(pending) >= batch:
            index.add(pending)
            pending = []
    index.add(pending)
    return index


class SimilarService:
    """Top-k similar trials of a stored trial, with reasons."""

    def __init__(self, engine: Engine, backend: str = "lexical") -> None:
        self.engine = engine
        self.backend = backend
        self._index: SimilarIndex | None = None
        self._watermark = -1
        self._lock = threading.RLock()

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
        """The index, built or brought up to date with the store."""
        with self._lock:
            return self._fresh_index()

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
            index = self._fresh_index()
            at = index.pos.get(nct_id)
            if at is None:
                return None
            query = index.features[at]
            return [explain(query, index.features[index.pos[other]], parts, origin)
                    for other, parts in index.neighbors(nct_id, k)]
