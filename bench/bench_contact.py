"""Contact benchmark: sending inquiries, the coordinator's workspace page (with its audit
rows), the CSV export and the trial page's count, as the inquiries on one trial grow.

Setup (not timed): a store holding one made-up trial with 50 sites, each with a contact
address, claimed for all sites by one coordinator account id. Timed: ``--n`` inquiries
sent through ``app.contact.send`` (each from its own owner and client address, with the
pre-screen), then the workspace's first page of 25 (which writes 25 audit rows), a page
filtered by site and status, the CSV export of everything, and the public count.

    python bench/bench_contact.py                  # 2,000 inquiries on SQLite
    python bench/bench_contact.py --n 300 --database postgresql+psycopg://127.0.0.1/test

On PostgreSQL it works in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

NCT = "NCT09995001"


def study(sites: int) -> dict[str, Any]:
    return {"protocolSection": {
        "identificationModule": {"nctId": NCT, "briefTitle": "Benchmark trial"},
        "statusModule": {"overallStatus": "RECRUITING"},
        "conditionsModule": {"conditions": ["Osteoporosis"]},
        "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n"
                              "* Postmenopausal women\n* Able to walk 100 metres\n\n"
                              "Exclusion Criteria:\n\n* Received denosumab within 6 months",
                              "sex": "FEMALE", "minimumAge": "50 Years"},
        "contactsLocationsModule": {"locations": [
            {"facility": f"Site {i}", "city": f"City {i}", "country": "United States",
             "geoPoint": {"lat": 30 + i * 0.1, "lon": -90 - i * 0.1},
             "contacts": [{"name": "Desk", "email": f"site{i}@example.org"}]}
            for i in range(sites)]}}}


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def run(n: int, database: str | None) -> dict[str, Any]:
    """On PostgreSQL the run uses a schema of its own, dropped afterwards."""
    if not database or not database.startswith("postgresql"):
        return _run(n, database)
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in database else "?"
        return _run(n, f"{database}{sep}options=-csearch_path%3D{schema}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _run(n: int, database: str | None) -> dict[str, Any]:
    from trialscout.app import create_app
    from trialscout.contact.inquiries import Limits
    from trialscout.contact.models import ContactDetails, InquiryRequest
    from trialscout.contact.sites import site_key

    folder = Path(tempfile.mkdtemp(prefix="bench-contact-"))
    source = folder / "trial.jsonl"
    source.write_text(json.dumps(study(50)) + "\n")
    app = create_app(database_url=database or f"sqlite:///{folder / 'bench.db'}")
    app.import_paths([source])
    trial = app.trial(NCT)
    assert trial is not None
    app.contact.limits = Limits(per_owner=10**9, per_address=10**9, daily_total=10**9)
    app.contact.grant(trial, 1, "*", admin_id=2)
    keys = [site_key(s) for s in trial.sites]
    sends = []
    for i in range(n):
        request = InquiryRequest(site_key=keys[i % len(keys)], agree=True, contact=ContactDetails(
            name=f"Person {i}", email=f"p{i}@example.org", preferred_way="email"),
            message="I would like to take part. " * 10)
        ms, _ = timed(lambda r=request, i=i: app.contact.send(
            trial, r, owner=f"account:{1000 + i}", client_key=f"10.0.{i // 250}.{i % 250}",
            answers={}))
        sends.append(ms)
    page_ms, _ = timed(lambda: app.contact.workspace(1, limit=25))
    filtered_ms, _ = timed(lambda: app.contact.workspace(1, site_key=keys[3], status="sent",
                                                         limit=25))
    export_ms, (rows, _) = timed(lambda: app.contact.workspace(1, limit=5000,
                                                               action="export"))
    count_ms, count = timed(lambda: app.contact.asked_count(NCT))
    app.close()
    return {"inquiries": n, "send_ms_median": round(statistics.median(sends), 2),
            "send_ms_p95": round(sorted(sends)[int(0.95 * (len(sends) - 1))], 2),
            "workspace_page_ms": round(page_ms, 1), "filtered_page_ms": round(filtered_ms, 1),
            "export_ms": round(export_ms, 1), "exported": len(rows),
            "count_ms": round(count_ms, 2), "count": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--database", default=None, help="a database URL (default: SQLite)")
    args = parser.parse_args()
    print(json.dumps(run(args.n, args.database), indent=2))


if __name__ == "__main__":
    main()
