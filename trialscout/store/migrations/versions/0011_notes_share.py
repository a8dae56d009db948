"""Workspace: private notes, passcode share links with their attempts, shortlist.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_notes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("anchor_section", sa.String(40), nullable=True),
        sa.Column("anchor_start", sa.Integer(), nullable=True),
        sa.Column("anchor_end", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workspace_notes"))
    op.create_index("ix_workspace_notes_owner_trial", "workspace_notes", ["owner", "nct_id"])
    op.create_table(
        "workspace_shares",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("passcode_hash", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_workspace_shares"),
        sa.UniqueConstraint("token_hash", name="uq_workspace_shares_token_hash"))
    op.create_index("ix_workspace_shares_owner", "workspace_shares", ["owner"])
    op.create_index("ix_workspace_shares_expires_at", "workspace_shares", ["expires_at"])
    op.create_table(
        "workspace_share_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["share_id"], ["workspace_shares.id"], ondelete="CASCADE",
                                name="fk_workspace_share_attempts_share_id_workspace_shares"),
        sa.PrimaryKeyConstraint("id", name="pk_workspace_share_attempts"))
    op.create_index("ix_workspace_share_attempts_share_id", "workspace_share_attempts",
                    ["share_id"])
    op.create_table(
        "workspace_shortlist",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workspace_shortlist"),
        sa.UniqueConstraint("owner", "nct_id", name="uq_workspace_shortlist_owner_nct_id"))


def downgrade() -> None:
    op.drop_table("workspace_shortlist")
    op.drop_index("ix_workspace_share_attempts_share_id", table_name="workspace_share_attempts")
    op.drop_table("workspace_share_attempts")
    op.drop_index("ix_workspace_shares_expires_at", table_name="workspace_shares")
    op.drop_index("ix_workspace_shares_owner", table_name="workspace_shares")
    op.drop_table("workspace_shares")
    op.drop_index("ix_workspace_notes_owner_trial", table_name="workspace_notes")
    op.drop_table("workspace_notes")
