"""Search benchmarks: index build time and query latency, plus the engine comparison.

Two commands (data is read from ../shared/data and never copied into the repository):

    # latency: 1,000 queries with and without filters, at 30k real and 500k scaled studies
    python bench/bench_search.py latency --n real
    python bench/bench_search.py latency --n 500000
    # an existing store and its published index, opened read-only
    python bench/bench_search.py latency --db /tmp/trialscout-bench/store-200k.db \
        --index-dir /tmp/trialscout-bench/index-200k --queries 1000

    # engine comparison: SQLite FTS5, tantivy and our BM25F index, on the 30k real studies
    # (build time, text-only query latency) and on TREC 2021 and SIGIR (NDCG@10, P@10, ...)
    python bench/bench_search.py compare

``latency`` imports the studies into a SQLite store under /tmp/trialscout-bench (reused
while it holds the same number of trials), rebuilds the search index from the store
(timed), then runs the query mix through ``TrialScout.search`` exactly as the web app does
(page of 20 hits with facets), after freezing the loaded objects out of the garbage
collector's full passes as a web worker does after warm-up. The 500k studies come from
bench/scaleup.py. Targets at 500k: filtered full-text queries at p50 < 20 ms and p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import scaleup  # noqa: E402
from trialscout.app import TrialScout, create_app  # noqa: E402
from trialscout.search.models import SearchRequest  # noqa: E402

DATA = REPO / ".." / "shared" / "data"
STUDIES = DATA / "ctgov" / "studies.jsonl.gz"
WORK = scaleup.OUT_DIR
TARGET_P50_MS = 20.0
TARGET_P95_MS = 100.0


# --- query mix ------------------------------------------------------------------------------

def _vocabulary(app: TrialScout) -> tuple[list[str], list[str], list[str]]:
    """Real condition and intervention names and common words, from the index itself."""
    view = app.search_engine.view()
    conditions = sorted({view.dicts["condition"].label(int(v))
                         for v in set(view.multi["condition"][1].tolist())})
    interventions = sorted({view.dicts["intervention"].label(int(v))
                            for v in set(view.multi["intervention"][1].tolist())})
    counts = view.main.t_ptr[1:] - view.main.t_ptr[:-1]
    order = sorted(range(len(counts)), key=lambda t: -int(counts[t]))[:3000]
    common = [view.main.terms.key(t) for t in order
              if view.main.terms.key(t).isalpha() and len(view.main.terms.key(t)) > 3]
    return conditions, interventions, common[200:2200]


def query_mix(app: TrialScout, n: int = 1000, seed: int = 7) -> list[SearchRequest]:
    """Half free-standing text queries, half with filters; a deterministic mix."""
    rng = random.Random(seed)
    conditions, interventions, common = _vocabulary(app)
    short = [c for c in conditions if 3 <= len(c) <= 40] or ["cancer"]
    drugs = [i for i in interventions if 3 <= len(i) <= 30] or ["placebo"]
    words = common or ["study"]
    places = ["Boston, MA", "Chicago", "London, UK", "Paris, France", "Texas", "Toronto",
              "Germany", "40.71,-74.01"]
    requests = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.35:
            q = rng.choice(short)
        elif kind < 0.5:
            q = f"{rng.choice(short)} {rng.choice(drugs)}"
        elif kind < 0.6:
            q = f'"{rng.choice(short)}"'
        elif kind < 0.7:
            q = f"{rng.choice(words)[:5]}*"
        elif kind < 0.8:
            q = f"{rng.choice(words)} OR {rng.choice(words)}"
        elif kind < 0.88:
            q = f"{rng.choice(short)} -{rng.choice(words)}"
        elif kind < 0.95:
            q = " ".join(rng.choice(words) for _ in range(rng.randint(2, 4)))
        else:
            q = ""
        fields: dict[str, Any] = {"q": q}
        if i % 2 == 1:
            choice = rng.random()
            fields["status"] = ["RECRUITING"] if choice < 0.6 else []
            if rng.random() < 0.4:
                fields["age"] = rng.choice([8, 25, 45, 62, 78])
            if rng.random() < 0.3:
                fields["sex"] = rng.choice(["FEMALE", "MALE"])
            if rng.random() < 0.25:
                fields["phase"] = [rng.choice(["PHASE2", "PHASE3"])]
            if rng.random() < 0.25:
                fields["near"] = rng.choice(places)
                fields["radius"] = rng.choice([50, 200, 1000])
                if rng.random() < 0.5:
                    fields["sort"] = "distance"
            elif rng.random() < 0.15:
                fields["country"] = rng.choice(["United States", "France", "China"])
            if not any(k in fields for k in ("age", "sex", "phase", "near", "country")) \
                    and not fields["status"]:
                fields["study_type"] = ["INTERVENTIONAL"]
        requests.append(SearchRequest(**fields))
    return requests


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def _summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": round(_pct(ms, 50), 2), "p95_ms": round(_pct(ms, 95), 2),
            "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
            "max_ms": round(max(ms), 2) if ms else float("nan")}


def run_latency(app: TrialScout, requests: list[SearchRequest], clock: Callable[[], float]
                ) -> dict[str, Any]:
    """Per-query latency by group; ``clock`` is wall time, or process CPU time (which a
    busy machine does not inflate)."""
    from trialscout.search.places import gazetteer

    gazetteer()
    for r in requests[:20]:
        app.search(r)
    # as a web worker does after warm-up: the loaded index is kept out of the collector's
    # full passes (see trialscout.web.factory._freeze_loaded_objects)
    gc.collect()
    gc.freeze()
    groups: dict[str, list[float]] = {"all": [], "text only": [], "filtered full-text": [],
                                      "filters only": []}
    errors = 0
    totals = []
    for r in requests:
        started = clock()
        try:
            response = app.search(r)
            totals.append(response.total)
        except Exception:  # noqa: BLE001 - counted and reported
            errors += 1
            continue
        ms = (clock() - started) * 1000
        filtered = any(getattr(r, k) for k in ("status", "age", "sex", "phase", "near",
                                               "country", "study_type"))
        groups["all"].append(ms)
        if r.q and not filtered:
            groups["text only"].append(ms)
        elif r.q and filtered:
            groups["filtered full-text"].append(ms)
        elif filtered:
            groups["filters only"].append(ms)
    return {"errors": errors, "median_total": statistics.median(totals) if totals else 0,
            **{k: _summary(v) for k, v in groups.items()}}


# --- stores ---------------------------------------------------------------------------------

def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("select count(*) from trials").fetchone()[0])
    except sqlite3.Error:
        return -1


def store_for(source: Path, expected: int, name: str) -> tuple[TrialScout, float | None]:
    """A SQLite store holding ``source`` (imported once, reused afterwards)."""
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"search-{name}.db"
    seconds = None
    if _count(db) < expected:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        app = create_app(database_url=f"sqlite:///{db}", search_index_dir="none")
        started = time.perf_counter()
        print(f"importing {source} into {db} (records only: search needs no parsed "
              "criteria) ...", flush=True)
        app.store_paths([source])
        seconds = time.perf_counter() - started
        app.close()
    return create_app(database_url=f"sqlite:///{db}",
                      search_index_dir=str(WORK / f"search-{name}.index")), seconds


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latency_command(args: argparse.Namespace) -> dict[str, Any]:
    import_seconds: float | None = None
    if args.db is not None:
        # an existing store as it is, its published index opened as a web worker does
        app = create_app(database_url=f"sqlite:///{args.db}", migrate=False,
                         search_index_dir=str(args.index_dir or f"{args.db}.search"),
                         search_index_role="open")
        name, args.reuse_index = args.db.name, True
    else:
        if args.n == "real":
            source, expected, name = STUDIES, 30_000, "real"
        else:
            n = int(args.n)
            source = scaleup.default_out(n)
            scaleup.generate(source, n, 0)
            expected, name = n, f"scaleup-{n}"
        app, import_seconds = store_for(source, expected, name)
    trials = app.trial_count()
    started, cpu = time.perf_counter(), time.process_time()
    indexed = app.search_engine.view().n_live if args.reuse_index else app.reindex()
    build_seconds = time.perf_counter() - started
    build_cpu = time.process_time() - cpu
    view = app.search_engine.view()
    requests = query_mix(app, args.queries)
    results = run_latency(app, requests, time.perf_counter)
    cpu_results = run_latency(app, requests, time.process_time)
    facets_off = run_latency(app, [r.model_copy(update={"facets": False}) for r in requests],
                             time.perf_counter)
    report = {
        "store": name, "trials": trials, "indexed": indexed,
        "import_seconds": None if import_seconds is None else round(import_seconds, 1),
        "index_build_seconds": round(build_seconds, 1),
        "index_build_cpu_seconds": round(build_cpu, 1),
        "load_average": os.getloadavg()[0],
        "index_terms": len(view.main.terms), "postings": len(view.main.t_doc),
        "positions": len(view.main.p_pos), "peak_rss_mb": round(peak_rss_mb()),
        "with_facets": results, "with_facets_cpu_time": cpu_results,
        "without_facets": facets_off,
        "target": {"filtered full-text p50_ms": TARGET_P50_MS,
                   "filtered full-text p95_ms": TARGET_P95_MS},
    }
    app.close()
    return report


def print_latency(report: dict[str, Any]) -> None:
    print(f"\n{report['store']}: {report['trials']} trials; index build "
          f"{report['index_build_seconds']} s wall, {report['index_build_cpu_seconds']} s CPU "
          f"(load average {report['load_average']:.1f}; {report['index_terms']} terms, "
          f"{report['postings']} postings, {report['positions']} positions)); "
          f"peak RSS {report['peak_rss_mb']} MB")
    for label in ("with_facets", "with_facets_cpu_time", "without_facets"):
        print(f"  {label.replace('_', ' ')}  (errors: {report[label]['errors']})")
        print(f"    {'queries':22} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'mean':>8} {'max':>8}")
        for group in ("all", "text only", "filtered full-text", "filters only"):
            s = report[label][group]
            print(f"    {group:22} {s['n']:>5} {s['p50_ms']:>8} {s['p95_ms']:>8} "
                  f"{s['mean_ms']:>8} {s['max_ms']:>8}")
    for label in ("with_facets", "with_facets_cpu_time"):
        f = report[label]["filtered full-text"]
        ok = f["p50_ms"] < TARGET_P50_MS and f["p95_ms"] < TARGET_P95_MS
        print(f"  target ({label.replace('_', ' ')}, filtered full-text) p50 < {TARGET_P50_MS}"
              f" ms and p95 < {TARGET_P95_MS} ms: {'met' if ok else 'NOT met'}")


# --- engine comparison ----------------------------------------------------------------------

def _field_texts(document: dict[str, Any]) -> dict[str, str]:
    from trialscout.search.documents import search_doc

    doc = search_doc(document)
    out: dict[str, list[str]] = {}
    for name, text in doc.chunks:
        out.setdefault(name, []).append(text)
    return {k: "\n".join(v) for k, v in out.items()}


class OurEngine:
    name = "own BM25F (numpy)"

    def build(self, documents: list[dict[str, Any]]) -> None:
        import numpy as np

        from trialscout.search.analysis import Analyzer
        from trialscout.search.documents import search_doc
        from trialscout.search.plan import Compiler, Executor
        from trialscout.search.query import parse
        from trialscout.search.rules import search_rules
        from trialscout.search.segment import build_segment
        from trialscout.search.synonyms import default_synonyms
        from trialscout.search.view import IndexView

        rules = search_rules()
        analyzer = Analyzer()
        docs = sorted((search_doc(d) for d in documents), key=lambda d: d.nct_id)
        segment = build_segment(docs, analyzer, rules)
        self.view = IndexView(segment, None, np.ones(segment.n, bool), 0, "", rules)
        self.compiler = Compiler(analyzer, default_synonyms(), rules.stopwords, rules.query)
        self._parse = parse
        self._executor = Executor
        self.rules = rules

    def query(self, text: str, k: int, free_text: bool) -> list[tuple[str, float]]:
        import numpy as np

        parsed = self._parse(text, self.rules.query, "any" if free_text else "all")
        docs, scores = self._executor(self.view, None, 200).run(self.compiler.compile(parsed))
        order = np.lexsort((self.view.nct_num[docs], -scores))[:k]
        return [(self.view.nct_id(int(docs[i])), float(scores[i])) for i in order]


class Fts5Engine:
    """SQLite FTS5 over the same analyzed (folded, stemmed) text, bm25() with field weights."""

    name = "SQLite FTS5"

    def build(self, documents: list[dict[str, Any]]) -> None:
        from trialscout.search.analysis import Analyzer
        from trialscout.search.rules import search_rules

        self.analyzer = Analyzer()
        self.fields = list(search_rules().field_weights)
        self.weights = [search_rules().field_weights[f] for f in self.fields]
        self.conn = sqlite3.connect(":memory:")
        cols = ", ".join(self.fields)
        self.conn.execute(f"create virtual table docs using fts5(nct_id UNINDEXED, {cols}, "
                          "tokenize='unicode61')")
        rows = []
        for d in documents:
            texts = _field_texts(d)
            rows.append([d["nct_id"]] + [" ".join(self.analyzer.terms(texts.get(f, "")))
                                         for f in self.fields])
        marks = ", ".join("?" for _ in range(len(self.fields) + 1))
        self.conn.executemany(f"insert into docs values ({marks})", rows)
        self.conn.commit()

    def query(self, text: str, k: int, free_text: bool) -> list[tuple[str, float]]:
        from trialscout.search.rules import search_rules

        stop = search_rules().stopwords
        terms = [t for t, w in zip(self.analyzer.terms(text), _words(text), strict=False)
                 if w not in stop] or self.analyzer.terms(text)
        terms = list(dict.fromkeys(terms))
        if not terms:
            return []
        match = (" OR " if free_text else " AND ").join(f'"{t}"' for t in terms)
        weights = ", ".join(str(w) for w in [0.0, *self.weights])
        sql = (f"select nct_id, bm25(docs, {weights}) as s from docs where docs match ? "
               f"order by s limit {k}")
        return [(nct, -float(s)) for nct, s in self.conn.execute(sql, (match,))]


def _words(text: str) -> list[str]:
    from trialscout.search.analysis import words

    return words(text)


class TantivyEngine:
    """tantivy with its English stemming tokenizer and per-field boosts."""

    name = "tantivy"

    def build(self, documents: list[dict[str, Any]]) -> None:
        import tantivy

        from trialscout.search.rules import search_rules

        self.weights = search_rules().field_weights
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("nct_id", stored=True, tokenizer_name="raw")
        for f in self.weights:
            builder.add_text_field(f, stored=False, tokenizer_name="en_stem")
        schema = builder.build()
        self.tmp = tempfile.TemporaryDirectory(prefix="tantivy-")
        self.index = tantivy.Index(schema, path=self.tmp.name)
        writer = self.index.writer(heap_size=512_000_000, num_threads=2)
        for d in documents:
            texts = _field_texts(d)
            writer.add_document(tantivy.Document(nct_id=d["nct_id"], **{
                f: texts.get(f, "") for f in self.weights}))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def query(self, text: str, k: int, free_text: bool) -> list[tuple[str, float]]:
        from trialscout.search.rules import search_rules

        stop = search_rules().stopwords
        words = [w for w in dict.fromkeys(_words(text)) if w not in stop] or _words(text)
        if not words:
            return []
        joiner = " OR " if free_text else " AND "
        query_text = joiner.join(words)
        query = self.index.parse_query(query_text, list(self.weights),
                                       field_boosts={f: float(w)
                                                     for f, w in self.weights.items()})
        hits = self.searcher.search(query, k).hits
        return [(self.searcher.doc(addr)["nct_id"][0], float(score)) for score, addr in hits]


ENGINES: dict[str, Callable[[], Any]] = {"own": OurEngine, "fts5": Fts5Engine,
                                          "tantivy": TantivyEngine}


def _documents(path: Path, wanted: set[str] | None = None) -> list[dict[str, Any]]:
    from trialscout.registry.api_v2 import trial_from_api_v2
    from trialscout.registry.errors import RecordError

    out = []
    with gzip.open(path, "rb") as handle:
        for line in handle:
            study = orjson.loads(line)
            nct = study["protocolSection"]["identificationModule"]["nctId"]
            if wanted is not None and nct not in wanted:
                continue
            try:
                trial = trial_from_api_v2(study)
            except RecordError:
                continue
            out.append(orjson.loads(trial.model_dump_json(exclude_none=True)))
    return out


def _short_queries(documents: list[dict[str, Any]], n: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    conditions = sorted({c for d in documents for c in d.get("conditions") or []
                         if 3 <= len(c) <= 40})
    titles = [d.get("brief_title") or "" for d in documents]
    out = []
    for _ in range(n):
        if rng.random() < 0.6 and conditions:
            out.append(rng.choice(conditions))
        else:
            words = [w for w in _words(rng.choice(titles)) if len(w) > 3]
            out.append(" ".join(rng.sample(words, min(2, len(words)))) or "study")
    return out


def compare_command(args: argparse.Namespace) -> dict[str, Any]:
    from trialscout.evaluation.search_eval import load_qrels, load_topics, measure

    report: dict[str, Any] = {"corpus": {}, "trec": {}}
    names = []
    for name in args.engines.split(","):
        module = {"tantivy": "tantivy"}.get(name)
        try:
            if module:
                __import__(module)
        except ImportError:
            print(f"skipping {name}: `pip install {module}` to compare it", file=sys.stderr)
            continue
        names.append(name)
    documents = _documents(STUDIES)
    queries = _short_queries(documents, args.queries)
    for name in names:
        engine = ENGINES[name]()
        started = time.perf_counter()
        engine.build(documents)
        build = time.perf_counter() - started
        for q in queries[:20]:
            engine.query(q, 10, False)
        ms = []
        for q in queries:
            t0 = time.perf_counter()
            engine.query(q, 10, False)
            ms.append((time.perf_counter() - t0) * 1000)
        report["corpus"][engine.name] = {"docs": len(documents), "build_seconds": round(build, 1),
                                         **_summary(ms)}
        print(engine.name, report["corpus"][engine.name], flush=True)
        del engine
    for dataset in ("trec_2021", "sigir"):
        topics = load_topics(DATA / "trec" / dataset / "queries.jsonl")
        qrels = load_qrels(DATA / "trec" / dataset / "qrels" / "test.tsv")
        judged = {d for docs in qrels.values() for d in docs}
        pool_docs = [d for d in documents if d["nct_id"] in judged]
        pool = {d["nct_id"] for d in pool_docs}
        pool_qrels = {q: {d: r for d, r in docs.items() if d in pool}
                      for q, docs in qrels.items()}
        pool_qrels = {q: d for q, d in pool_qrels.items() if d and q in topics}
        report["trec"][dataset] = {}
        for name in names:
            engine = ENGINES[name]()
            engine.build(pool_docs)
            t0 = time.perf_counter()
            run = {q: dict(engine.query(topics[q], 1000, True)) for q in pool_qrels}
            seconds = time.perf_counter() - t0
            metrics = {k: round(v, 4) for k, v in measure(run, pool_qrels).items()}
            report["trec"][dataset][engine.name] = {**metrics, "seconds": round(seconds, 1)}
            print(dataset, engine.name, report["trec"][dataset][engine.name], flush=True)
            del engine
    return report


def print_compare(report: dict[str, Any]) -> None:
    print("\nengine comparison, 30k real studies (text-only top-10 queries):")
    print(f"  {'engine':22} {'build s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, s in report["corpus"].items():
        print(f"  {name:22} {s['build_seconds']:>8} {s['p50_ms']:>8} {s['p95_ms']:>8}")
    for dataset, rows in report["trec"].items():
        print(f"\n{dataset} (patient notes as OR queries over the judged pool):")
        print(f"  {'engine':22} {'nDCG@10':>8} {'P@10':>8} {'MRR':>8} {'R@100':>8}")
        for name, m in rows.items():
            print(f"  {name:22} {m['nDCG@10']:>8} {m['P@10']:>8} {m['RR']:>8} "
                  f"{m['R@100']:>8}")


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lat = sub.add_parser("latency", help="index build time and query latency")
    lat.add_argument("--n", default="real", help="'real' (30k) or a scale-up size")
    lat.add_argument("--queries", type=int, default=1000)
    lat.add_argument("--reuse-index", action="store_true",
                     help="open the saved index instead of rebuilding it (build time is then "
                     "the snapshot load time)")
    lat.add_argument("--db", type=Path, default=None, help="an existing SQLite store, read "
                     "as it is (no import, no build): its published index is opened")
    lat.add_argument("--index-dir", type=Path, default=None,
                     help="with --db: the published index (default <db>.search)")
    lat.add_argument("--json", type=Path, default=None, help="also write the report here")
    cmp_ = sub.add_parser("compare", help="SQLite FTS5 vs tantivy vs own index")
    cmp_.add_argument("--engines", default="own,fts5,tantivy")
    cmp_.add_argument("--queries", type=int, default=1000)
    cmp_.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not STUDIES.is_file():
        print(f"skipped: {STUDIES} is not present", file=sys.stderr)
        return 0
    os.environ.setdefault("TRIALSCOUT_LOG_LEVEL", "WARNING")
    if args.command == "latency":
        report = latency_command(args)
        print_latency(report)
    else:
        report = compare_command(args)
        print_compare(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
