"""Where a store's saved search index lives (the ``search_index_dir`` setting)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy.engine import make_url

from trialscout.settings import Settings


def index_dir_for(settings: Settings) -> Path | None:
    """The configured directory; by default beside a SQLite file (``<file>.search``) or, for a
    server database, under the user data directory keyed by the URL without its password.
    In-memory SQLite and ``none`` keep the index in memory only."""
    configured = settings.search_index_dir
    if configured is not None and configured.strip():
        if configured.strip().lower() in {"none", "off", "memory"}:
            return None
        return Path(configured).expanduser()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in {"", ":memory:"} or database.startswith("file::memory:"):
            return None
        path = Path(database).expanduser()
        return path.with_name(path.name + ".search")
    from platformdirs import user_data_dir

    key = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return Path(user_data_dir("trialscout")) / "search-index" / key


def builds_index(settings: Settings, *, web: bool = False) -> bool:
    """Whether a process may build the search index itself (``search_index_role``).

    ``auto`` lets every process build except web workers of a shared deployment (a
    PostgreSQL store, or several workers, with a saved index): those only open what
    ``trialscout index`` published, so a busy node never builds a whole index in a
    worker, and never several at once."""
    role = settings.search_index_role
    if role != "auto":
        return role == "build"
    if not web or index_dir_for(settings) is None:
        return True
    shared = make_url(settings.database_url).get_backend_name() == "postgresql"
    return not (shared or settings.web_workers > 1)
