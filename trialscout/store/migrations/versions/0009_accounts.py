"""Accounts, their one-time links, sign-in failure counters, the link from a web session to
its account, and the volunteer registry.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("home_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("email", name="uq_accounts_email"),
        sa.UniqueConstraint("home_hash", name="uq_accounts_home_hash"),
    )
    op.create_table(
        "account_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name="fk_account_tokens_account_id_accounts",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_account_tokens"),
    )
    op.create_index("ix_account_tokens_account_id", "account_tokens", ["account_id"])
    op.create_table(
        "login_failures",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_hash", name="pk_login_failures"),
    )
    op.create_index("ix_login_failures_last_failed_at", "login_failures", ["last_failed_at"])
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_web_sessions_account_id_accounts", "accounts",
                                 ["account_id"], ["id"], ondelete="CASCADE")
        batch.create_index("ix_web_sessions_account_id", ["account_id"])
    op.create_table(
        "volunteers",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("area", sa.String(200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("radius_km", sa.Float(), nullable=False),
        sa.Column("age", sa.Float(), nullable=True),
        sa.Column("sex", sa.String(8), nullable=True),
        sa.Column("healthy", sa.Boolean(), nullable=False),
        sa.Column("consent_version", sa.String(32), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name="fk_volunteers_account_id_accounts", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", name="pk_volunteers"),
    )
    op.create_index("ix_volunteers_area", "volunteers", ["area"])
    op.create_table(
        "volunteer_categories",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["volunteers.account_id"],
                                name="fk_volunteer_categories_account_id_volunteers",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "kind", "value", name="pk_volunteer_categories"),
    )
    op.create_table(
        "volunteer_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("action", sa.String(12), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name="fk_volunteer_consents_account_id_accounts",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_volunteer_consents"),
    )
    op.create_index("ix_volunteer_consents_account_id", "volunteer_consents", ["account_id"])


def downgrade() -> None:
    op.drop_table("volunteer_consents")
    op.drop_table("volunteer_categories")
    op.drop_table("volunteers")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_index("ix_web_sessions_account_id")
        batch.drop_constraint("fk_web_sessions_account_id_accounts", type_="foreignkey")
        batch.drop_column("account_id")
    op.drop_table("login_failures")
    op.drop_table("account_tokens")
    op.drop_table("accounts")
