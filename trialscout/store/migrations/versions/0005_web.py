"""Anonymous web sessions and their remembered self-check answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("profile", sa.Text()),
        sa.PrimaryKeyConstraint("id_hash", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_last_seen", "web_sessions", ["last_seen"])
    op.create_table(
        "web_session_answers",
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("question_key", sa.String(500), nullable=False),
        sa.Column("answer", sa.String(8), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_hash"], ["web_sessions.id_hash"],
                                name="fk_web_session_answers_session_hash_web_sessions",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_hash", "question_key", name="pk_web_session_answers"),
    )


def downgrade() -> None:
    op.drop_table("web_session_answers")
    op.drop_index("ix_web_sessions_last_seen", table_name="web_sessions")
    op.drop_table("web_sessions")
