"""The similar-trials index: sparse matrices over every trial, scored a block at a time.

Scores for one trial against all others are a few sparse products: TF-IDF cosine of the
texts (or embedding cosine), Dice overlap of condition keys and of intervention keys, then
the population factor (age ranges overlap, sexes compatible) and a small boost for trials
that are recruiting. The same code ranks one trial (a page view) or all of them (the
benchmark and the evaluation), in blocks so memory stays bounded.

Each trial's terms are kept as compact arrays, so updating a few trials after an import
only re-reads those trials and rebuilds the matrices from arrays, without re-reading the
store.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from trialscout.search.analysis import Analyzer
from trialscout.similar.features import TrialFeatures, rules

SEX_CODE = {"ALL": 0, "FEMALE": 1, "MALE": 2}
EMBEDDING_CANDIDATES = 300
TEXT_FLOOR = 0.05
Encoder = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class ScoreParts:
    """Why one trial scored what it did against another."""

    score: float
    text: float
    conditions: float
    interventions: float
    population: float


def _binary(rows: list[tuple[int, ...]], n_columns: int) -> sparse.csr_matrix:
    """One row per trial, a 1 in the column of each of its keys (ids given at ``add``,
    in order of first appearance)."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    indices = np.fromiter((c for r in rows for c in r), dtype=np.int64, count=int(indptr[-1]))
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), max(n_columns, 1)))


