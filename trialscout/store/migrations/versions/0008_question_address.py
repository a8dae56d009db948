"""Rate-limit guide questions per client address too: a salted hash of the address.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("guide_questions") as batch:
        batch.add_column(sa.Column("address_hash", sa.String(64), nullable=True))
    op.create_index("ix_guide_questions_address_created", "guide_questions",
                    ["address_hash", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_guide_questions_address_created", table_name="guide_questions")
    with op.batch_alter_table("guide_questions") as batch:
        batch.drop_column("address_hash")
