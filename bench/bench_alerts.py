"""Alert computation benchmark: many saved searches against one day of registry changes.

Setup (not timed): a store of real studies from ../shared/data/ctgov/studies.jsonl.gz
(the baseline), saved searches made from the baseline's own condition names (their first
four words at most, a third with a status filter, half with a place and a radius around a
real site), then one day of changes written through the import path so the write hook records
them: half new studies, half updates of baseline studies (now recruiting, a new site,
changed criteria).

Timed, in a fresh process per measurement so its peak RSS is its own: one alert pass
(``compute_alerts`` until no change is left): load the changed trials, build their masks,
stream every saved search, write the alerts. Measured at each number of saved searches in
``--scales`` so the peak memory can be compared across them (target: flat), on SQLite and
PostgreSQL. Target: under 60 s for 100,000 searches x 1,000 changed trials.

Then, also in a fresh process each: composing the emails into the outbox
(``AlertService.queue_emails``: one digest per saved search, every owner a verified
account), and sending a sample of them (``--send-sample``, default 500) to an aiosmtpd
server on 127.0.0.1, which also checks that the received List-Unsubscribe header is a URL.

    python bench/bench_alerts.py                       # 10k and 100k searches, 1,000 changes
    python bench/bench_alerts.py --smoke --skip-postgres
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

REAL_STUDIES = REPO / ".." / "shared" / "data" / "ctgov" / "studies.jsonl.gz"
POSTGRES_URL = os.environ.get("TRIALSCOUT_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_SECONDS = 60.0


def read_studies(limit: int) -> list[dict[str, Any]]:
    out = []
    with gzip.open(REAL_STUDIES, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                out.append(json.loads(line))
                if len(out) >= limit:
                    break
    return out


def _proto(study: dict[str, Any]) -> dict[str, Any]:
    return study.setdefault("protocolSection", {})


def changed_versions(baseline: list[dict[str, Any]], fresh: list[dict[str, Any]],
                     rng: random.Random) -> list[dict[str, Any]]:
    """One day of changes: the fresh studies as new ones, recruiting, and the baseline
    studies updated (status, a new site, criteria) with a later update date."""
    out = []
    for study in fresh:
        new = copy.deepcopy(study)
        _proto(new).setdefault("statusModule", {})["overallStatus"] = "RECRUITING"
        out.append(new)
    for i, study in enumerate(baseline):
        new = copy.deepcopy(study)
        proto = _proto(new)
        status = proto.setdefault("statusModule", {})
        status["lastUpdatePostDateStruct"] = {"date": "2031-01-01"}
        kind = i % 3
        if kind == 0:
            status["overallStatus"] = "RECRUITING"
        elif kind == 1:
            status["overallStatus"] = "RECRUITING"
            locations = proto.setdefault("contactsLocationsModule", {}).setdefault(
                "locations", [])
            lat, lon = rng.uniform(30, 48), rng.uniform(-120, -75)
            locations.append({"facility": f"Bench Site {i}", "city": "Benchville",
                              "country": "United States",
                              "geoPoint": {"lat": round(lat, 4), "lon": round(lon, 4)}})
        else:
            status["overallStatus"] = "RECRUITING"
            elig = proto.setdefault("eligibilityModule", {})
            elig["eligibilityCriteria"] = (elig.get("eligibilityCriteria") or "") + \
                "\n* Able to attend monthly visits"
        out.append(new)
    return out


def saved_search_rows(studies: list[dict[str, Any]], count: int, start: int,
                      rng: random.Random) -> Iterator[dict[str, Any]]:
    """Rows for saved_searches, built from the studies' own conditions and sites."""
    import secrets
    from datetime import datetime, timedelta

    conditions = sorted({c for s in studies for c in
                         (_proto(s).get("conditionsModule") or {}).get("conditions") or []
                         if 3 <= len(c) <= 60})
    places = [(loc["geoPoint"]["lat"], loc["geoPoint"]["lon"]) for s in studies
              for loc in (_proto(s).get("contactsLocationsModule") or {}).get("locations")
              or [] if loc.get("geoPoint")]
    created = datetime(2020, 1, 1) + timedelta(days=1)
    for n in range(start, start + count):
        words = rng.choice(conditions).replace("(", " ").replace(")", " ").split()[:4]
        request: dict[str, Any] = {"q": " ".join(words)}
        if n % 3 == 0:
            request["status"] = ["RECRUITING"]
        lat = lon = radius = None
        if n % 2 == 0 and places:
            lat, lon = rng.choice(places)
            radius = float(rng.choice([25, 50, 100, 250]))
            request.update(lat=lat, lon=lon, radius=radius)
        yield {"owner": f"account:{n + 1}", "name": request["q"][:200],
               "request": json.dumps(request), "delivery": "daily",
               "origin_lat": lat, "origin_lon": lon, "radius_km": radius,
               "feed_token": secrets.token_urlsafe(32),
               "unsubscribe_token": secrets.token_urlsafe(32), "created_at": created,
               "last_sent_at": None}


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: a child started by
    fork and exec inherits its parent's ru_maxrss on Linux, so a large parent would hide
    the child's own number."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def compute_once(url: str) -> dict[str, Any]:
    """The timed part, run in a fresh process (--compute-only)."""
    from trialscout.alerts.compute import compute_alerts
    from trialscout.app import create_app

    app = create_app(database_url=url, migrate=False)
    started, cpu = time.perf_counter(), time.process_time()
    changes = alerts = searches = 0
    while True:
        report = compute_alerts(app.engine)
        if not report.changes:
            break
        changes += report.changes
        alerts += report.alerts
        searches = max(searches, report.searches)
    out = {"seconds": round(time.perf_counter() - started, 2),
           "cpu_seconds": round(time.process_time() - cpu, 2), "changes": changes,
           "searches": searches, "alerts": alerts,
           "peak_rss_mb": peak_rss_mb()}
    app.close()
    return out


