"""Contact the study team: inquiries and their status history, coordinator claims and
claim links, emailed-link access, failed attempts, and the read audit log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_inquiries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("site_key", sa.String(16), nullable=False),
        sa.Column("site_label", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("client_hash", sa.String(64), nullable=False),
        sa.Column("shared", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("route", sa.String(10), nullable=False),
        sa.Column("recipient_email", sa.String(254)),
        sa.Column("email_health_data", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_inquiries"),
        sa.UniqueConstraint("public_id", name="uq_contact_inquiries_public_id"),
    )
    op.create_index("ix_contact_inquiries_owner_created", "contact_inquiries",
                    ["owner", "created_at"])
    op.create_index("ix_contact_inquiries_nct_site", "contact_inquiries", ["nct_id", "site_key"])
    op.create_index("ix_contact_inquiries_client_created", "contact_inquiries",
                    ["client_hash", "created_at"])
    op.create_index("ix_contact_inquiries_created_at", "contact_inquiries", ["created_at"])
    op.create_table(
        "contact_inquiry_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["inquiry_id"], ["contact_inquiries.id"], ondelete="CASCADE",
                                name="fk_contact_inquiry_events_inquiry_id_contact_inquiries"),
        sa.PrimaryKeyConstraint("id", name="pk_contact_inquiry_events"),
    )
    op.create_index("ix_contact_inquiry_events_inquiry_id", "contact_inquiry_events",
                    ["inquiry_id"])
    op.create_table(
        "coordinator_claims",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("site_key", sa.String(16), nullable=False),
        sa.Column("via", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_coordinator_claims"),
    )
    op.create_index("ix_coordinator_claims_account_id", "coordinator_claims", ["account_id"])
    op.create_index("ix_coordinator_claims_nct_site", "coordinator_claims",
                    ["nct_id", "site_key"])
    op.create_table(
        "coordinator_claim_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("site_key", sa.String(16), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_coordinator_claim_links"),
        sa.UniqueConstraint("token_hash", name="uq_coordinator_claim_links_token_hash"),
    )
    op.create_index("ix_coordinator_claim_links_account_id", "coordinator_claim_links",
                    ["account_id"])
    op.create_table(
        "contact_failed_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("who", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_failed_attempts"),
    )
    op.create_index("ix_contact_failed_attempts_who_at", "contact_failed_attempts",
                    ["who", "at"])
    op.create_table(
        "contact_recipient_access",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("code_hash", sa.String(64)),
        sa.Column("code_expires_at", sa.DateTime()),
        sa.Column("verified_session", sa.String(64)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["inquiry_id"], ["contact_inquiries.id"], ondelete="CASCADE",
                                name="fk_contact_recipient_access_inquiry_id_contact_inquiries"),
        sa.PrimaryKeyConstraint("id", name="pk_contact_recipient_access"),
        sa.UniqueConstraint("token_hash", name="uq_contact_recipient_access_token_hash"),
    )
    op.create_index("ix_contact_recipient_access_inquiry_id", "contact_recipient_access",
                    ["inquiry_id"])
    op.create_table(
        "contact_audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("inquiry_id", sa.String(32)),
        sa.Column("nct_id", sa.String(11)),
        sa.Column("detail", sa.Text()),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_audit_log"),
    )
    op.create_index("ix_contact_audit_log_actor", "contact_audit_log", ["actor"])
    op.create_index("ix_contact_audit_log_inquiry_id", "contact_audit_log", ["inquiry_id"])
    op.create_index("ix_contact_audit_log_at", "contact_audit_log", ["at"])


def downgrade() -> None:
    for name in ("contact_audit_log", "contact_recipient_access", "contact_failed_attempts",
                 "coordinator_claim_links", "coordinator_claims", "contact_inquiry_events",
                 "contact_inquiries"):
        op.drop_table(name)
