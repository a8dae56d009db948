"""Import benchmark: studies per second, peak memory and database size.

Runs, each in a fresh child process so its peak RSS is its own:

1. ../shared/data/ctgov/studies.jsonl.gz (30k real studies) into SQLite;
2. the same into PostgreSQL, in a schema of its own that is dropped afterwards;
3. the 500k scale-up (bench/scaleup.py, generated once and cached outside the repository)
   into SQLite, with the database size,

each with the bare importer ("base": no write hooks) and with everything ``trialscout
import`` does ("full"): the app's write hooks inside every batch (search change marks,
forgetting stale criteria parses), then the criteria parsing step that follows the store
phase, on ``criteria_workers`` processes. The store phase and the parse phase are timed
apart. It then extrapolates to a registry-sized import (about 560,000 studies) and checks
the targets: under 10 minutes, at least 1,000 studies/s, peak RSS under 500 MB (the
writer plus the reader process that reads and normalizes the records while the writer
stores them, their two peaks added; parse workers are reported on their own).

    python bench/bench_import.py                  # everything (takes a while)
    python bench/bench_import.py --smoke --skip-postgres   # a few hundred records, for CI

The machine's load average is recorded with every run: other work on the same cores
slows an import down, and CPU seconds show how much of the time was the import's own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import scaleup  # noqa: E402

REAL_STUDIES = REPO / ".." / "shared" / "data" / "ctgov" / "studies.jsonl.gz"
POSTGRES_URL = os.environ.get("TRIALSCOUT_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REGISTRY_STUDIES = 560_000
TARGET_SECONDS = 600.0
TARGET_RATE = 1000.0
TARGET_RSS_MB = 500.0
SMOKE_REAL = 300
SMOKE_SCALEUP = 300


@dataclass
class Run:
    """One import, measured in its own process."""

    name: str
    backend: str
    source: str
    hooks: list[str]
    studies: int = 0
    rejected: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    db_size_mb: float | None = None
    load_before: float = 0.0
    load_after: float = 0.0
    parsed: int = 0
    parse_seconds: float = 0.0
    worker_rss_mb: float = 0.0
    reader_cpu_seconds: float = 0.0
    reader_rss_mb: float = 0.0
    error: str | None = None

    @property
    def total_rss_mb(self) -> float:
        """The writer's and the reader process's peaks together (an upper bound)."""
        return self.peak_rss_mb + self.reader_rss_mb

    @property
    def rate(self) -> float:
        return self.studies / self.seconds if self.seconds else 0.0


@dataclass
class Results:
    runs: list[Run] = field(default_factory=list)
    extrapolation: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


# --- the child process -------------------------------------------------------------------


def _sqlite_size(url: str) -> float | None:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database:
        return None
    files = [Path(database + suffix) for suffix in ("", "-wal", "-shm")]
    return sum(f.stat().st_size for f in files if f.exists()) / 1e6


def _postgres_size(engine: Any) -> float:
    from sqlalchemy import text

    with engine.connect() as conn:
        size = conn.execute(text(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')")).scalar_one()
    return float(size) / 1e6


def table_sizes(url: str) -> tuple[int, dict[str, float]]:
    """The store's trial count and the bytes of each table with its indexes (SQLite: the
    ``dbstat`` pages, after a WAL checkpoint; PostgreSQL: ``pg_total_relation_size`` in
    the current schema), largest first."""
    from sqlalchemy import text

    from trialscout.store.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            trials = int(conn.execute(text("SELECT count(*) FROM trials")).scalar_one())
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                rows = conn.execute(text(
                    "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
                    "LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY 1")).all()
            else:
                rows = conn.execute(text(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r'")).all()
    finally:
        engine.dispose()
    sizes = {str(name): float(size) for name, size in rows if size}
    return trials, dict(sorted(sizes.items(), key=lambda item: -item[1]))


def print_sizes(url: str) -> None:
    trials, sizes = table_sizes(url)
    total = sum(sizes.values())
    print(f"{url}: {trials:,} trials, {total / 1e9:.2f} GB "
          f"({total / max(trials, 1):,.0f} bytes per trial); load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name, size in sizes.items():
        if size >= total / 1000:
            print(f"  {name:<32} {size / 1e6:>10,.1f} MB {size / max(trials, 1):>8,.0f} B/trial")


def _hook_name(hook: Any) -> str:
    name = getattr(hook, "__qualname__", None)
    return f"{hook.__module__}.{name}" if name else repr(hook)


def peak_rss_mb() -> float:
    """This process's peak RSS.

    Linux's ``VmHWM`` counts this process image only; ``ru_maxrss`` would also carry over
    the parent's RSS from before ``exec`` (the child is forked from the benchmark).
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(source: Path, url: str, hooks: bool, limit: int | None,
          batch_size: int | None) -> dict[str, Any]:
    """Import ``source`` into ``url`` in this process and measure it."""
    from trialscout.app import create_app

    overrides: dict[str, Any] = {"database_url": url}
    if batch_size:
        overrides["import_batch_size"] = batch_size
    app = create_app(**overrides)
    hook_list = list(app.write_hooks) if hooks else []
    started, cpu_started = time.perf_counter(), time.process_time()
    report = app.store_paths([source], limit=limit, hooks=hook_list)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    reader = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_peak = peak_rss_mb()
    parsed, parse_seconds = 0, 0.0
    if hooks:
        parse_started = time.perf_counter()
        parsed = app.reparse_criteria().parsed
        parse_seconds = time.perf_counter() - parse_started
    size = _postgres_size(app.engine) if app.engine.dialect.name != "sqlite" else None
    app.close()
    if size is None:
        size = _sqlite_size(url)
    return {
        "studies": report.stored, "rejected": len(report.rejected),
        "seconds": seconds, "cpu_seconds": cpu_seconds,
        "reader_cpu_seconds": reader.ru_utime + reader.ru_stime,
        "reader_rss_mb": reader.ru_maxrss / 1024,
        "peak_rss_mb": own_peak,
        "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "parsed": parsed, "parse_seconds": parse_seconds,
        "db_size_mb": size,
        "hooks": [_hook_name(h) for h in hook_list],
    }


