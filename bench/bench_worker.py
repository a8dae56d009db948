"""Web worker start-up benchmark: warm-up time and memory of a worker that opens an index.

Starts ``--workers`` processes at once on an existing store (each in the given source
tree), each doing what a web worker's warm-up does with the indexes (open the search
index, the similar-trials index, one search, one "related trials" lookup), and reports,
per worker, the warm-up time and its memory from ``/proc/<pid>/smaps_rollup`` while all of
them are still alive: RSS, PSS (shared pages split between the processes that map them)
and private dirty memory (what the worker alone holds: Python objects, built matrices),
each with the load average.

    python bench/bench_worker.py --db /tmp/trialscout-bench/store-100k.sqlite \\
        --index-dir /tmp/trialscout-bench/index-100k-v2 --tree now=. --workers 2

A tree is a checkout of this repository; its worker is started with
``TRIALSCOUT_SEARCH_INDEX_ROLE=open`` (a tree that predates the setting ignores it and
builds what it lacks, as workers did then).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

_CHILD = r"""
import json, os, sys, time
from trialscout.app import create_app
from trialscout.search.models import SearchRequest
app = create_app(database_url=sys.argv[1], search_index_dir=sys.argv[2], migrate=False)
started = time.perf_counter()
view = app.search_engine.view()
app.similar.index()
hits = app.search(SearchRequest(q="cancer", page_size=20)).hits
related = app.similar.similar(hits[0].nct_id, 5) if hits else None
seconds = time.perf_counter() - started
print(json.dumps({"seconds": round(seconds, 1), "trials": view.n_live,
                  "load": "%.2f/%.2f" % os.getloadavg()[:2]}), flush=True)
sys.stdin.readline()
"""


def _smaps(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        out[name.strip()] = int(value.split()[0]) // 1024
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--tree", action="append", default=[], help="name=path (repeatable)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    trees = [t.split("=", 1) for t in args.tree] or [["this", str(Path(__file__).parents[1])]]
    print(f"{'tree':<8} {'worker':>6} {'trials':>8} {'warm-up s':>9} {'RSS MB':>7} "
          f"{'PSS MB':>7} {'private dirty MB':>16}  load 1/5 min (at warm-up / at measure)")
    for name, path in trees:
        env = {**os.environ, "PYTHONPATH": str(Path(path).resolve()),
               "TRIALSCOUT_SEARCH_INDEX_ROLE": "open"}
        procs = [subprocess.Popen(
            [sys.executable, "-c", _CHILD, f"sqlite:///{args.db}", str(args.index_dir)],
            cwd=path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(args.workers)]
        try:
            results = []
            for proc in procs:
                assert proc.stdout is not None
                line = proc.stdout.readline()
                if not line:
                    print(f"{name}: a worker failed")
                    return 1
                results.append(json.loads(line))
            time.sleep(1)
            one, five, _ = os.getloadavg()
            load = f"{one:.2f}/{five:.2f}"
            for i, (proc, r) in enumerate(zip(procs, results, strict=True)):
                mem = _smaps(proc.pid)
                print(f"{name:<8} {i + 1:>6} {r['trials']:>8} {r['seconds']:>9} "
                      f"{mem['Rss']:>7} {mem['Pss']:>7} {mem['Private_Dirty']:>16}  "
                      f"{r['load']} / {load}")
        finally:
            for proc in procs:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
