"""Search bookkeeping: the change generation and per-trial change stamps.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    state = op.create_table(
        "search_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("index_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_state"),
    )
    op.create_table(
        "search_docs",
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("nct_id", name="pk_search_docs"),
    )
    op.create_index("ix_search_docs_generation", "search_docs", ["generation"])
    op.bulk_insert(state, [{"id": 1, "generation": 0, "index_id": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_index("ix_search_docs_generation", table_name="search_docs")
    op.drop_table("search_docs")
    op.drop_table("search_state")
