"""Account costs: argon2id hash and sign-in time by memory cost, and the sign-in merge and
account deletion as a visitor's session grows (answers and rows of per-user tables).

Prints numbers, asserts nothing. ``--database`` picks the store (default: a SQLite file
under /tmp/trialscout-bench/; a PostgreSQL URL should name a database or schema of its own).
The first merge also pays for importing every package's table module once.

    .venv/bin/python bench/bench_accounts.py [--database URL] [--sizes 10,100,1000]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import insert

from trialscout.accounts.data import delete_account
from trialscout.accounts.owners import owner_for
from trialscout.accounts.service import AccountPolicy, AccountService
from trialscout.app import create_app
from trialscout.sessions import SessionStore, hash_session_token
from trialscout.workspace.tables import NoteRow

OUT = Path("/tmp/trialscout-bench")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench_hashing() -> None:
    for memory in (8192, 19456, 65536):
        hasher = PasswordHasher(memory_cost=memory)
        start = time.perf_counter()
        stored = hasher.hash("a long enough password")
        hashed = time.perf_counter() - start
        start = time.perf_counter()
        hasher.verify(stored, "a long enough password")
        verified = time.perf_counter() - start
        print(f"argon2id m={memory} KiB t={hasher.time_cost} p={hasher.parallelism}: "
              f"hash {_ms(hashed)}, verify {_ms(verified)}")


def bench_merge(url: str, sizes: list[int]) -> None:
    app = create_app(database_url=url, password_hash_memory_kib=8192)
    service = AccountService(app.engine, AccountPolicy.from_settings(app.settings))
    store = SessionStore(app.engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    for n in sizes:
        token = f"visitor-{n}-{time.time_ns()}"
        store.put_answers(token, {f"question {i}": "yes" for i in range(n)})
        with app.engine.begin() as conn:
            account_id = service.create(conn, f"bench{n}-{time.time_ns()}@example.org",
                                        "a long enough password", verified=True)
            conn.execute(insert(NoteRow), [
                {"owner": owner_for(hash_session_token(token), None), "nct_id": "NCT09000001",
                 "body": f"note {i}", "quote": None, "anchor_section": None,
                 "anchor_start": None, "anchor_end": None, "created_at": now,
                 "updated_at": now} for i in range(n)])
        start = time.perf_counter()
        service.start_session(token, f"signed-{token}", account_id)
        merged = time.perf_counter() - start
        start = time.perf_counter()
        with app.engine.begin() as conn:
            delete_account(conn, account_id)
        deleted = time.perf_counter() - start
        print(f"{app.engine.dialect.name}: {n} answers + {n} notes: sign-in merge "
              f"{_ms(merged)}, delete account {_ms(deleted)}")
    app.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None)
    parser.add_argument("--sizes", default="10,100,1000")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    url = args.database or f"sqlite:///{OUT / 'accounts.db'}"
    print(f"load average {os.getloadavg()[0]:.2f}")
    bench_hashing()
    bench_merge(url, [int(s) for s in args.sizes.split(",")])
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
