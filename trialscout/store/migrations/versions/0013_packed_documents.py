"""Documents stored compressed: ``trials.document`` and ``trial_criteria.document`` become
binary.

Both columns now hold the zlib stream of their JSON
(:class:`trialscout.store.packing.PackedDocument`). Rows written before read back as they
are, so nothing is rewritten on upgrade. PostgreSQL changes the columns to ``bytea`` (the
text becomes its UTF-8 bytes). SQLite keeps the declared types: a column of text affinity
stores a BLOB as a BLOB, and rebuilding ``trials`` would delete and re-add every facet,
site and parse row through their cascades.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_TABLES = (("trials", "nct_id"), ("trial_criteria", "nct_id"))
_CHUNK = 1000


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _key in _TABLES:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN document TYPE bytea "
                       "USING convert_to(document, 'UTF8')")


def downgrade() -> None:
    """Back to JSON text (parsed criteria come back as JSON, not the older ``z1:`` form,
    which the older code reads as well)."""
    from trialscout.store.packing import unpack_document

    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for name, key in _TABLES:
        packed = sa.table(name, sa.column(key, sa.String()),
                          sa.column("document", sa.LargeBinary()))
        target_column = "document_text" if postgres else "document"
        target = sa.table(name, sa.column(key, sa.String()), sa.column(target_column, sa.Text()))
        if postgres:
            op.add_column(name, sa.Column("document_text", sa.Text(), nullable=True))
        last = ""
        while True:
            rows = bind.execute(sa.select(packed.c[key], packed.c.document)
                                .where(packed.c[key] > last).order_by(packed.c[key])
                                .limit(_CHUNK)).all()
            if not rows:
                break
            for row_key, document in rows:
                bind.execute(sa.update(target).where(target.c[key] == row_key)
                             .values({target_column: unpack_document(document)}))
            last = rows[-1][0]
        if postgres:
            op.drop_column(name, "document")
            op.alter_column(name, "document_text", new_column_name="document",
                            nullable=False)
