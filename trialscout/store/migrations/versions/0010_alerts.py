"""Outgoing mail (outbox, suppressed addresses), saved searches and their alerts.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("stage", sa.String(12)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_at", sa.DateTime()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_mail_outbox"),
        sa.UniqueConstraint("message_id", name="uq_mail_outbox_message_id"),
    )
    op.create_index("ix_mail_outbox_recipient", "mail_outbox", ["recipient"])
    op.create_index("ix_mail_outbox_state_due", "mail_outbox", ["state", "next_attempt_at"])
    op.create_table(
        "mail_suppressions",
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("code", sa.Integer()),
        sa.Column("reason", sa.Text()),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("address", name="pk_mail_suppressions"),
    )
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("delivery", sa.String(10), nullable=False),
        sa.Column("origin_lat", sa.Float()),
        sa.Column("origin_lon", sa.Float()),
        sa.Column("radius_km", sa.Float()),
        sa.Column("feed_token", sa.String(64), nullable=False),
        sa.Column("unsubscribe_token", sa.String(64), nullable=False),
        sa.Column("source", sa.String(220)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_saved_searches"),
        sa.UniqueConstraint("feed_token", name="uq_saved_searches_feed_token"),
        sa.UniqueConstraint("unsubscribe_token", name="uq_saved_searches_unsubscribe_token"),
    )
    op.create_index("ix_saved_searches_owner", "saved_searches", ["owner"])
    op.create_index("ix_saved_searches_source", "saved_searches", ["source"])
    op.create_table(
        "alert_trial_state",
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("status", sa.String(40)),
        sa.Column("criteria_hash", sa.String(64)),
        sa.Column("site_keys", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("nct_id", name="pk_alert_trial_state"),
    )
    op.create_table(
        "alert_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_changes"),
    )
    op.create_index("ix_alert_changes_nct_id", "alert_changes", ["nct_id"])
    op.create_index("ix_alert_changes_processed", "alert_changes", ["processed"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("saved_search_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("message_id", sa.String(255)),
        sa.Column("emailed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["saved_search_id"], ["saved_searches.id"], ondelete="CASCADE",
                                name="fk_alerts_saved_search_id_saved_searches"),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("saved_search_id", "change_id", name="uq_alerts_search_change"),
    )
    op.create_index("ix_alerts_search_id", "alerts", ["saved_search_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_alerts_search_id", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_alert_changes_processed", table_name="alert_changes")
    op.drop_index("ix_alert_changes_nct_id", table_name="alert_changes")
    op.drop_table("alert_changes")
    op.drop_table("alert_trial_state")
    op.drop_index("ix_saved_searches_source", table_name="saved_searches")
    op.drop_index("ix_saved_searches_owner", table_name="saved_searches")
    op.drop_table("saved_searches")
    op.drop_table("mail_suppressions")
    op.drop_index("ix_mail_outbox_state_due", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_recipient", table_name="mail_outbox")
    op.drop_table("mail_outbox")
