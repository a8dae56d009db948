"""Speed of matching one patient against a registry-sized store (issue target: p95 < 1 s).

The store holds ``--n`` scaled-up studies (bench/scaleup.py varies the real records in
../shared/data), imported once into a SQLite file outside the repository and indexed for
search. Parsing the criteria of all of them would take hours on a small machine, so a new
store parses (``--prepare``, implied) only the criteria of every trial the benchmark
patients' searches can return: no criteria are parsed while a request is timed. Each timed run is
one full ``app.match``: search pre-filter (relevance, age, sex), stored parsed criteria for
the candidates, criterion verdicts, ranking. Patients are the synthetic patients and the
TREC 2021 topics from ../shared/data, read as notes. Three matches and one ``--near``
match run first, untimed: they load what a process loads once (search index, lexicons,
unit registry, and for distances the offline gazetteer, about two seconds).

    python bench/bench_matching.py --n 500000

``--db`` can point at an existing scaled-up store instead (for example one imported by
the search benchmark before criteria parsing existed); ``--prepare`` then parses and stores
the criteria of every trial the benchmark patients' searches can return, so no criteria
are parsed while a request is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared" / "data"
sys.path.insert(0, str(REPO))

from bench import scaleup  # noqa: E402
from trialscout.app import TrialScout, create_app  # noqa: E402
from trialscout.matching.engine import MatchOptions  # noqa: E402
from trialscout.patients.model import PatientProfile  # noqa: E402
from trialscout.patients.notes import extract_note  # noqa: E402

OUT = Path("/tmp/trialscout-bench")


def notes(limit: int) -> list[str]:
    out = []
    for path in (SHARED / "patients" / "synthetic_patient_cases_random_30_modified.jsonl",
                 SHARED / "trec" / "trec_2021" / "queries.jsonl"):
        if path.exists():
            out += [json.loads(line)["text"] for line in path.read_text().splitlines()
                    if line.strip()]
    return out[:limit]


def _scaled_up(n: int, seed: int) -> Path:
    """A finished scale-up file with at least ``n`` studies (its first ``n`` are the same
    as a file of ``n``: a shorter run is a prefix of a longer one), else a new one."""
    for size in (n, 200_000, 500_000, 1_000_000):
        if size >= n and scaleup.cached(scaleup.default_out(size), size, seed):
            return scaleup.default_out(size)
    data = scaleup.default_out(n)
    print(f"generating {n} scaled-up studies into {data} ...", flush=True)
    return scaleup.generate(data, n, seed)


def build(n: int, db: Path, seed: int) -> None:
    data = _scaled_up(n, seed)
    print(f"importing into {db} (search index and parsed criteria follow the import) ...",
          flush=True)
    app = create_app(database_url=f"sqlite:///{db}")
    started = time.perf_counter()
    count = [0]

    def tick() -> None:
        count[0] += 1
        if count[0] % 50_000 == 0:
            print(f"  {count[0]} studies, {time.perf_counter() - started:.0f} s", flush=True)

    report = app.store_paths([data], on_item=tick, limit=n)
    print(f"imported {report.stored} in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    app.reindex()
    print(f"search index built in {time.perf_counter() - started:.0f} s", flush=True)
    app.close()


def prepare(app: TrialScout, profiles: Sequence[PatientProfile], ref: date,
            near: str) -> None:
    """Store parsed criteria for every candidate the patients' searches return (with and
    without ``near``)."""
    from trialscout.criteria.store import parse_trials
    from trialscout.criteria.tables import TrialCriteriaRow, TrialCriterionQuestionRow
    from trialscout.matching.engine import search_candidates
    from trialscout.matching.query import relevance_query
    from trialscout.matching.rules import load_rules
    from trialscout.store.tables import Base

    engine = app.engine
    Base.metadata.create_all(engine, tables=[
        Base.metadata.tables[TrialCriteriaRow.__tablename__],
        Base.metadata.tables[TrialCriterionQuestionRow.__tablename__]])
    pool = int(load_rules("ranking")["candidates"])     # what a match can check
    wanted: set[str] = set()
    started = time.perf_counter()
    for profile in profiles:
        for options in (MatchOptions(reference_date=ref),
                        MatchOptions(reference_date=ref, near=near, radius_km=500)):
            hits = search_candidates(app, profile, relevance_query(profile), options, ref,
                                     pool)
            wanted |= {h.nct_id for h in hits}
    with engine.begin() as conn:
        parsed = parse_trials(conn, sorted(wanted))
    print(f"prepared: {len(wanted)} candidate trials, {parsed} parsed and stored now, "
          f"{time.perf_counter() - started:.0f} s", flush=True)


def _load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the cores slows every figure."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--patients", type=int, default=60)
    parser.add_argument("--near", default="Boston", help="Place for the distance runs.")
    parser.add_argument("--prepare", action="store_true",
                        help="Parse and store the criteria of the patients' candidates first.")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print("../shared/data is absent: nothing to benchmark")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    db = args.db or OUT / f"match-{args.n}.db"
    if not db.exists():
        build(args.n, db, args.seed)
        args.prepare = True
    app = create_app(database_url=f"sqlite:///{db}")
    total = app.trial_count()
    ref = date(2025, 12, 31)
    profiles = [extract_note(text, reference_date=ref) for text in notes(args.patients)]
    if args.prepare:
        prepare(app, profiles, ref, args.near)
    started = time.perf_counter()
    for profile in profiles[:3]:
        app.match(profile, MatchOptions(reference_date=ref))
    warm = time.perf_counter() - started
    started = time.perf_counter()
    app.match(profiles[0], MatchOptions(reference_date=ref, near=args.near, radius_km=500))
    print(f"load average {_load()}", flush=True)
    print(f"store: {total} studies; first 3 matches (index, lexicon and unit registry "
          f"loading: warm-up) {warm:.2f} s; first match --near (gazetteer loading) "
          f"{time.perf_counter() - started:.2f} s", flush=True)
    for label, options in (("match", MatchOptions(reference_date=ref)),
                           (f"match --near {args.near} --radius 500",
                            MatchOptions(reference_date=ref, near=args.near, radius_km=500))):
        times: list[float] = []
        candidates: list[int] = []
        for profile in profiles:
            t0 = time.perf_counter()
            response = app.match(profile, options)
            times.append(time.perf_counter() - t0)
            candidates.append(response.checked)
        print(f"{label}: {len(times)} patients, trials checked per patient "
              f"{statistics.mean(candidates):.0f}; p50 {percentile(times, 0.5):.3f} s, "
              f"p95 {percentile(times, 0.95):.3f} s, max {max(times):.3f} s "
              f"(target p95 < 1 s); load average {_load()}", flush=True)
    app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