# --- the parent ----------------------------------------------------------------------------


def hook_names() -> list[str]:
    """The write hooks a default app registers (they run during `trialscout import`)."""
    from trialscout.app import create_app

    app = create_app(database_url="sqlite://", migrate=False)
    return [_hook_name(h) for h in app.write_hooks]


def measure(name: str, backend: str, source: Path, url: str, *, hooks: bool,
            limit: int | None, batch_size: int | None) -> Run:
    run = Run(name, backend, str(source), [])
    command = [sys.executable, str(Path(__file__).resolve()), "--child",
               "--source", str(source), "--database", url]
    if hooks:
        command.append("--hooks")
    if limit is not None:
        command += ["--limit", str(limit)]
    if batch_size:
        command += ["--batch-size", str(batch_size)]
    run.load_before = os.getloadavg()[0]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    run.load_after = os.getloadavg()[0]
    if done.returncode != 0:
        run.error = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return run
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for key in ("studies", "rejected", "seconds", "cpu_seconds", "peak_rss_mb", "db_size_mb",
                "hooks", "parsed", "parse_seconds", "worker_rss_mb", "reader_cpu_seconds",
                "reader_rss_mb"):
        setattr(run, key, result[key])
    return run


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped on the way out."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with contextlib.suppress(Exception), admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def extrapolate(run: Run) -> dict[str, Any]:
    seconds = REGISTRY_STUDIES / run.rate if run.rate else float("inf")
    parse_rate = run.parsed / run.parse_seconds if run.parse_seconds else 0.0
    parse_seconds = (REGISTRY_STUDIES * run.parsed / run.studies / parse_rate
                     if parse_rate and run.studies else 0.0)
    return {
        "parse_seconds": parse_seconds, "parse_rate": parse_rate,
        "from": run.name, "registry_studies": REGISTRY_STUDIES,
        "seconds": seconds, "rate": run.rate, "peak_rss_mb": run.total_rss_mb,
        "db_size_mb": (run.db_size_mb / run.studies * REGISTRY_STUDIES
                       if run.db_size_mb and run.studies else None),
        "meets_time": seconds < TARGET_SECONDS, "meets_rate": run.rate >= TARGET_RATE,
        "meets_rss": run.total_rss_mb < TARGET_RSS_MB,
    }


