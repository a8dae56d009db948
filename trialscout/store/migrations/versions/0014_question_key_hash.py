"""Question rows keep a 64-bit hash of their key instead of the key text.

``trial_criterion_questions`` had the key text and an index on it: about a sixth of a
registry-sized store. ``trials_asking`` only looks rows up by key, and the key is in the
parsed document, so the rows now carry ``key_hash`` (``criteria.tables.question_key_hash``)
with an index on it. Existing rows are hashed in place.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_TABLE = "trial_criterion_questions"
_CHUNK = 5000


def _key_hash(key: str) -> int:
    """The same hash as ``criteria.tables.question_key_hash``, frozen here as migrations are."""
    import hashlib

    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column(_TABLE, sa.Column("key_hash", sa.BigInteger(), nullable=True))
    table = sa.table(_TABLE, sa.column("id", sa.Integer()),
                     sa.column("question_key", sa.String()),
                     sa.column("key_hash", sa.BigInteger()))
    last = 0
    while True:
        rows = bind.execute(sa.select(table.c.id, table.c.question_key)
                            .where(table.c.id > last).order_by(table.c.id)
                            .limit(_CHUNK)).all()
        if not rows:
            break
        bind.execute(sa.update(table).where(table.c.id == sa.bindparam("row_id"))
                     .values(key_hash=sa.bindparam("hash")),
                     [{"row_id": row_id, "hash": _key_hash(key)} for row_id, key in rows])
        last = rows[-1][0]
    op.drop_index("ix_trial_criterion_questions_key", table_name=_TABLE)
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_column("question_key")
        batch.alter_column("key_hash", existing_type=sa.BigInteger(), nullable=False)
    op.create_index("ix_trial_criterion_questions_key_hash", _TABLE, ["key_hash"])


def downgrade() -> None:
    """The key text cannot come back from its hash: the question rows and the parses they
    came from are dropped (derived data; ``trialscout criteria reparse`` rebuilds them)."""
    op.execute(f"DELETE FROM {_TABLE}")
    op.execute("DELETE FROM trial_criteria")
    op.drop_index("ix_trial_criterion_questions_key_hash", table_name=_TABLE)
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_column("key_hash")
        batch.add_column(sa.Column("question_key", sa.String(400), nullable=False,
                                   server_default=""))
    with op.batch_alter_table(_TABLE) as batch:
        batch.alter_column("question_key", existing_type=sa.String(400), server_default=None)
    op.create_index("ix_trial_criterion_questions_key", _TABLE, ["question_key"])
