"""Workspace benchmark: milliseconds per note write and list, and per share-link create,
open and wrong passcode with the default argon2id parameters (the passcode hash is meant
to be slow; this shows how slow on this machine, next to its load average).

    python bench/bench_workspace.py                 # 500 notes, 5 share opens
    python bench/bench_workspace.py --notes 2000 --opens 10 --json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from trialscout.app import create_app
from trialscout.workspace import NoteIn, NoteStore, ShareIn, ShareService, WrongPasscode
from trialscout.workspace.notes import Anchor

OWNER = "session:" + "0" * 64
TRIAL = "NCT09000001"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def run(notes: int, opens: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(database_url=f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            store = NoteStore(app.engine, max_per_owner=notes + 1)
            started = time.perf_counter()
            for i in range(notes):
                store.add(OWNER, TRIAL, NoteIn(
                    body=f"Note {i} about visit {i % 12}", quote="week 12",
                    anchor=Anchor(section="summary", start=i, end=i + 7)))
            add_ms = _ms(started) / notes
            started = time.perf_counter()
            listed = store.list(OWNER, TRIAL)
            list_ms = _ms(started)
            assert len(listed) == notes
            service = ShareService(app.engine)
            started = time.perf_counter()
            created = service.create(OWNER, TRIAL, "Bench trial", ShareIn(passcode="bench-pass"),
                                     listed[:50], None)
            create_ms = _ms(started)
            open_ms, wrong_ms = [], []
            for _ in range(opens):
                started = time.perf_counter()
                service.open(created.token, "bench-pass")
                open_ms.append(_ms(started))
                started = time.perf_counter()
                with contextlib.suppress(WrongPasscode):
                    service.open(created.token, "not-the-pass")
                wrong_ms.append(_ms(started))
        finally:
            app.close()
    return {"notes": notes, "note_add_ms": round(add_ms, 2),
            "note_list_ms": round(list_ms, 1), "share_create_ms": round(create_ms, 1),
            "share_open_ms_median": round(statistics.median(open_ms), 1),
            "wrong_passcode_ms_median": round(statistics.median(wrong_ms), 1),
            "load_average_1m": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=500)
    parser.add_argument("--opens", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.notes, max(1, args.opens))
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>26}: {value}")


if __name__ == "__main__":
    main()
