"""Link an anonymous web session to the patient record its visitor uploaded.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session_patients",
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_hash"], ["web_sessions.id_hash"],
                                name="fk_web_session_patients_session_hash_web_sessions",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name="fk_web_session_patients_patient_id_patients",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_hash", name="pk_web_session_patients"),
        sa.UniqueConstraint("patient_id", name="uq_web_session_patients_patient_id"),
    )


def downgrade() -> None:
    op.drop_table("web_session_patients")
