"""Writing a chunk of alert rows: each saved search with the change ids it gets.

A heavy day makes millions of (saved search, change) rows, so the rows are never built one
by one in Python. The caller hands over, per saved search, the sorted tuple of its change
ids; searches that match the same changes share that tuple, and each distinct tuple is
turned into SQL input once:

* **SQLite**: one ``INSERT OR IGNORE ... SELECT`` per saved search through ``executemany``,
  the change ids as a JSON array that ``json_each`` unrolls and joins to ``alert_changes``
  (for the trial and kind) and to ``saved_searches`` (so a search deleted meanwhile gets
  nothing). The statement runs under SQLite's single writer lock, so that check holds.
* **PostgreSQL**: the chunk's searches are locked ``FOR KEY SHARE`` (what a foreign key
  would do per alert row, here once per search: a concurrent delete waits for the commit,
  and its trigger then removes the rows), and the rows go in by ``COPY`` straight into
  ``alerts``, as text made from one template per distinct tuple. ``COPY`` cannot skip a
  pair that is already there (a rerun after a crash, or two passes at once): the unique
  key refuses it, the savepoint is rolled back, and that chunk goes through a temporary
  table and ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` instead, the path every later
  chunk keeps until one inserts all its rows again.

Either way a pair is stored once, and ``write`` returns the number of (live search,
change) pairs the chunk asked for: all of them exist once it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection

Wanted = Sequence[tuple[int, tuple[int, ...]]]
CACHE_ENTRIES = 4_096

_SQLITE_INSERT = (
    "INSERT OR IGNORE INTO alerts (saved_search_id, change_id, nct_id, kind, created_at, "
    "message_id, emailed) SELECT s.id, c.id, c.nct_id, c.kind, ?, NULL, 0 "
    "FROM saved_searches s JOIN json_each(?) j JOIN alert_changes c ON c.id = j.value "
    "WHERE s.id = ?")
_SQLITE_LIVE = "SELECT s.id FROM saved_searches s JOIN json_each(?) j ON s.id = j.value"
_PG_LOCK = "SELECT id FROM saved_searches WHERE id = ANY(%s) FOR KEY SHARE"
_PG_COLUMNS = "saved_search_id, change_id, nct_id, kind, created_at, emailed"
_PG_COPY = f"COPY alerts ({_PG_COLUMNS}) FROM STDIN"
_PG_STAGE = ("CREATE TEMPORARY TABLE IF NOT EXISTS alerts_incoming (saved_search_id integer, "
             "change_id integer, nct_id varchar(11), kind varchar(12), created_at timestamp, "
             "emailed boolean) ON COMMIT DELETE ROWS")
_PG_STAGE_COPY = f"COPY alerts_incoming ({_PG_COLUMNS}) FROM STDIN"
_PG_MOVE = (f"INSERT INTO alerts ({_PG_COLUMNS}) SELECT {_PG_COLUMNS} FROM alerts_incoming "
            "ON CONFLICT (saved_search_id, change_id) DO NOTHING")
_SEARCH_MARK = "\x00"  # stands for the saved search id in a template; never in the values


def _copy_field(value: object) -> str:
    """A value in COPY's text format (backslash, tab and line breaks escaped)."""
    text = str(value)
    if _SEARCH_MARK in text:
        raise ValueError("a change field holds a NUL character")
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


class AlertWriter:
    """Writes chunks of alerts for one pass (``changes``: change id -> (nct_id, kind))."""

    def __init__(self, dialect: str, now: datetime, changes: dict[int, tuple[str, str]]
                 ) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {dialect}")
        self.dialect = dialect
        self.now = now
        self.changes = changes
        self.stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        self._encoded: dict[tuple[int, ...], str] = {}
        self.fallback = False
        self.fallback_chunks = 0

    def write(self, conn: Connection, wanted: Wanted) -> int:
        """Store the chunk's pairs in the caller's transaction; see the module docstring."""
        if not wanted:
            return 0
        if self.dialect == "sqlite":
            return self._sqlite(conn, wanted)
        return self._postgresql(conn, wanted)

    def _remember(self, ids: tuple[int, ...], encoded: str) -> str:
        if len(self._encoded) >= CACHE_ENTRIES:
            self._encoded.clear()
        self._encoded[ids] = encoded
        return encoded

    # ------------------------------------------------------------------ SQLite
    def _json(self, ids: tuple[int, ...]) -> str:
        found = self._encoded.get(ids)
        return found if found is not None else self._remember(ids, orjson.dumps(ids).decode())

    def _sqlite(self, conn: Connection, wanted: Wanted) -> int:
        stamp = self.stamp
        live = set(conn.exec_driver_sql(
            _SQLITE_LIVE, (orjson.dumps([sid for sid, _ in wanted]).decode(),)).scalars())
        conn.exec_driver_sql(_SQLITE_INSERT, [(stamp, self._json(ids), sid)
                                              for sid, ids in wanted])
        return sum(len(ids) for sid, ids in wanted if sid in live)

    # ------------------------------------------------------------------ PostgreSQL
    def _template(self, ids: tuple[int, ...]) -> str:
        found = self._encoded.get(ids)
        if found is not None:
            return found
        tail = f"\t{_copy_field(self.stamp)}\tf\n"
        lines = []
        for change_id in ids:
            nct_id, kind = self.changes[change_id]
            lines.append(f"{_SEARCH_MARK}\t{change_id}\t{_copy_field(nct_id)}\t"
                         f"{_copy_field(kind)}{tail}")
        return self._remember(ids, "".join(lines))

    def _postgresql(self, conn: Connection, wanted: Wanted) -> int:
        from psycopg.errors import UniqueViolation

        raw: Any = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            cur.execute(_PG_LOCK, ([sid for sid, _ in wanted],))
            live = {row[0] for row in cur.fetchall()}
        kept = [(sid, ids) for sid, ids in wanted if sid in live]
        if not kept:
            return 0
        data = "".join(self._template(ids).replace(_SEARCH_MARK, str(sid))
                       for sid, ids in kept)
        rows = sum(len(ids) for _sid, ids in kept)
        if not self.fallback:
            try:
                with conn.begin_nested(), raw.cursor() as cur, cur.copy(_PG_COPY) as copy:
                    copy.write(data)
                return rows
            except UniqueViolation:
                self.fallback = True
        self.fallback_chunks += 1
        with raw.cursor() as cur:
            cur.execute(_PG_STAGE)
            cur.execute("TRUNCATE alerts_incoming")
            with cur.copy(_PG_STAGE_COPY) as copy:
                copy.write(data)
            cur.execute(_PG_MOVE)
            inserted = cur.rowcount
        if inserted == rows:
            self.fallback = False  # the crashed pass's part is behind us
        return rows


def mark_emailed(conn: Connection, batches: Sequence[tuple[list[int], str]]) -> None:
    """Mark each list of alert ids as carried by its message: one statement per message
    (the ids as one array or JSON parameter), not one per alert."""
    if not batches:
        return
    if conn.dialect.name == "postgresql":
        sql = "UPDATE alerts SET emailed = true, message_id = %s WHERE id = ANY(%s)"
        params: list[tuple[Any, ...]] = [(message_id, ids) for ids, message_id in batches]
    else:
        sql = ("UPDATE alerts SET emailed = 1, message_id = ? "
               "WHERE id IN (SELECT value FROM json_each(?))")
        params = [(message_id, orjson.dumps(ids).decode()) for ids, message_id in batches]
    conn.exec_driver_sql(sql, params)
