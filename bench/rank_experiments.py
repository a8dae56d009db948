"""Try orders within the ranking bands offline, on TREC-style and target-trial sets.

An `eval trec` or `eval target-trial` run spends nearly all its time on the criterion
verdicts (tens of minutes on the shared cores), while a ranking idea only reorders the
same verdicts. This script computes them once and stores each (topic, trial) pair's
verdict and relevance (`dump`), then scores orders within the bands from that file in
seconds (`score`), through the product's own band functions (`matching/rank.py`), so the
numbers follow the bands as they are when it runs.

    python bench/rank_experiments.py dump trec --topics $D/trec/trec_2021/queries.jsonl \
        --qrels $D/trec/trec_2021/qrels/test.tsv --studies $D/ctgov/studies.jsonl.gz \
        --out /tmp/trialscout-bench/rank/trec21.jsonl.gz
    python bench/rank_experiments.py dump target \
        --patients $D/patients/synthetic_patient_cases_random_30_modified.jsonl \
        --studies $D/ctgov/studies.jsonl.gz --depth 200 \
        --out /tmp/trialscout-bench/rank/target.jsonl.gz
    python bench/rank_experiments.py score /tmp/trialscout-bench/rank/*.jsonl.gz

`--depth` limits the search candidates per topic (the evaluations use 1000; the product
checks at most `check_limit`). Output files hold verdicts derived from the benchmark data:
keep them under /tmp/trialscout-bench, never in the repository. Every order printed is
scored on development sets.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from trialscout.evaluation import trec_eval
from trialscout.evaluation.search_eval import (
    build_pool_app,
    iter_studies,
    load_qrels,
    load_topics,
    measure,
)
from trialscout.matching.model import TrialMatch
from trialscout.matching.rank import band_verdict, combine, match_floor, shown

Within = Callable[[TrialMatch, float], float]


def _pairs(app: Any, queries: dict[str, str], extra: dict[str, list[str]], depth: int,
           ref: date) -> Any:
    """(topic, nct id, relevance, retrieved, raw match) for each candidate and extra."""
    from trialscout.matching.engine import parsed_lookup
    from trialscout.matching.facts import PatientFacts
    from trialscout.matching.query import relevance_query
    from trialscout.matching.rank import main_condition
    from trialscout.matching.trial import trial_verdict
    from trialscout.patients.notes import NoteError, extract_note
    from trialscout.store.trials import load_trials

    parsed = parsed_lookup(app)
    for number, (qid, text) in enumerate(queries.items(), 1):
        started = time.perf_counter()
        try:
            profile = extract_note(text, reference_date=ref)
        except NoteError:
            continue
        query = relevance_query(profile)
        relevance = dict(app.search_engine.rank(query, depth, mode="any")) \
            if query.strip() else {}
        wanted = list(dict.fromkeys([*relevance, *extra.get(qid, [])]))
        with app.engine.connect() as conn:
            trials = load_trials(conn, wanted)
        parsed.prefetch(wanted)
        facts = PatientFacts(profile, ref)
        for nct in wanted:
            trial = trials.get(nct)
            if trial is None:
                continue
            match = trial_verdict(trial, parsed(trial), facts)
            match.main_condition = main_condition(trial, facts, facts.trial_concepts)
            yield {"topic": qid, "nct": nct, "rel": relevance.get(nct, 0.0),
                   "retrieved": nct in relevance, "match": match.model_dump(mode="json")}
        print(f"{number}/{len(queries)} {qid}: {len(wanted)} trials, "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


def dump(args: argparse.Namespace) -> None:
    ref = date.fromisoformat(args.date) if args.date else date.today()
    studies = Path(args.studies)
    if args.kind == "trec":
        topics, qrels = load_topics(Path(args.topics)), load_qrels(Path(args.qrels))
        judged = {d for docs in qrels.values() for d in docs}
        pool = trec_eval._pool_ids(studies, judged, "criteria")
        labels = {q: {d: r for d, r in docs.items() if d in pool}
                  for q, docs in qrels.items() if q in topics}
        labels = {q: d for q, d in labels.items() if d}
        queries = {q: topics[q] for q in sorted(labels)}
        extra = {q: sorted(d) for q, d in labels.items()}
        head: dict[str, Any] = {"kind": "trec", "qrels": labels}
    else:
        patients = trec_eval.load_patients(Path(args.patients))
        pool = {nct for nct, _line in iter_studies(studies)}
        queries = {p: text for p, (_t, text) in patients.items()}
        extra = {p: [t] for p, (t, _text) in patients.items()}
        head = {"kind": "target", "targets": {p: t for p, (t, _x) in patients.items()}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="trialscout-rank-") as tmp:
        app = build_pool_app(studies, pool, Path(tmp))
        try:
            with gzip.open(out, "wb") as sink:
                sink.write(orjson.dumps(head) + b"\n")
                for row in _pairs(app, queries, extra, args.depth, ref):
                    sink.write(orjson.dumps(row) + b"\n")
        finally:
            app.close()


def _read(path: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    topics: dict[str, list[dict[str, Any]]] = {}
    with gzip.open(path, "rb") as source:
        head = orjson.loads(source.readline())
        for line in source:
            row = orjson.loads(line)
            row["match"] = TrialMatch.model_validate(row["match"])
            topics.setdefault(row["topic"], []).append(row)
    return head, topics


def _open_fit(prior: float) -> Within:
    """Relevance times the chance that nothing open excludes: ``prior`` per open
    criterion, one minus the confidence per unsure failure (sure failures: 1)."""
    def within(match: TrialMatch, rel: float) -> float:
        if band_verdict(match) == "not_eligible":
            return rel
        from trialscout.matching.confidence import spec

        seen = shown(match)
        value = prior ** max(0, seen.unknown - len(seen.to_confirm))
        for criterion in seen.criteria:
            if criterion.item_index in set(seen.to_confirm):
                sure = criterion.confidence
                value *= 1.0 - (spec()["note"] if sure is None else sure)
        return rel * value
    return within


def _support(base: float) -> Within:
    """Relevance times 1 - base^(met inclusions + 1): each met inclusion halves the doubt
    (base 0.5) that the trial is about this patient."""
    def within(match: TrialMatch, rel: float) -> float:
        if band_verdict(match) == "not_eligible":
            return rel
        met = sum(1 for c in match.criteria if c.section == "inclusion" and c.checkable
                  and c.verdict == "MET")
        return rel * (1.0 - base ** (met + 1))
    return within


ORDERS: dict[str, Within] = {
    "relevance (the product's order)": lambda _m, rel: rel,
    "relevance x open fit 0.85": _open_fit(0.85),
    "relevance x open fit 0.95": _open_fit(0.95),
    "relevance x unsure failures only": _open_fit(1.0),
    "relevance x support 0.5": _support(0.5),
}


def _scores(rows: list[dict[str, Any]], within: Within) -> dict[str, float]:
    best = max((r["rel"] for r in rows), default=0.0)
    return {r["nct"]: combine(within(r["match"], r["rel"] / best if best > 0 else 0.0),
                              match_floor(r["match"])) for r in rows}


def score(args: argparse.Namespace) -> None:
    import os

    print(f"load average {os.getloadavg()[0]:.2f}; all sets are development sets")
    for path in map(Path, args.files):
        head, topics = _read(path)
        print(f"\n{path.name} ({head['kind']}, {len(topics)} topics)")
        for name, within in ORDERS.items():
            scores = {q: _scores(rows, within) for q, rows in topics.items()}
            ranked = {q: {r["nct"]: scores[q][r["nct"]] for r in rows if r["retrieved"]}
                      for q, rows in topics.items()}
            if head["kind"] == "trec":
                qrels = head["qrels"]
                run = {q: dict(sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))[:1000])
                       for q, d in ranked.items()}
                metrics = measure(run, qrels, ("nDCG@10",))
                auc = trec_eval.pooled_auroc(scores, qrels)
                print(f"  {name:36} AUROC {auc or 0:.3f}  NDCG@10 {metrics['nDCG@10']:.3f}")
            else:
                ranks = [trec_eval._rank_of(target, ranked.get(p, {}))
                         for p, target in head["targets"].items()]
                mrr = sum(1 / r for r in ranks if r) / len(ranks)
                r10 = sum(1 for r in ranks if r and r <= 10) / len(ranks)
                print(f"  {name:36} MRR {mrr:.3f}  R@10 {r10:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("kind", choices=["trec", "target"])
    d.add_argument("--topics")
    d.add_argument("--qrels")
    d.add_argument("--patients")
    d.add_argument("--studies", required=True)
    d.add_argument("--depth", type=int, default=trec_eval.CANDIDATES)
    d.add_argument("--date", help="reference date (default today)")
    d.add_argument("--out", required=True)
    s = sub.add_parser("score")
    s.add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.command == "dump":
        if args.kind == "trec" and not (args.topics and args.qrels):
            parser.error("dump trec needs --topics and --qrels")
        if args.kind == "target" and not args.patients:
            parser.error("dump target needs --patients")
        dump(args)
    else:
        score(args)


if __name__ == "__main__":
    main()
