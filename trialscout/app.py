"""The application object: settings in, engine and services out, nothing at import time.

CLI commands and web routes receive a :class:`TrialScout` and call its methods; they never
build engines or read settings themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from trialscout.registry.importer import ImportReport, WriteHook, import_items
from trialscout.registry.model import Trial
from trialscout.registry.sources import iter_path
from trialscout.settings import Settings, load_settings
from trialscout.store import database, trials


class TrialScout:
    """One configured TrialScout: a store plus the services built on it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self.write_hooks: list[WriteHook] = []

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = database.make_engine(self.settings.database_url)
        return self._engine

    def migrate(self) -> None:
        database.upgrade(self.engine)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def import_paths(self, paths: Iterable[Path], on_item: Callable[[], None] | None = None
                     ) -> ImportReport:
        def items() -> Iterable[Any]:
            for path in paths:
                yield from iter_path(Path(path))

        return import_items(self.engine, items(), batch_size=self.settings.import_batch_size,
                            hooks=self.write_hooks, on_item=on_item)

    def trial(self, nct_id: str) -> Trial | None:
        with self.engine.connect() as conn:
            return trials.load_trial(conn, nct_id)

    def trial_count(self) -> int:
        with self.engine.connect() as conn:
            return trials.count_trials(conn)

    def connect(self) -> Connection:
        return self.engine.connect()


def create_app(settings: Settings | None = None, *, migrate: bool = True,
               **overrides: Any) -> TrialScout:
    """Build an app from settings (or from the environment plus ``overrides``)."""
    app = TrialScout(settings or load_settings(overrides))
    if migrate:
        app.migrate()
    return app