def compose_once(url: str) -> dict[str, Any]:
    """Composing every due digest into the outbox, timed (--compose-only)."""
    from trialscout.alerts.service import AlertService
    from trialscout.app import create_app

    app = create_app(database_url=url, migrate=False, public_url="https://scout.example")
    started, cpu = time.perf_counter(), time.process_time()
    queued = AlertService(app).queue_emails()
    out = {"seconds": round(time.perf_counter() - started, 2),
           "cpu_seconds": round(time.process_time() - cpu, 2), "emails": queued,
           "peak_rss_mb": peak_rss_mb()}
    app.close()
    return out


def send_sample(url: str, count: int) -> dict[str, Any]:
    """Sending ``count`` outbox messages to a local aiosmtpd server, timed (--send-only)."""
    import socket
    import threading

    from aiosmtpd.controller import Controller

    from trialscout.app import create_app
    from trialscout.mail.delivery import deliver_pending

    class Collect:
        def __init__(self) -> None:
            self.raw: list[bytes] = []
            self.lock = threading.Lock()

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with self.lock:
                self.raw.append(bytes(envelope.original_content or envelope.content))
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = create_app(database_url=url, migrate=False, smtp_host="127.0.0.1",
                         smtp_port=port, smtp_security="none")
        started, cpu = time.perf_counter(), time.process_time()
        report = deliver_pending(app, limit=count)
        seconds = time.perf_counter() - started
        app.close()
    finally:
        controller.stop()
    readable = sum(1 for raw in handler.raw
                   if b"\r\nList-Unsubscribe: <https://scout.example/alerts/unsubscribe/" in raw)
    return {"seconds": round(seconds, 2), "cpu_seconds": round(time.process_time() - cpu, 2),
            "sent": report.sent, "received": len(handler.raw),
            "unsubscribe_readable": readable,
            "per_second": round(report.sent / seconds, 1) if seconds else None}


def make_accounts(app: Any, start: int, count: int) -> None:
    """Verified member accounts ``start + 1 .. start + count`` for the saved searches'
    owners (``account:<n>``), so every saved search is emailed."""
    from datetime import datetime

    from sqlalchemy import insert

    from trialscout.accounts.tables import AccountRow

    when = datetime(2020, 1, 1)
    rows = [{"id": n, "email": f"member{n}@bench.example", "password_hash": "x",
             "verified_at": when, "role": "member", "disabled": False, "created_at": when,
             "updated_at": when, "home_hash": f"{n:064x}"}
            for n in range(start + 1, start + count + 1)]
    with app.engine.begin() as conn:
        for first in range(0, len(rows), 5000):
            conn.execute(insert(AccountRow), rows[first:first + 5000])


def reset(url: str) -> None:
    from sqlalchemy import delete, update

    from trialscout.alerts.tables import AlertRow, SavedSearchRow, TrialChangeRow
    from trialscout.app import create_app
    from trialscout.mail.tables import OutboxRow

    app = create_app(database_url=url, migrate=False)
    with app.engine.begin() as conn:
        conn.execute(delete(AlertRow))
        conn.execute(delete(OutboxRow))
        conn.execute(update(SavedSearchRow).values(last_sent_at=None))
        conn.execute(update(TrialChangeRow).values(processed=False))
    app.close()


