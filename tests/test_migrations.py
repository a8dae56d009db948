"""Alembic migrations build exactly the schema the table definitions describe."""

from __future__ import annotations

import importlib
import pkgutil

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import trialscout
from trialscout.app import TrialScout, create_app
from trialscout.store import database
from trialscout.store.tables import Base


def _load_every_table_module() -> None:
    for info in pkgutil.walk_packages(trialscout.__path__, "trialscout."):
        if info.name.endswith(".tables"):
            importlib.import_module(info.name)


def test_migrated_schema_matches_table_definitions(backend_app: TrialScout) -> None:
    _load_every_table_module()
    with backend_app.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert database.current_revision(backend_app.engine) == database.head_revision()


def test_downgrade_to_base_and_up_again(tmp_path) -> None:
    from alembic import command

    app = create_app(database_url=f"sqlite:///{tmp_path / 's.db'}")
    config = database.alembic_config()
    with app.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(app.engine).get_table_names()) <= {"alembic_version"}
    app.migrate()
    assert "trials" in inspect(app.engine).get_table_names()
    app.close()
