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
