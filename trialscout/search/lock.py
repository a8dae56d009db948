"""The one-builder lock: only the process holding it builds or publishes a search index.

On PostgreSQL it is a session advisory lock (every node sees it, whatever volume the
snapshot directory is on); on SQLite a ``flock`` on ``<index dir>/.lock`` (SQLite stores
live on one machine). Without an index directory nothing is shared and a thread lock is
enough.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text

_LOCAL = threading.Lock()


def _advisory_key(index_dir: Path | None) -> int:
    name = f"trialscout-search-index:{index_dir}".encode()
    return int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def build_lock(engine: Engine, index_dir: Path | None) -> Iterator[None]:
    """Hold the builder lock for ``index_dir`` (waits for another builder to finish)."""
    with _LOCAL:
        if engine.dialect.name == "postgresql":
            key = _advisory_key(index_dir)
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
            return
        if index_dir is None:
            yield
            return
        index_dir.mkdir(parents=True, exist_ok=True)
        with (index_dir / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
