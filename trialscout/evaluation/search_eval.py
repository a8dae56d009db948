"""Search evaluation on TREC-style data: patient notes as queries, judged trials as the pool.

Inputs have the shapes of ../shared/data/trec and ../shared/data/ctgov:

* topics: JSON lines with ``_id`` and ``text`` (the patient note);
* qrels: TSV with a header ``query-id  corpus-id  score``, labels 0 (not relevant),
  1 (excluded) and 2 (eligible);
* studies: API v2 studies as JSON lines (optionally gzipped).

The pool is every judged trial that the studies file has. A temporary in-memory store is
built from it and TrialScout's search ranks the pool for each note (free-text mode: any
word may match, BM25F ranks); a plain BM25 (bm25s, default parameters) over the same
trials' concatenated text is the baseline. Measures come from ir-measures:
nDCG@10 with graded gains (0/1/2), and P@10, MRR (RR) and Recall@100 with relevance = label
>= 1, because a search engine's job is to find the trials on the patient's topic; whether
the patient is then excluded is the matcher's job (the matching evaluation reports
eligible-only figures).

The loaders and :func:`measure` are shared with the trial-level matching evaluation.
"""

from __future__ import annotations

import csv
import gzip
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from trialscout.evaluation.sets import SetRoles, roles_for

Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]

MEASURES = ("nDCG@10", "P@10", "RR", "R@100")
MEASURE_LABELS = {"nDCG@10": "NDCG@10", "P@10": "P@10", "RR": "MRR", "R@100": "Recall@100"}
RUN_DEPTH = 1000


class EvaluationInputError(ValueError):
    """An input file is missing or not in the expected shape."""


def load_topics(path: Path) -> dict[str, str]:
    """``_id`` -> ``text`` from a queries JSON lines file."""
    topics: dict[str, str] = {}
    try:
        with _open(path) as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                row = orjson.loads(line)
                if not isinstance(row, dict) or "_id" not in row or "text" not in row:
                    raise EvaluationInputError(f"{path}:{number}: expected _id and text")
                topics[str(row["_id"])] = str(row["text"])
    except (OSError, orjson.JSONDecodeError) as exc:
        raise EvaluationInputError(f"cannot read topics {path}: {exc}") from exc
    return topics


def load_qrels(path: Path) -> Qrels:
    """query -> trial -> label from a TSV with header ``query-id corpus-id score``."""
    qrels: Qrels = {}
    try:
        with _open(path) as handle:
            reader = csv.reader(handle, delimiter="\t")
            header = next(reader, None)
            if header is None or [h.strip() for h in header[:3]] != ["query-id", "corpus-id",
                                                                      "score"]:
                raise EvaluationInputError(f"{path}: expected a header query-id, corpus-id, "
                                           "score")
            for number, row in enumerate(reader, 2):
                if not row or not "".join(row).strip():
                    continue
                if len(row) < 3:
                    raise EvaluationInputError(f"{path}:{number}: expected three columns")
                qrels.setdefault(row[0].strip(), {})[row[1].strip()] = int(row[2])
    except OSError as exc:
        raise EvaluationInputError(f"cannot read qrels {path}: {exc}") from exc
    except ValueError as exc:
        if isinstance(exc, EvaluationInputError):
            raise
        raise EvaluationInputError(f"{path}: a label is not an integer: {exc}") from exc
    return qrels


def iter_studies(path: Path, wanted: set[str] | None = None) -> Iterator[tuple[str, bytes]]:
    """(nct_id, raw JSON line) of the studies in ``path`` (only ``wanted`` ones if given)."""
    try:
        with _open_binary(path) as handle:
            for line in handle:
                if not line.strip():
                    continue
                study = orjson.loads(line)
                nct_id = (study.get("protocolSection", {}).get("identificationModule", {})
                          .get("nctId"))
                if nct_id and (wanted is None or nct_id in wanted):
                    yield nct_id, line.strip()
    except (OSError, orjson.JSONDecodeError) as exc:
        raise EvaluationInputError(f"cannot read studies {path}: {exc}") from exc


def measure(run: Run, qrels: Qrels, measures: Iterable[str] = MEASURES
            ) -> dict[str, float]:
    """Mean of each ir-measures measure over the topics that have judgments."""
    import ir_measures

    parsed = [ir_measures.parse_measure(m) for m in measures]
    judged = {q: d for q, d in qrels.items() if q in run or d}
    results = ir_measures.calc_aggregate(parsed, judged, run)
    return {name: float(results[m]) for name, m in zip(measures, parsed, strict=True)}


def per_topic(run: Run, qrels: Qrels, measure_name: str) -> dict[str, float]:
    import ir_measures

    parsed = ir_measures.parse_measure(measure_name)
    return {m.query_id: float(m.value) for m in ir_measures.iter_calc([parsed], qrels, run)}


@dataclass
class SystemResult:
    name: str
    metrics: dict[str, float]
    seconds: float


