"""Who owns a per-user object, and moving or deleting everything one owner has.

Every per-user table (saved searches, notes, share links, shortlist, inquiries, ...) has an
``owner`` column, String(80), holding an *owner key*:

* ``"session:<session hash>"`` for an anonymous visitor (the SHA-256 of their session id,
  as in ``web_sessions.id_hash``);
* ``"account:<id>"`` for a signed-in member.

Build keys with :func:`owner_for`, never by hand. A package declares its table once, in its
``tables.py`` module, with :func:`register_owned_table`; every ``trialscout.<pkg>.tables``
module is imported before the registry is read, so import order never hides a table.

:func:`merge_owner` moves a visitor's everything into their account on sign-up and sign-in
(and from one session hash to the next when an anonymous session id is rotated), in the
caller's transaction. Conflicts (a unique key on ``(owner, *unique_with)`` that both owners
hold) keep the **newer** row by the table's ``newer`` column; with no such column, or on a
tie, the destination's row is kept. Rows without a conflict are all kept. The session tables
follow the same rule: answers keep the newer by ``updated_at``; the profile's fields take the
visitor's non-empty values (entered in the session being merged, so the newer); a patient
record is moved when the account has none, else the visitor's latest version becomes the
next version of the account's record (the account's history is kept).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, column, delete, select, table, update
from sqlalchemy.sql.expression import TableClause

OWNER_MAX = 80
SESSION_PREFIX = "session:"
ACCOUNT_PREFIX = "account:"


@dataclass(frozen=True)
class OwnedTable:
    """A per-user table: ``column`` holds the owner key. ``unique_with``: the columns that,
    with the owner, are unique (conflicts on merge). ``newer``: a column ordering two
    conflicting rows (a timestamp). ``id_column``: the primary key, to delete a loser."""

    name: str
    column: str = "owner"
    unique_with: tuple[str, ...] = ()
    newer: str | None = None
    id_column: str = "id"


_REGISTRY: dict[str, OwnedTable] = {}


def register_owned_table(name: str, column: str = "owner", *,
                         unique_with: Sequence[str] = (), newer: str | None = None,
                         id_column: str = "id") -> OwnedTable:
    """Declare ``name`` a per-user table (call it in your package's ``tables.py``).

    Its rows follow their owner on :func:`merge_owner`, are deleted with the owner
    (:func:`delete_owner`: "Delete my account", a forgotten or expired session) and are
    part of "Export my data" (:func:`export_owner`). Registering again replaces."""
    spec = OwnedTable(name, column, tuple(unique_with), newer, id_column)
    _REGISTRY[name] = spec
    return spec


_ACCOUNT_TABLES: dict[str, str] = {}


def register_account_table(name: str, column: str = "account_id") -> None:
    """Declare a table whose rows belong to one account by its id (a coordinator's claims,
    say) rather than by owner key: "Delete my account" deletes them and "Export my data"
    includes them. Call it in your package's ``tables.py``."""
    _ACCOUNT_TABLES[name] = column


def account_tables() -> list[tuple[str, str]]:
    """Every registered (table, account id column), by name."""
    _import_table_modules()
    return sorted(_ACCOUNT_TABLES.items())


def delete_account_rows(conn: Connection, account_id: int) -> int:
    deleted = 0
    for name, col in account_tables():
        t = table(name, column(col))
        deleted += int(conn.execute(delete(t).where(t.c[col] == account_id)).rowcount or 0)
    return deleted


def export_account_rows(conn: Connection, account_id: int) -> dict[str, list[dict[str, Any]]]:
    from sqlalchemy import MetaData, Table

    meta = MetaData()
    found: dict[str, list[dict[str, Any]]] = {}
    for name, col in account_tables():
        full = Table(name, meta, autoload_with=conn)
        shown = [c for c in full.c if not is_secret_column(c.name)]
        rows = conn.execute(select(*shown).where(full.c[col] == account_id)).mappings().all()
        found[name] = [dict(row) for row in rows]
    return found


@functools.cache
def _import_table_modules() -> None:
    import trialscout

    for info in pkgutil.iter_modules(trialscout.__path__):
        if info.ispkg:
            try:
                importlib.import_module(f"trialscout.{info.name}.tables")
            except ModuleNotFoundError as exc:
                if exc.name != f"trialscout.{info.name}.tables":
                    raise


def owned_tables() -> list[OwnedTable]:
    """Every registered per-user table, by name."""
    _import_table_modules()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def owner_for(session_hash: str | None, account_id: int | None) -> str:
    """The owner key of the request's objects: the account when signed in, else the session."""
    if account_id is not None:
        return f"{ACCOUNT_PREFIX}{int(account_id)}"
    if not session_hash:
        raise ValueError("an owner needs a session hash or an account id")
    return f"{SESSION_PREFIX}{session_hash}"


def account_of(owner: str) -> int | None:
    """The account id in an ``account:<id>`` key, else None."""
    if owner.startswith(ACCOUNT_PREFIX):
        return int(owner[len(ACCOUNT_PREFIX):])
    return None


def _clause(spec: OwnedTable) -> TableClause:
    names = {spec.column, spec.id_column, *spec.unique_with}
    if spec.newer:
        names.add(spec.newer)
    return table(spec.name, *(column(name) for name in sorted(names)))


def move_owned_rows(conn: Connection, from_key: str, to_key: str) -> int:
    """Give every registered table's rows of ``from_key`` to ``to_key`` (conflicts: the
    newer row wins, else the destination's). Returns the rows moved."""
    if from_key == to_key:
        return 0
    moved = 0
    for spec in owned_tables():
        t = _clause(spec)
        owner = t.c[spec.column]
        if spec.unique_with:
            moved -= _drop_conflict_losers(conn, spec, t, from_key, to_key)
        result = conn.execute(update(t).where(owner == from_key).values({spec.column: to_key}))
        moved += int(result.rowcount or 0)
    return max(moved, 0)


def _drop_conflict_losers(conn: Connection, spec: OwnedTable, t: TableClause, from_key: str,
                          to_key: str) -> int:
    src, dst = t.alias("src"), t.alias("dst")
    same = and_(*(src.c[c] == dst.c[c] for c in spec.unique_with))
    wanted = [src.c[spec.id_column], dst.c[spec.id_column]]
    if spec.newer:
        wanted += [src.c[spec.newer], dst.c[spec.newer]]
    pairs = conn.execute(select(*wanted).select_from(src.join(dst, same)).where(
        src.c[spec.column] == from_key, dst.c[spec.column] == to_key)).all()
    losers_src: list[Any] = []
    losers_dst: list[Any] = []
    for pair in pairs:
        src_newer = spec.newer is not None and _later(pair[2], pair[3])
        (losers_dst if src_newer else losers_src).append(pair[1] if src_newer else pair[0])
    ident = t.c[spec.id_column]
    if losers_dst:
        conn.execute(delete(t).where(ident.in_(losers_dst)))
    if losers_src:
        conn.execute(delete(t).where(ident.in_(losers_src)))
    return len(losers_src)


def _later(a: Any, b: Any) -> bool:
    return a is not None and (b is None or a > b)


def delete_owner(conn: Connection, keys: Iterable[str]) -> int:
    """Delete every registered table's rows of these owners. Returns the rows deleted."""
    wanted = sorted(set(keys))
    if not wanted:
        return 0
    deleted = 0
    for spec in owned_tables():
        t = _clause(spec)
        for start in range(0, len(wanted), 500):
            result = conn.execute(delete(t).where(t.c[spec.column].in_(wanted[start:start + 500])))
            deleted += int(result.rowcount or 0)
    return deleted


def export_owner(conn: Connection, key: str) -> dict[str, list[dict[str, Any]]]:
    """Every registered table's rows of ``key`` as plain dicts by table name (for "Export my
    data"), without secret columns (:func:`is_secret_column`)."""
    from sqlalchemy import MetaData, Table

    found: dict[str, list[dict[str, Any]]] = {}
    meta = MetaData()
    for spec in owned_tables():
        full = Table(spec.name, meta, autoload_with=conn)
        shown = [c for c in full.c if not is_secret_column(c.name)]
        rows = conn.execute(select(*shown).where(full.c[spec.column] == key)).mappings().all()
        found[spec.name] = [dict(row) for row in rows]
    return found


def is_secret_column(name: str) -> bool:
    """Columns an export leaves out: hashes of tokens and passcodes, secrets, the owner key
    itself (it holds a session hash)."""
    lowered = name.lower()
    return (lowered == "owner" or lowered.endswith("_hash") or "token" in lowered
            or "secret" in lowered or "passcode" in lowered or "password" in lowered)


def merge_owner(conn: Connection, from_key: str, to_key: str) -> None:
    """Move everything ``from_key`` owns to ``to_key`` in the caller's transaction: the
    registered tables, and (between session and account keys) the session's answers,
    profile and patient record. See the module docstring for the conflict rule."""
    from trialscout.accounts.session_data import merge_session_data, session_data_hash

    if from_key == to_key:
        return
    source = session_data_hash(conn, from_key)
    target = session_data_hash(conn, to_key)
    if source is not None and target is not None and source != target:
        merge_session_data(conn, source, target)
    move_owned_rows(conn, from_key, to_key)


__all__ = ["OWNER_MAX", "OwnedTable", "account_of", "account_tables", "delete_account_rows",
           "delete_owner", "export_account_rows", "export_owner", "merge_owner",
           "move_owned_rows", "owned_tables", "owner_for", "register_account_table",
           "register_owned_table"]
