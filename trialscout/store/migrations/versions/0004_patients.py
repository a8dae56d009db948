"""Patients, their versioned profiles, and saved match results.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
    )
    op.create_table(
        "patient_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], ondelete="CASCADE",
                                name="fk_patient_versions_patient_id_patients"),
        sa.PrimaryKeyConstraint("id", name="pk_patient_versions"),
        sa.UniqueConstraint("patient_id", "version",
                            name="uq_patient_versions_patient_id_version"),
    )
    op.create_index("ix_patient_versions_patient_id", "patient_versions", ["patient_id"])
    op.create_table(
        "patient_matches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("reference_date", sa.Date(), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], ondelete="CASCADE",
                                name="fk_patient_matches_patient_id_patients"),
        sa.PrimaryKeyConstraint("id", name="pk_patient_matches"),
    )
    op.create_index("ix_patient_matches_patient_version", "patient_matches",
                    ["patient_id", "version"])


def downgrade() -> None:
    op.drop_index("ix_patient_matches_patient_version", table_name="patient_matches")
    op.drop_table("patient_matches")
    op.drop_index("ix_patient_versions_patient_id", table_name="patient_versions")
    op.drop_table("patient_versions")
    op.drop_table("patients")
