"""Similar-trials benchmark: build the index over the real studies and rank every trial.

Reads ../shared/data/ctgov/studies.jsonl.gz (about 30,000 studies), then times:

1. reading and normalizing the studies;
2. feature extraction (canonical conditions and interventions, population, text);
3. index build (TF-IDF and overlap matrices) or, with ``--embeddings``, encoding;
4. top-k for every study (``all_neighbors``), total and per study;
5. single-trial queries with explanations (what a trial page does), median and p95;
6. through the app: build from the SQLite store, then a refresh after re-importing 100
   changed trials (what a running web server does after an import).

    python bench/bench_similar.py                # lexical, k=5
    python bench/bench_similar.py --embeddings   # needs the embeddings extra
    python bench/bench_similar.py --limit 2000   # a quick run

Numbers are printed, not checked: the machine's load changes them (it is printed too).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STUDIES = ROOT.parent / "shared" / "data" / "ctgov" / "studies.jsonl.gz"


def _timed(label: str, started: float, extra: str = "") -> float:
    took = time.perf_counter() - started
    print(f"{label:<38} {took:8.2f} s {extra}", flush=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--studies", type=Path, default=STUDIES)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--embeddings", action="store_true")
    parser.add_argument("--skip-app", action="store_true", help="skip the store round trip")
    args = parser.parse_args()
    if not args.studies.exists():
        sys.exit(f"no studies file at {args.studies}")

    from trialscout.evaluation.readability_eval import iter_trials
    from trialscout.similar.explain import explain
    from trialscout.similar.features import features_from_document
    from trialscout.similar.index import SimilarIndex
    from trialscout.similar.service import make_encoder

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; k={args.k}; "
          f"backend={'embeddings' if args.embeddings else 'lexical'}")
    started = time.perf_counter()
    documents = []
    for trial in iter_trials(args.studies):
        documents.append(trial.model_dump(exclude_none=True))
        if args.limit and len(documents) >= args.limit:
            break
    _timed("read + normalize", started, f"({len(documents)} studies)")

    started = time.perf_counter()
    features = [features_from_document(d) for d in documents]
    _timed("features", started)

    started = time.perf_counter()
    index = SimilarIndex(make_encoder("embeddings" if args.embeddings else "lexical"))
    index.add(features)
    index.all_neighbors(1, rows=[0])
    build = _timed("index build" + (" (with encoding)" if args.embeddings else ""), started,
                   f"(text {index.text.shape[1]} terms, {index.text.nnz} entries)")

    started = time.perf_counter()
    top, _ = index.all_neighbors(args.k)
    took = _timed(f"top-{args.k} for all studies", started)
    print(f"{'':<38} {1000 * took / len(index):8.3f} ms per study; "
          f"{(top[:, 0] >= 0).mean():.1%} have at least one similar trial")

    sample = [index.ids[i] for i in range(0, len(index), max(1, len(index) // 200))]
    times = []
    for nct_id in sample:
        started = time.perf_counter()
        query = index.features[index.pos[nct_id]]
        for other, parts in index.neighbors(nct_id, args.k):
            explain(query, index.features[index.pos[other]], parts, (42.36, -71.06))
        times.append(time.perf_counter() - started)
    times.sort()
    print(f"{'one trial + explanations':<38} median {1000 * statistics.median(times):.1f} ms, "
          f"p95 {1000 * times[int(0.95 * (len(times) - 1))]:.1f} ms ({len(times)} queries)")

    result = {"studies": len(index), "k": args.k, "build_s": round(build, 2),
              "all_top_k_s": round(took, 2)}
    if not args.skip_app and not args.embeddings:
        result |= _app_round_trip(args.studies, args.limit, args.k)
    print(json.dumps(result))


def _app_round_trip(studies: Path, limit: int | None, k: int) -> dict[str, float]:
    """Build from the store, then refresh after 100 trials change (a re-import)."""
    from trialscout.app import create_app
    from trialscout.evaluation.readability_eval import iter_trials

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(database_url=f"sqlite:///{folder}/bench.db")
        started = time.perf_counter()
        source = studies
        if limit:
            source = Path(folder) / "subset.jsonl"
            with open(source, "w") as out:
                for n, trial in enumerate(iter_trials(studies)):
                    if n >= limit:
                        break
                    out.write(json.dumps({"protocolSection": {"identificationModule": {
                        "nctId": trial.nct_id, "briefTitle": trial.title}}}) + "\n")
        app.import_paths([source])
        _timed("import into SQLite (for the app)", started)
        started = time.perf_counter()
        first = app.trial_count()
        index = app.similar.index()
        build = _timed("app: index from the store", started, f"({first} trials)")
        changed = Path(folder) / "changed.jsonl"
        with open(changed, "w") as out:
            for nct_id in index.ids[:100]:
                out.write(json.dumps({"protocolSection": {
                    "identificationModule": {"nctId": nct_id,
                                             "briefTitle": "Denosumab in osteoporosis"},
                    "statusModule": {"overallStatus": "RECRUITING",
                                     "lastUpdatePostDateStruct": {"date": "2030-01-01"}}}})
                          + "\n")
        app.import_paths([changed])
        started = time.perf_counter()
        app.similar.similar(index.ids[0], k)
        refresh = _timed("app: refresh after 100 changed + query", started)
        app.close()
    return {"app_build_s": round(build, 2), "app_refresh_s": round(refresh, 2)}


if __name__ == "__main__":
    main()