HEADER = (f"{'run':<28} {'hooks':>5} {'studies':>8} {'rej':>4} {'seconds':>8} "
          f"{'studies/s':>9} {'cpu s':>7} {'reader':>7} {'peak RSS':>9} {'reader':>9} "
          f"{'DB size':>9} {'load':>9} "
          f"{'parsed':>7} {'parse s':>8} {'parsed/s':>8} {'worker RSS':>10}")


def row(r: Run) -> str:
    if r.error:
        return f"{r.name:<28} {len(r.hooks):>5} failed: {r.error}"
    size = f"{r.db_size_mb:,.0f} MB" if r.db_size_mb is not None else "-"
    return (f"{r.name:<28} {len(r.hooks):>5} {r.studies:>8} {r.rejected:>4} {r.seconds:>8.1f} "
            f"{r.rate:>9.0f} {r.cpu_seconds:>7.1f} {r.reader_cpu_seconds:>7.1f} "
            f"{r.peak_rss_mb:>6.0f} MB {r.reader_rss_mb:>6.0f} MB {size:>9} "
            f"{r.load_before:>4.1f}/{r.load_after:<4.1f} "
            + (f"{r.parsed:>7} {r.parse_seconds:>8.1f} {r.parsed / r.parse_seconds:>8.0f} "
               f"{r.worker_rss_mb:>7.0f} MB" if r.parse_seconds else ""))


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def table(results: Results) -> str:
    lines = [HEADER, "-" * len(HEADER)]
    lines += [row(r) for r in results.runs]
    hooks = sorted({h for r in results.runs for h in r.hooks})
    if hooks:
        lines.append(f"write hooks in the 'full' runs: {', '.join(hooks)}")
    if results.settings.get("smoke"):
        lines.append("smoke run: a few hundred studies, so start-up dominates; the figures "
                     "below say nothing about the targets")
    for e in results.extrapolation.values():
        lines.append(
            f"registry-sized import ({e['registry_studies']:,} studies) from {e['from']}: "
            f"{e['seconds'] / 60:.1f} min [{_verdict(e['meets_time'])}, target < "
            f"{TARGET_SECONDS / 60:.0f} min], {e['rate']:.0f} studies/s "
            f"[{_verdict(e['meets_rate'])}, target >= {TARGET_RATE:.0f}], peak RSS "
            f"{e['peak_rss_mb']:.0f} MB [{_verdict(e['meets_rss'])}, target < "
            f"{TARGET_RSS_MB:.0f} MB]"
            + (f", database about {e['db_size_mb'] / 1000:.1f} GB" if e["db_size_mb"] else "")
            + (f"; then parsing criteria: {e['parse_seconds'] / 60:.1f} min at "
               f"{e['parse_rate']:.0f} trials/s" if e["parse_seconds"] else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-scaleup", action="store_true")
    parser.add_argument("--base-only", action="store_true",
                        help="measure only the bare importer, not the app's write hooks")
    parser.add_argument("--n", type=int, default=500_000, help="scale-up size")
    parser.add_argument("--seed", type=int, default=0, help="scale-up seed")
    parser.add_argument("--smoke", action="store_true",
                        help=f"tiny run ({SMOKE_REAL} real and {SMOKE_SCALEUP} scaled studies)")
    parser.add_argument("--workdir", type=Path, default=scaleup.OUT_DIR,
                        help="where databases and the scale-up go (outside the repository)")
    parser.add_argument("--scaleup-file", type=Path, default=None,
                        help="scale-up file (default <workdir>/scaleup-<n>.jsonl.gz)")
    parser.add_argument("--hooks-limit", type=int, default=50_000,
                        help="studies in the scale-up import with write hooks (0: all); "
                             "parsing criteria makes that run slow")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="records per transaction (default: the import_batch_size setting)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite databases")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--sizes", metavar="URL", default=None,
                        help="only print the size of each table (with its indexes) of an "
                             "existing store: a database URL or a SQLite file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--hooks", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.sizes:
        url = args.sizes if "://" in args.sizes else f"sqlite:///{Path(args.sizes).resolve()}"
        print_sizes(url)
        return 0
    if args.child:
        print(json.dumps(child(args.source, args.database, args.hooks, args.limit,
                               args.batch_size)))
        return 0

    if not REAL_STUDIES.is_file():
        print(f"bench_import: {REAL_STUDIES} not found (../shared/data is needed)",
              file=sys.stderr)
        return 2
    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    n = SMOKE_SCALEUP if args.smoke else args.n
    real_limit = SMOKE_REAL if args.smoke else None
    hooks = [] if args.base_only else hook_names()
    variants = [False] + ([True] if hooks else [])
    results = Results(settings={"smoke": args.smoke, "n": n, "batch_size": args.batch_size,
                                "cpus": os.cpu_count(), "python": sys.version.split()[0]})
    tag = uuid.uuid4().hex[:8]

    def label(base: str, with_hooks: bool) -> str:
        return f"{base} {'full' if with_hooks else 'base'}"

    print(HEADER, flush=True)
    for with_hooks in variants:
        db = workdir / f"bench-real-{tag}.db"
        _remove_sqlite(db)
        results.runs.append(measure(label("real/sqlite", with_hooks), "sqlite",
                                    REAL_STUDIES, f"sqlite:///{db}", hooks=with_hooks,
                                    limit=real_limit, batch_size=args.batch_size))
        if not args.keep:
            _remove_sqlite(db)
        print(row(results.runs[-1]), flush=True)

    if not args.skip_postgres:
        for with_hooks in variants:
            try:
                with postgres_schema() as url:
                    run = measure(label("real/postgresql", with_hooks), "postgresql",
                                  REAL_STUDIES, url, hooks=with_hooks, limit=real_limit,
                                  batch_size=args.batch_size)
            except Exception as exc:  # noqa: BLE001 - report and go on with the rest
                run = Run(label("real/postgresql", with_hooks), "postgresql",
                          str(REAL_STUDIES), [], error=f"{type(exc).__name__}: {exc}")
            results.runs.append(run)
            print(row(run), flush=True)

    if not args.skip_scaleup:
        out = args.scaleup_file or workdir / scaleup.default_out(n).name
        started = time.perf_counter()
        scaleup.generate(out, n, args.seed)
        print(f"scale-up: {n} studies in {out} ({out.stat().st_size / 1e6:.0f} MB, "
              f"ready in {time.perf_counter() - started:.0f} s)", flush=True)
        for with_hooks in variants:
            db = workdir / f"bench-scaleup-{tag}.db"
            _remove_sqlite(db)
            limit = args.hooks_limit if with_hooks and 0 < args.hooks_limit < n else None
            name = f"scaleup-{limit or n}/sqlite"
            run = measure(label(name, with_hooks), "sqlite", out, f"sqlite:///{db}",
                          hooks=with_hooks, limit=limit, batch_size=args.batch_size)
            results.runs.append(run)
            if not args.keep:
                _remove_sqlite(db)
            print(row(run), flush=True)
            if not run.error:
                results.extrapolation[run.name] = extrapolate(run)

    print()
    print(table(results))
    if args.json_out:
        payload = {"settings": results.settings, "extrapolation": results.extrapolation,
                   "runs": [{**asdict(r), "rate": r.rate} for r in results.runs]}
        args.json_out.write_text(json.dumps(payload, indent=2))
    return 1 if any(r.error for r in results.runs) else 0


if __name__ == "__main__":
    sys.exit(main())
