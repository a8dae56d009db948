"""Index build benchmark: time and peak memory of a full search-index build, per code tree.

Builds the search index of an existing SQLite store (make one with bench/scaleup.py and
``trialscout import``; stores live under /tmp/trialscout-bench, never in the repository)
once per requested source tree, each in a fresh process so its peak RSS
(``ru_maxrss``) is its own, and prints the build time, the peak RSS, the RSS before the
build (imports and the store connection) and the saved index size, each with the load
average at that moment: on the shared 2-core machine the load says how far to trust a
time. Afterwards it checks that every build saved the same index (array by array), so a
memory saving cannot hide a relevance change.

    python bench/bench_index.py --db /tmp/trialscout-bench/store-100k.sqlite \\
        --tree before=/tmp/h17-before --tree after=.

A tree is a checkout of this repository (``git archive <commit> | tar -x -C DIR``); the
child process imports ``trialscout`` from it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = Path("/tmp/trialscout-bench/index-bench")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(db: Path, out: Path) -> None:
    """Runs inside the tree under test: one full build, saved to ``out``."""
    import trialscout
    from trialscout.app import create_app

    shutil.rmtree(out, ignore_errors=True)
    app = create_app(database_url=f"sqlite:///{db}", search_index_dir=str(out), migrate=False)
    with app.engine.connect() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM trials").scalar()
    before_mb, load_before = _rss_mb(), _load()
    started = time.perf_counter()
    n = app.reindex()
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(json.dumps({"trials": n, "seconds": round(seconds, 1),
                      "rss_before_mb": round(before_mb), "peak_rss_mb": round(_rss_mb()),
                      "index_mb": round(size / 2**20), "load_before": load_before,
                      "load_after": _load(), "code": trialscout.__file__}))


def _same_index(a: Path, b: Path) -> tuple[bool, str]:
    """Runs inside a tree under test (its reader can read both snapshots' format)."""
    import numpy as np

    from trialscout.search import persist

    la, lb = persist.load(a), persist.load(b)
    if la is None or lb is None:
        return False, "a snapshot is missing"
    sa, sb = la[1], lb[1]
    for name in ("t_ptr", "t_doc", "t_tf", "p_ptr", "p_pos", "dl", "nct_num", "surface_term"):
        x, y = getattr(sa, name), getattr(sb, name)
        if x.dtype != y.dtype or not np.array_equal(x, y):
            return False, f"{name} differs"
    for k in sa.scalars:
        if not np.array_equal(sa.scalars[k], sb.scalars[k],
                              equal_nan=sa.scalars[k].dtype.kind == "f"):
            return False, f"scalar {k} differs"
    for k in sa.sites:
        if not np.array_equal(sa.sites[k], sb.sites[k], equal_nan=sa.sites[k].dtype.kind == "f"):
            return False, f"site column {k} differs"
    if sa.terms.keys != sb.terms.keys or sa.nct_ids != sb.nct_ids:
        return False, "word lists differ"
    return True, "identical"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--tree", action="append", default=[],
                        help="name=path of a source tree (repeatable); default: this one")
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--compare", type=Path, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_out is not None:
        child(args.db, args.child_out)
        return 0
    if args.compare:
        same, why = _same_index(*args.compare)
        print(json.dumps({"same": same, "why": why}))
        return 0
    if not args.db.is_file():
        parser.error(f"no such store: {args.db}")
    trees = [t.split("=", 1) for t in args.tree] or [["this", str(REPO)]]
    results = {}
    print(f"store {args.db} ({args.db.stat().st_size / 2**30:.2f} GB)")
    print(f"{'tree':<10} {'trials':>8} {'build s':>8} {'peak RSS MB':>12} "
          f"{'RSS before MB':>14} {'index MB':>9}  load 1/5 min (before / after)")
    for name, path in trees:
        out = OUT / name
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--db", str(args.db),
             "--child-out", str(out)], cwd=path, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": str(Path(path).resolve())}, check=False)
        if proc.returncode != 0:
            print(f"{name}: failed\n{proc.stderr[-2000:]}")
            return 1
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results[name] = out
        print(f"# {name}: trialscout from {r['code']}")
        print(f"{name:<10} {r['trials']:>8} {r['seconds']:>8} {r['peak_rss_mb']:>12} "
              f"{r['rss_before_mb']:>14} {r['index_mb']:>9}  {r['load_before']} / "
              f"{r['load_after']}")
    names = list(results)
    for other in names[1:]:
        path = dict(trees)[other]
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--db", str(args.db), "--compare",
             str(results[names[0]]), str(results[other])], cwd=path, capture_output=True,
            text=True, env={**os.environ, "PYTHONPATH": str(Path(path).resolve())},
            check=False)
        verdict = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 \
            else {"same": False, "why": proc.stderr[-500:]}
        print(f"index of {other} vs {names[0]}: {verdict['why']}")
        if not verdict["same"]:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
