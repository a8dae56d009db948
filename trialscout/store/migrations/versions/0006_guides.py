"""Guide questions from visitors, and the cache of LLM-written trial summaries.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guide_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guide_slug", sa.String(80)),
        sa.Column("nct_id", sa.String(11)),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("client_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("answer", sa.Text()),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_guide_questions"),
    )
    op.create_index("ix_guide_questions_guide_slug", "guide_questions", ["guide_slug"])
    op.create_index("ix_guide_questions_client_created", "guide_questions",
                    ["client_hash", "created_at"])
    op.create_index("ix_guide_questions_status_created", "guide_questions",
                    ["status", "created_at"])
    op.create_table(
        "trial_summaries",
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("prompt_version", sa.Integer(), nullable=False),
        sa.Column("backend", sa.String(10), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["nct_id"], ["trials.nct_id"], ondelete="CASCADE",
                                name="fk_trial_summaries_nct_id_trials"),
        sa.PrimaryKeyConstraint("nct_id", name="pk_trial_summaries"),
    )


def downgrade() -> None:
    op.drop_table("trial_summaries")
    op.drop_index("ix_guide_questions_status_created", table_name="guide_questions")
    op.drop_index("ix_guide_questions_client_created", table_name="guide_questions")
    op.drop_index("ix_guide_questions_guide_slug", table_name="guide_questions")
    op.drop_table("guide_questions")