def run_backend(name: str, url: str, args: argparse.Namespace, workdir: Path
                ) -> list[dict[str, Any]]:
    from sqlalchemy import insert

    from trialscout.alerts.tables import SavedSearchRow, TrialChangeRow
    from trialscout.app import create_app

    rng = random.Random(7)
    studies = read_studies(args.baseline + args.changed // 2)
    baseline = studies[:args.baseline]
    fresh = studies[args.baseline:]
    app = create_app(database_url=url, import_reader_process=False)
    base_file = workdir / f"{name}-baseline.jsonl"
    base_file.write_text("\n".join(json.dumps(s) for s in baseline) + "\n")
    app.store_paths([base_file])
    have = 0
    results: list[dict[str, Any]] = []
    for scale in args.scales:
        rows = list(saved_search_rows(baseline, scale - have, have, rng))
        with app.engine.begin() as conn:
            for start in range(0, len(rows), 5000):
                conn.execute(insert(SavedSearchRow), rows[start:start + 5000])
        make_accounts(app, have, scale - have)
        have = scale
        if not results:
            changed = changed_versions(baseline[:args.changed - len(fresh)], fresh, rng)
            day = workdir / f"{name}-day.jsonl"
            day.write_text("\n".join(json.dumps(s) for s in changed) + "\n")
            started = time.perf_counter()
            app.store_paths([day])
            hook_seconds = time.perf_counter() - started
            with app.engine.connect() as conn:
                from sqlalchemy import func, select

                recorded = conn.execute(select(func.count()).select_from(TrialChangeRow)
                                        ).scalar_one()
            print(f"{name}: wrote {len(changed)} changed studies in {hook_seconds:.1f} s "
                  f"(write hooks included), {recorded} changes recorded", flush=True)
        else:
            reset(url)
        measured = _child("--compute-only", url)
        measured.update(backend=name, scale=scale, load_average=os.getloadavg())
        print(f"{name}: {scale:>7} saved searches x {measured['changes']} changes -> "
              f"{measured['alerts']} alerts in {measured['seconds']} s "
              f"(cpu {measured['cpu_seconds']} s), peak RSS {measured['peak_rss_mb']} MB, "
              f"load {measured['load_average'][0]:.2f}", flush=True)
        if not args.skip_compose:
            composed = _child("--compose-only", url)
            composed["load_average"] = os.getloadavg()
            print(f"{name}: {scale:>7} saved searches -> {composed['emails']} emails composed "
                  f"into the outbox in {composed['seconds']} s (cpu {composed['cpu_seconds']}"
                  f" s), peak RSS {composed['peak_rss_mb']} MB, "
                  f"load {composed['load_average'][0]:.2f}", flush=True)
            measured["compose"] = composed
            if args.send_sample:
                sent = _child("--send-only", url, str(args.send_sample))
                sent["load_average"] = os.getloadavg()
                print(f"{name}: sent {sent['sent']} of them to aiosmtpd in {sent['seconds']} s "
                      f"({sent['per_second']}/s, cpu {sent['cpu_seconds']} s), "
                      f"{sent['unsubscribe_readable']} with a readable List-Unsubscribe, "
                      f"load {sent['load_average'][0]:.2f}", flush=True)
                measured["send"] = sent
        results.append(measured)
    app.close()
    return results


def _child(*argv: str) -> dict[str, Any]:
    """Run one timed phase in a fresh process (its peak RSS is its own)."""
    done = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True,
                          check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compute-only", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--compose-only", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--send-only", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--skip-compose", action="store_true",
                        help="Time the alert computation only.")
    parser.add_argument("--send-sample", type=int, default=500,
                        help="Messages sent to a local aiosmtpd server (0: none).")
    parser.add_argument("--scales", type=lambda t: [int(x) for x in t.split(",")],
                        default=[10_000, 100_000], help="Saved-search counts, ascending.")
    parser.add_argument("--changed", type=int, default=1_000, help="Changed trials.")
    parser.add_argument("--baseline", type=int, default=3_000, help="Studies stored first.")
    parser.add_argument("--smoke", action="store_true", help="A tiny run (CI smoke test).")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args()
    if args.compute_only:
        print(json.dumps(compute_once(args.compute_only)))
        return 0
    if args.compose_only:
        print(json.dumps(compose_once(args.compose_only)))
        return 0
    if args.send_only:
        print(json.dumps(send_sample(args.send_only[0], int(args.send_only[1]))))
        return 0
    if not REAL_STUDIES.exists():
        print(f"bench_alerts: {REAL_STUDIES} not found (../shared/data is needed)",
              file=sys.stderr)
        return 2
    if args.smoke:
        args.scales, args.changed, args.baseline = [200, 400], 40, 100
        args.send_sample = min(args.send_sample, 20)
    if args.changed // 2 > args.baseline:
        parser.error("--baseline must be at least half of --changed")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_alerts_") as tmp:
        workdir = Path(tmp)
        results += run_backend("sqlite", f"sqlite:///{workdir / 'alerts.db'}", args, workdir)
        if not args.skip_postgres:
            with postgres_schema() as url:
                results += run_backend("postgresql", url, args, workdir)
    worst = max(r["seconds"] for r in results)
    print(f"slowest pass {worst} s (target < {TARGET_SECONDS:.0f} s); peak RSS by scale: "
          + ", ".join(f"{r['backend']} {r['scale']}: {r['peak_rss_mb']} MB" for r in results))
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
