"""Alerts follow their saved search through a delete trigger, not a foreign key.

The foreign key ``alerts.saved_search_id -> saved_searches.id`` checked every alert row as
it was inserted; on PostgreSQL that check was about 40% of the server's time for a heavy
day (2.7 million alerts). What the key gave, deleting a saved search's alerts with it, is
now a trigger on ``saved_searches`` (one statement per delete on PostgreSQL, through its
transition table; one per row on SQLite). That alerts are only written for saved searches
that exist is checked once per search by the writer (``alerts/writer.py``). Alerts whose
search is already gone are deleted on the way up.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_FK = "fk_alerts_saved_search_id_saved_searches"
_TRIGGER = "tr_saved_searches_delete_alerts"
_FUNCTION = "saved_searches_delete_alerts"


def upgrade() -> None:
    op.execute("DELETE FROM alerts WHERE saved_search_id NOT IN (SELECT id FROM saved_searches)")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(_FK, "alerts", type_="foreignkey")
        op.execute(f"""
            CREATE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                EXECUTE format('DELETE FROM %I.alerts WHERE saved_search_id IN '
                               '(SELECT id FROM gone)', TG_TABLE_SCHEMA);
                RETURN NULL;
            END $$""")
        op.execute(f"CREATE TRIGGER {_TRIGGER} AFTER DELETE ON saved_searches "
                   f"REFERENCING OLD TABLE AS gone FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION {_FUNCTION}()")
        return
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint(_FK, type_="foreignkey")
    op.execute(f"CREATE TRIGGER {_TRIGGER} AFTER DELETE ON saved_searches FOR EACH ROW "
               "BEGIN DELETE FROM alerts WHERE saved_search_id = OLD.id; END")


def downgrade() -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}" + (
        " ON saved_searches" if op.get_bind().dialect.name == "postgresql" else ""))
    op.execute("DELETE FROM alerts WHERE saved_search_id NOT IN (SELECT id FROM saved_searches)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")
        op.create_foreign_key(_FK, "alerts", "saved_searches", ["saved_search_id"], ["id"],
                              ondelete="CASCADE")
        return
    with op.batch_alter_table("alerts") as batch:
        batch.create_foreign_key(_FK, "saved_searches", ["saved_search_id"], ["id"],
                                 ondelete="CASCADE")
