"""Web load benchmark: wrk on loopback against the search page and trial pages.

Imports ../shared/data/ctgov/studies.jsonl.gz (30k real studies) into a temporary SQLite
store, builds the search index, starts `trialscout serve` on 127.0.0.1 and runs wrk with
50 connections for 60 s against each target:

* search: /search?q=... rotating through a list of everyday queries (full HTML page with
  facets);
* trial: one trial page (full HTML page with the parsed eligibility checklist);

and, beyond the issue's target, trials-2000: /trials/NCT... rotating through 2,000 stored
trials, more pages than the page cache holds, so nearly every request is rendered afresh
(the cost of a cache miss). The exit status reflects the first two only.

The `api` target is the JSON search API on varied, uncached queries: `--api-queries`
requests from bench/bench_search.py's query mix (text, phrases, prefixes, OR, NOT, filters,
distance), each path distinct, so neither the page cache (the API has none) nor any
repeated query helps. Before wrk runs, the same paths are sent one after another on one
keep-alive connection and their p50 and p95 are printed (the issue's "one connection"
latency); wrk then measures throughput at `--connections`.

It prints requests/s, p50 and p99 latency and errors (socket errors plus non-2xx/3xx
responses) for each, and checks the target: zero errors and p99 under 300 ms.

    python bench/bench_web.py                       # the full run
    python bench/bench_web.py --duration 10 --limit 2000   # a quick look
    python bench/bench_web.py --database /path/store.db    # reuse an imported store
    # a registry-sized store as it is (no import, no parse), its published index opened
    # read-only by 2 workers, API only, 20 connections:
    python bench/bench_web.py --existing --database /tmp/trialscout-bench/store-560k.sqlite \
        --index-dir /tmp/trialscout-bench/store-560k.sqlite.search --targets api \
        --connections 20 --workers 2 --duration 30

Needs wrk (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

REAL_STUDIES = REPO / ".." / "shared" / "data" / "ctgov" / "studies.jsonl.gz"
OUT = REPO / "bench" / "out"
TARGET_P99_MS = 300.0
TRIAL_PAGES = 2000
SPEC_TARGETS = ("search", "trial")
TARGETS = ("search", "trial", "trials-2000", "api")
QUERIES = [
    "breast cancer", "type 2 diabetes", "asthma", "covid-19", "depression",
    "heart failure", "osteoporosis denosumab", "prostate cancer", "hiv", "obesity",
    "stroke rehabilitation", "chronic kidney disease", "migraine", "parkinson",
    "rheumatoid arthritis", "lung cancer immunotherapy", "hypertension", "pain",
    "alzheimer", "sleep apnea", "schizophrenia", "leukemia", "psoriasis", "copd",
]
LUA = """
local paths = {%s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


@dataclass
class Result:
    target: str
    paths: int
    connections: int
    seconds: int
    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx: int

    @property
    def errors(self) -> int:
        return self.socket_errors + self.non_2xx

    @property
    def meets_target(self) -> bool:
        return self.errors == 0 and self.p99_ms < TARGET_P99_MS


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(output: str) -> dict[str, float]:
    """Pull requests, requests/s, p50, p99 and errors out of `wrk --latency` output."""
    latency = {p: _ms(v, u) for p, v, u in
               re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)}
    requests = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                        r"timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if not (requests and rate and "50" in latency and "99" in latency):
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    return {"requests": int(requests.group(1)), "rate": float(rate.group(1)),
            "p50": latency["50"], "p99": latency["99"],
            "socket_errors": sum(int(g) for g in sockets.groups()) if sockets else 0,
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_store(database: Path, limit: int | None) -> list[str]:
    """Import the real studies (unless the store has them) and build the search index."""
    from trialscout.app import create_app
    from trialscout.search.models import SearchRequest

    app = create_app(database_url=f"sqlite:///{database}")
    try:
        if app.trial_count() == 0:
            source = REAL_STUDIES
            if limit:
                source = database.parent / "studies-subset.jsonl"
                _head(REAL_STUDIES, source, limit)
            started = time.perf_counter()
            report = app.import_paths([source])
            print(f"imported {report.stored} studies in {time.perf_counter() - started:.0f} s",
                  flush=True)
        started = time.perf_counter()
        parsed = app.reparse_criteria()
        print(f"criteria parsed and stored in {time.perf_counter() - started:.0f} s "
              f"({parsed.as_dict()})", flush=True)
        started = time.perf_counter()
        app.search(SearchRequest(q="cancer"))
        print(f"search index ready in {time.perf_counter() - started:.1f} s "
              f"({app.trial_count()} trials)", flush=True)
        hits = app.search(SearchRequest(q="", page_size=100, sort="last_update", facets=False))
        ids = [h.nct_id for h in hits.hits]
        with app.engine.connect() as conn:
            from sqlalchemy import text

            rows = conn.execute(text("SELECT nct_id FROM trials WHERE has_criteria "
                                     "ORDER BY nct_id LIMIT :n"), {"n": TRIAL_PAGES}
                                ).scalars().all()
        return list(dict.fromkeys([*ids, *rows]))[:TRIAL_PAGES]
    finally:
        app.close()


def _head(source: Path, target: Path, limit: int) -> None:
    import gzip

    with gzip.open(source, "rt", encoding="utf-8") as src, target.open("w") as out:
        for i, line in enumerate(src):
            if i >= limit:
                break
            out.write(line)


def api_paths(database: Path, index_dir: Path | None, n: int) -> tuple[list[str], list[str]]:
    """Distinct `/api/v1/search` paths from bench_search's query mix, and trial ids for the
    trial targets, read from the store (and its published index, opened read-only)."""
    from bench.bench_search import query_mix
    from trialscout.app import create_app
    from trialscout.search.models import SearchRequest

    extra: dict[str, Any] = {} if index_dir is None else {
        "search_index_dir": str(index_dir), "search_index_role": "open"}
    app = create_app(database_url=f"sqlite:///{database}", migrate=False, **extra)
    try:
        paths = list(dict.fromkeys(api_path(r) for r in query_mix(app, n)))
        hits = app.search(SearchRequest(q="", page_size=100, sort="last_update", facets=False))
        return paths, [h.nct_id for h in hits.hits]
    finally:
        app.close()


def api_path(request: object) -> str:
    """The API URL of a SearchRequest: only the fields that differ from the defaults,
    lists as repeated parameters."""
    from trialscout.search.models import SearchRequest

    assert isinstance(request, SearchRequest)
    fields = request.model_dump(exclude_defaults=True, mode="json")
    return "/api/v1/search?" + urlencode(fields, doseq=True)


def one_connection(port: int, paths: list[str]) -> dict[str, float]:
    """Each path once, one after another on one keep-alive connection: ms per request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times: list[float] = []
    errors = 0
    try:
        for path in paths:
            started = time.perf_counter()
            conn.request("GET", path)
            reply = conn.getresponse()
            reply.read()
            times.append((time.perf_counter() - started) * 1000)
            if reply.status != 200:
                errors += 1
    finally:
        conn.close()
    times.sort()

    def pct(p: float) -> float:
        return times[min(len(times) - 1, round(p / 100 * (len(times) - 1)))]

    return {"requests": len(times), "p50_ms": round(pct(50), 1), "p95_ms": round(pct(95), 1),
            "p99_ms": round(pct(99), 1), "mean_ms": round(sum(times) / len(times), 1),
            "errors": errors}


def start_server(database: Path, port: int, workers: int,
                 page_cache: int | None, index_dir: Path | None = None
                 ) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRIALSCOUT_LOG_LEVEL": "WARNING"}
    cache = ["--set", f"page_cache_size={page_cache}"] if page_cache is not None else []
    if index_dir is not None:
        cache += ["--set", f"search_index_dir={index_dir}", "--set", "search_index_role=open"]
    command = [sys.executable, "-c", "from trialscout.cli import main; main()",
               "--database", f"sqlite:///{database}", *cache, "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited while starting")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/session", timeout=5):
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError("the server did not start within 600 s")


def warm(port: int, paths: list[str]) -> None:
    """First requests load the gazetteer, the criteria vocabularies and the index views."""
    for path in paths:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120) as reply:
            reply.read()


def run_wrk(wrk: str, port: int, target: str, paths: list[str], connections: int,
            seconds: int, threads: int, workdir: Path) -> Result:
    script = workdir / f"{target}.lua"
    script.write_text(LUA % ", ".join(json.dumps(p) for p in paths))
    out = subprocess.run([wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
                          "--latency", "--timeout", "10s", "-s", str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                         check=True)
    numbers = parse_wrk(out.stdout)
    return Result(target=target, paths=len(paths), connections=connections, seconds=seconds,
                  requests=int(numbers["requests"]), requests_per_s=numbers["rate"],
                  p50_ms=numbers["p50"], p99_ms=numbers["p99"],
                  socket_errors=int(numbers["socket_errors"]), non_2xx=int(numbers["non_2xx"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=60, help="seconds per target")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server worker processes (default: one per core)")
    parser.add_argument("--limit", type=int, help="import only the first N studies")
    parser.add_argument("--database", type=Path, help="reuse (or create) this SQLite file")
    parser.add_argument("--existing", action="store_true",
                        help="use --database as it is: no import, no criteria parse, no "
                        "index build (open its published index with --index-dir)")
    parser.add_argument("--index-dir", type=Path, help="the published search index the "
                        "server's workers open read-only (search_index_role=open)")
    parser.add_argument("--targets", default="search,trial,trials-2000",
                        help=f"comma-separated, of: {', '.join(TARGETS)}")
    parser.add_argument("--api-queries", type=int, default=2000,
                        help="distinct /api/v1/search paths for the api target")
    parser.add_argument("--spec-only", action="store_true",
                        help="skip the extra run over 2,000 different trial pages")
    parser.add_argument("--page-cache", type=int, help="page_cache_size for the server "
                        "(default: the setting's default; 0 turns the cache off)")
    args = parser.parse_args()
    wanted = [t.strip() for t in args.targets.split(",") if t.strip()]
    if args.spec_only:
        wanted = [t for t in wanted if t != "trials-2000"]
    if unknown := [t for t in wanted if t not in TARGETS]:
        print(f"unknown target(s) {unknown}; use {TARGETS}", file=sys.stderr)
        return 2
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    if args.existing and (args.database is None or not args.database.is_file()):
        print("--existing needs --database naming an existing SQLite file", file=sys.stderr)
        return 2
    if args.database is None and not REAL_STUDIES.is_file():
        print(f"no real studies at {REAL_STUDIES}", file=sys.stderr)
        return 2
    sequential: dict[str, float] | None = None
    with tempfile.TemporaryDirectory(prefix="trialscout-bench-web-") as tmp:
        workdir = Path(tmp)
        database = args.database or workdir / "store.db"
        trial_ids = [] if args.existing else prepare_store(database, args.limit)
        paths_api: list[str] = []
        if "api" in wanted or not trial_ids:
            paths_api, recent = api_paths(database, args.index_dir, args.api_queries)
            trial_ids = trial_ids or recent
        search_paths = [f"/search?q={quote_plus(q)}" for q in QUERIES]
        trial_paths = [f"/trials/{nct_id}" for nct_id in trial_ids]
        by_name = {"search": search_paths, "trial": trial_paths[:1],
                   "trials-2000": trial_paths, "api": paths_api}
        targets = [(name, by_name[name]) for name in wanted]
        port = free_port()
        started = time.perf_counter()
        server = start_server(database, port, args.workers, args.page_cache, args.index_dir)
        print(f"server up in {time.perf_counter() - started:.1f} s", flush=True)
        load_before = os.getloadavg()[0]
        try:
            warm(port, search_paths[:3] + trial_paths[:5] + paths_api[:5])
            if paths_api:
                sequential = one_connection(port, paths_api)
                sequential["load"] = round(os.getloadavg()[0], 1)
            results = [run_wrk(wrk, port, name, paths, args.connections, args.duration,
                               args.threads, workdir)
                       for name, paths in targets]
            load_after = os.getloadavg()[0]
        finally:
            server.terminate()
            server.wait(timeout=30)
    print()
    cache = "default" if args.page_cache is None else str(args.page_cache)
    if sequential is not None:
        print(f"api, one connection, {sequential['requests']:.0f} distinct queries: "
              f"p50 {sequential['p50_ms']} ms, p95 {sequential['p95_ms']} ms, "
              f"p99 {sequential['p99_ms']} ms, mean {sequential['mean_ms']} ms, "
              f"{sequential['errors']:.0f} non-200 (load average {sequential['load']})")
    print(f"wrk: {args.connections} connections, {args.duration} s per target, "
          f"{args.workers} server worker(s), page cache {cache}, {os.cpu_count()} cores, "
          f"loopback; load average {load_before:.1f} before, {load_after:.1f} after")
    print(f"{'target':<12} {'paths':>5} {'requests':>9} {'req/s':>8} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'errors':>7}  target (0 errors, p99 < {TARGET_P99_MS:.0f} ms)")
    for r in results:
        print(f"{r.target:<12} {r.paths:>5} {r.requests:>9} {r.requests_per_s:>8.1f} "
              f"{r.p50_ms:>8.1f} {r.p99_ms:>8.1f} {r.errors:>7}  "
              f"{'met' if r.meets_target else 'MISSED'}")
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / "bench_web.json"
    report.write_text(json.dumps({"results": [asdict(r) | {"errors": r.errors}
                                              for r in results],
                                  "api_one_connection": sequential,
                                  "workers": args.workers, "cores": os.cpu_count(),
                                  "page_cache": cache, "load_before": load_before,
                                  "load_after": load_after}, indent=2))
    print(f"written to {report.relative_to(REPO)}")
    return 0 if all(r.meets_target for r in results if r.target in SPEC_TARGETS) else 1


if __name__ == "__main__":
    raise SystemExit(main())
