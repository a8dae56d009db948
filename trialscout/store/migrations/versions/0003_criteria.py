"""Parsed eligibility criteria per trial, and the questions each trial's items ask.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trial_criteria",
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("parser_version", sa.String(20), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("other_count", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("parsed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["nct_id"], ["trials.nct_id"], ondelete="CASCADE",
                                name="fk_trial_criteria_nct_id_trials"),
        sa.PrimaryKeyConstraint("nct_id", name="pk_trial_criteria"),
    )
    op.create_index("ix_trial_criteria_parser_version", "trial_criteria", ["parser_version"])
    op.create_table(
        "trial_criterion_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("item_index", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("question_key", sa.String(400), nullable=False),
        sa.Column("meets", sa.String(3), nullable=False),
        sa.Column("answerable", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["nct_id"], ["trials.nct_id"], ondelete="CASCADE",
                                name="fk_trial_criterion_questions_nct_id_trials"),
        sa.PrimaryKeyConstraint("id", name="pk_trial_criterion_questions"),
    )
    op.create_index("ix_trial_criterion_questions_nct_id", "trial_criterion_questions",
                    ["nct_id"])
    op.create_index("ix_trial_criterion_questions_key", "trial_criterion_questions",
                    ["question_key"])


def downgrade() -> None:
    op.drop_index("ix_trial_criterion_questions_key", table_name="trial_criterion_questions")
    op.drop_index("ix_trial_criterion_questions_nct_id", table_name="trial_criterion_questions")
    op.drop_table("trial_criterion_questions")
    op.drop_index("ix_trial_criteria_parser_version", table_name="trial_criteria")
    op.drop_table("trial_criteria")