@dataclass
class SearchEvaluation:
    topics: int
    pool: int
    judged_pairs: int
    systems: list[SystemResult] = field(default_factory=list)
    relevance: str = "nDCG@10 graded (0/1/2); P@10, MRR, Recall@100 with label >= 1"
    sets: SetRoles = field(default_factory=SetRoles)

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark_sets": self.sets.as_dict(),
            "topics": self.topics, "pool": self.pool, "judged_pairs": self.judged_pairs,
            "relevance": self.relevance,
            "systems": [{"name": s.name, "seconds": round(s.seconds, 2),
                         **{MEASURE_LABELS.get(k, k): round(v, 4)
                            for k, v in s.metrics.items()}} for s in self.systems],
        }


def _open(path: Path) -> Any:
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8", newline="")


def _open_binary(path: Path) -> Any:
    path = Path(path)
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def baseline_text(document: Mapping[str, Any]) -> str:
    """All searchable text of a stored trial document, for the plain BM25 baseline."""
    parts: list[str] = [document.get("brief_title") or "", document.get("official_title") or ""]
    parts += list(document.get("conditions") or []) + list(document.get("keywords") or [])
    parts += [i.get("name") or "" for i in document.get("interventions") or []]
    parts += [document.get("brief_summary") or "", document.get("detailed_description") or ""]
    parts.append((document.get("eligibility") or {}).get("criteria") or "")
    return "\n".join(p for p in parts if p)


def bm25_baseline(doc_ids: list[str], texts: list[str], queries: Mapping[str, str],
                  depth: int = RUN_DEPTH) -> Run:
    """bm25s with its default tokenizer and parameters."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    k = min(depth, len(doc_ids))
    run: Run = {}
    for qid, text in queries.items():
        tokens = bm25s.tokenize([text], show_progress=False)
        if not tokens.vocab:
            run[qid] = {}
            continue
        results, scores = retriever.retrieve(tokens, k=k, show_progress=False)
        run[qid] = {doc_ids[int(i)]: float(s) for i, s in zip(results[0], scores[0],
                                                              strict=True) if s > 0}
    return run


def build_pool_app(studies: Path, pool: set[str], work_dir: Path) -> Any:
    """An app on a temporary SQLite file holding the pool's studies."""
    from trialscout.app import create_app

    pool_file = work_dir / "pool.jsonl"
    with open(pool_file, "wb") as out:
        for _, line in iter_studies(studies, pool):
            out.write(line + b"\n")
    app = create_app(database_url=f"sqlite:///{work_dir / 'pool.db'}",
                     search_index_dir="none")
    app.import_paths([pool_file])
    return app


def evaluate_search(topics_path: Path, qrels_path: Path, studies_path: Path,
                    progress: Callable[[str], None] | None = None) -> SearchEvaluation:
    """Ours versus the BM25 baseline on the judged trials that have text."""
    topics = load_topics(topics_path)
    qrels = load_qrels(qrels_path)
    judged_trials = {d for docs in qrels.values() for d in docs}
    say = progress or (lambda _msg: None)
    with tempfile.TemporaryDirectory(prefix="trialscout-eval-") as tmp:
        say("building the pool store")
        app = build_pool_app(studies_path, judged_trials, Path(tmp))
        try:
            pool = set(app.search_engine.view().doc_by_nct)
            if not pool:
                raise EvaluationInputError("no judged trial is in the studies file")
            pool_qrels = {q: {d: r for d, r in docs.items() if d in pool}
                          for q, docs in qrels.items()}
            pool_qrels = {q: docs for q, docs in pool_qrels.items() if docs and q in topics}
            queries = {q: topics[q] for q in sorted(pool_qrels)}
            say(f"searching {len(queries)} topics over {len(pool)} trials")
            started = time.perf_counter()
            ours: Run = {}
            for qid, text in queries.items():
                ours[qid] = dict(app.search_engine.rank(text, RUN_DEPTH, mode="any"))
            ours_seconds = time.perf_counter() - started
            view = app.search_engine.view()
            ids = sorted(pool)
            with app.connect() as conn:
                from trialscout.search import store

                documents = store.documents(conn, ids)
            del view
            texts = [baseline_text(orjson.loads(documents[i])) for i in ids]
        finally:
            app.close()
    say("running the BM25 baseline")
    started = time.perf_counter()
    baseline = bm25_baseline(ids, texts, queries)
    baseline_seconds = time.perf_counter() - started
    result = SearchEvaluation(topics=len(queries), pool=len(pool),
                              judged_pairs=sum(len(d) for d in pool_qrels.values()),
                              sets=roles_for([topics_path, qrels_path, studies_path]))
    result.systems.append(SystemResult("trialscout search", measure(ours, pool_qrels),
                                       ours_seconds))
    result.systems.append(SystemResult("BM25 baseline (bm25s defaults)",
                                       measure(baseline, pool_qrels), baseline_seconds))
    return result