class SimilarIndex:
    """All trials' features as matrices; ``neighbors`` and ``all_neighbors`` rank them."""

    def __init__(self, encoder: Encoder | None = None,
                 weights: dict[str, float] | None = None, *, keep_features: bool = True
                 ) -> None:
        """``keep_features=False`` (``trialscout index``, which only saves the matrices)
        keeps per trial only what the matrices are built from: ids of its condition and
        intervention keys, its ages, sex and status, not its names, sites and texts."""
        self.encoder = encoder
        self.weights = weights
        self.keep_features = keep_features
        self.analyzer = Analyzer()
        self.ids: Sequence[str] = []
        self.pos: Mapping[str, int] = {}
        self.features: list[TrialFeatures] = []
        self._cond_rows: list[tuple[int, ...]] = []
        self._drug_rows: list[tuple[int, ...]] = []
        self._cond_cols: dict[str, int] = {}
        self._drug_cols: dict[str, int] = {}
        self._min_age = array("d")
        self._max_age = array("d")
        self._sex = array("b")
        self._recruiting = array("b")
        self._terms: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._vectors: list[np.ndarray | None] = []
        self._vocab: dict[str, int] = {}
        self._dirty = True

    def __len__(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------------ building
    def add(self, features: Sequence[TrialFeatures]) -> None:
        """Add trials, or replace those already in the index (matched by NCT id)."""
        known, pos = self.ids, self.pos
        if not isinstance(known, list) or not isinstance(pos, dict):
            raise TypeError("a published (memory-mapped) index is read-only")
        texts = [f.text for f in features]
        vectors: list[np.ndarray | None] = [None] * len(features)
        if self.encoder is not None and features:
            encoded = self.encoder([f.embed_text or f.text for f in features])
            vectors = [encoded[i] for i in range(len(features))]
        for f, text, vector in zip(features, texts, vectors, strict=True):
            counts = Counter(self.analyzer.terms(text))
            ids = np.fromiter((self._vocab.setdefault(t, len(self._vocab)) for t in counts),
                              dtype=np.int32, count=len(counts))
            values = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            f.text = f.embed_text = ""
            cond = tuple(self._cond_cols.setdefault(k, len(self._cond_cols))
                         for k in f.conditions)
            drug = tuple(self._drug_cols.setdefault(k, len(self._drug_cols))
                         for k in f.interventions)
            ages = (f.min_age_days if f.min_age_days is not None else 0.0,
                    f.max_age_days if f.max_age_days is not None else math.inf)
            at = pos.get(f.nct_id)
            if at is None:
                pos[f.nct_id] = len(known)
                known.append(f.nct_id)
                if self.keep_features:
                    self.features.append(f)
                self._terms.append(ids)
                self._counts.append(values)
                self._vectors.append(vector)
                self._cond_rows.append(cond)
                self._drug_rows.append(drug)
                self._min_age.append(ages[0])
                self._max_age.append(ages[1])
                self._sex.append(SEX_CODE.get(f.sex, 0))
                self._recruiting.append(f.status == "RECRUITING")
            else:
                if self.keep_features:
                    self.features[at] = f
                self._terms[at] = ids
                self._counts[at] = values
                self._vectors[at] = vector
                self._cond_rows[at] = cond
                self._drug_rows[at] = drug
                self._min_age[at], self._max_age[at] = ages
                self._sex[at] = SEX_CODE.get(f.sex, 0)
                self._recruiting[at] = f.status == "RECRUITING"
        self._dirty = True

    def _build(self) -> None:
        n = len(self.ids)
        lengths = np.array([len(t) for t in self._terms], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.concatenate(self._terms) if n else np.zeros(0, dtype=np.int32)
        counts = np.concatenate(self._counts) if n else np.zeros(0, dtype=np.float32)
        tf = sparse.csr_matrix((1.0 + np.log(counts), indices, indptr),
                               shape=(n, max(len(self._vocab), 1)), dtype=np.float32)
        df = np.bincount(indices, minlength=tf.shape[1]).astype(np.float32)
        cfg = rules()
        keep = (df >= cfg["min_df"]) & (df <= max(cfg["max_df"] * n, cfg["min_df"]))
        idf = np.where(keep, np.log((1.0 + n) / (1.0 + df)) + 1.0, 0.0).astype(np.float32)
        text = tf @ sparse.diags(idf)
        norms = np.sqrt(np.asarray(text.multiply(text).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        self.text = sparse.csr_matrix(sparse.diags(1.0 / norms) @ text, dtype=np.float32)
        self.text.eliminate_zeros()
        self.text_t = self.text.T.tocsr()
        self.cond = _binary(self._cond_rows, len(self._cond_cols))
        self.drug = _binary(self._drug_rows, len(self._drug_cols))
        self.cond_t, self.drug_t = self.cond.T.tocsr(), self.drug.T.tocsr()
        self.cond_n = np.asarray(self.cond.sum(axis=1)).ravel()
        self.drug_n = np.asarray(self.drug.sum(axis=1)).ravel()
        self.min_age = np.frombuffer(self._min_age, dtype=np.float64).copy()
        self.max_age = np.frombuffer(self._max_age, dtype=np.float64).copy()
        self.sex = np.frombuffer(self._sex, dtype=np.int8).copy()
        self.recruiting = np.frombuffer(self._recruiting, dtype=np.int8).astype(bool)
        self.embeddings: np.ndarray | None = None
        if self.encoder is not None and n:
            self.embeddings = np.vstack([v if v is not None else np.zeros(1)
                                         for v in self._vectors]).astype(np.float32)
        self._dirty = False

    def ready(self) -> None:
        """Build the matrices now if trials were added since the last build."""
        if self._dirty:
            self._build()

    # ------------------------------------------------------------------ scoring
    def _text(self, rows: np.ndarray) -> sparse.csr_matrix:
        """Text similarity of ``rows`` to every trial, as a sparse matrix."""
        if self.embeddings is None:
            sims = (self.text[rows] @ self.text_t).tocsr()
            sims.data[sims.data < TEXT_FLOOR] = 0.0
            sims.eliminate_zeros()
            return sims
        sims = self.embeddings[rows] @ self.embeddings.T
        m = min(EMBEDDING_CANDIDATES, sims.shape[1])
        cols = np.argpartition(-sims, m - 1, axis=1)[:, :m]
        vals = np.clip(np.take_along_axis(sims, cols, axis=1), 0.0, 1.0)
        indptr = np.arange(0, len(rows) * m + 1, m)
        return sparse.csr_matrix((vals.ravel(), cols.ravel(), indptr),
                                 shape=(len(rows), len(self.ids)), dtype=np.float32)

    def _dice(self, matrix: sparse.csr_matrix, matrix_t: sparse.csr_matrix,
              sizes: np.ndarray, rows: np.ndarray) -> sparse.csr_matrix:
        overlap = (matrix[rows] @ matrix_t).tocoo()
        denom = sizes[rows][overlap.row] + sizes[overlap.col]
        data = 2.0 * overlap.data / np.maximum(denom, 1.0)
        return sparse.csr_matrix((data, (overlap.row, overlap.col)), shape=overlap.shape,
                                 dtype=np.float32)

    def population(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """1 where trials ``a[i]`` and ``b[i]`` can take the same people, else 0."""
        lo = np.maximum(self.min_age[a], self.min_age[b])
        hi = np.minimum(self.max_age[a], self.max_age[b])
        sa, sb = self.sex[a], self.sex[b]
        return ((lo <= hi) & ((sa == 0) | (sb == 0) | (sa == sb))).astype(np.float32)

    def _components(self, rows: np.ndarray) -> dict[str, sparse.csr_matrix]:
        return {"text": self._text(rows),
                "conditions": self._dice(self.cond, self.cond_t, self.cond_n, rows),
                "interventions": self._dice(self.drug, self.drug_t, self.drug_n, rows)}

    def _combine(self, rows: np.ndarray, parts: dict[str, sparse.csr_matrix]
                 ) -> sparse.csr_matrix:
        cfg = rules()
        w = self.weights or cfg["weights"]
        base = (w["text"] * parts["text"] + w["conditions"] * parts["conditions"]
                + w["interventions"] * parts["interventions"]).tocoo()
        p = float(cfg["population"])
        pop = self.population(rows[base.row], base.col)
        boost = 1.0 + float(cfg["recruiting_boost"]) * self.recruiting[base.col]
        data = base.data * (1.0 - p + p * pop) * boost
        data[(rows[base.row] == base.col) | (data < float(cfg["min_score"]))] = 0.0
        scores = sparse.csr_matrix((data.astype(np.float32), (base.row, base.col)),
                                   shape=base.shape)
        scores.eliminate_zeros()
        return scores

    def score_block(self, rows: np.ndarray) -> sparse.csr_matrix:
        """Scores of ``rows`` against every trial (zero where nothing is shared)."""
        self.ready()
        return self._combine(rows, self._components(rows))

    def neighbors(self, nct_id: str, k: int = 5) -> list[tuple[str, ScoreParts]]:
        """The ``k`` trials most like ``nct_id``, with the parts of each score."""
        self.ready()
        at = self.pos.get(nct_id)
        if at is None or k <= 0:
            return []
        rows = np.array([at])
        parts = self._components(rows)
        scores = self._combine(rows, parts)
        top = _top_row(scores.indices, scores.data, k)
        population = self.population(np.full(len(top), at), top)
        return [(self.ids[j], ScoreParts(
            score=float(scores[0, j]), text=float(parts["text"][0, j]),
            conditions=float(parts["conditions"][0, j]),
            interventions=float(parts["interventions"][0, j]),
            population=float(population[n]))) for n, j in enumerate(top)]

    def all_neighbors(self, k: int = 5, block: int = 512,
                      rows: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (indexes, scores) for every trial (or ``rows``); -1 pads short lists."""
        self.ready()
        wanted = np.arange(len(self.ids)) if rows is None else np.asarray(rows)
        out_idx = np.full((len(wanted), k), -1, dtype=np.int64)
        out_score = np.zeros((len(wanted), k), dtype=np.float32)
        for start in range(0, len(wanted), block):
            scores = self.score_block(wanted[start:start + block])
            for r in range(scores.shape[0]):
                lo, hi = scores.indptr[r], scores.indptr[r + 1]
                cols, vals = scores.indices[lo:hi], scores.data[lo:hi]
                top = _top_row(cols, vals, k)
                out_idx[start + r, :len(top)] = top
                out_score[start + r, :len(top)] = [vals[cols == j][0] for j in top]
        return out_idx, out_score


def _top_row(cols: np.ndarray, vals: np.ndarray, k: int) -> np.ndarray:
    """Columns of the ``k`` highest positive values, best first (ties: lower column)."""
    if len(vals) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    if len(vals) > 4 * k:
        cut = np.argpartition(-vals, k - 1)[:k]
        floor = vals[cut].min()
        mask = vals >= floor
        cols, vals = cols[mask], vals[mask]
    order = np.lexsort((cols, -vals))[:k]
    keep = order[vals[order] > 0]
    return cols[keep].astype(np.int64)
