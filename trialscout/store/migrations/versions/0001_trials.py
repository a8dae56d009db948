"""Trials, their facets, sites, history, and sync runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trials",
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("brief_title", sa.Text()),
        sa.Column("official_title", sa.Text()),
        sa.Column("acronym", sa.String(200)),
        sa.Column("overall_status", sa.String(40)),
        sa.Column("study_type", sa.String(40)),
        sa.Column("phases", sa.String(80)),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("minimum_age_days", sa.Float()),
        sa.Column("maximum_age_days", sa.Float()),
        sa.Column("healthy_volunteers", sa.Boolean()),
        sa.Column("enrollment_count", sa.Integer()),
        sa.Column("lead_sponsor", sa.Text()),
        sa.Column("has_results", sa.Boolean(), nullable=False),
        sa.Column("has_criteria", sa.Boolean(), nullable=False),
        sa.Column("start_date", sa.String(10)),
        sa.Column("start_sort", sa.Date()),
        sa.Column("last_update", sa.String(10)),
        sa.Column("last_update_sort", sa.Date()),
        sa.Column("first_posted", sa.String(10)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source_format", sa.String(20), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nct_id", name="pk_trials"),
    )
    op.create_index("ix_trials_overall_status", "trials", ["overall_status"])
    op.create_index("ix_trials_last_update_sort", "trials", ["last_update_sort"])
    op.create_table(
        "trial_facets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_norm", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["nct_id"], ["trials.nct_id"], ondelete="CASCADE",
                                name="fk_trial_facets_nct_id_trials"),
        sa.PrimaryKeyConstraint("id", name="pk_trial_facets"),
    )
    op.create_index("ix_trial_facets_nct_id", "trial_facets", ["nct_id"])
    op.create_index("ix_trial_facets_field_norm", "trial_facets", ["field", "value_norm"])
    op.create_table(
        "trial_sites",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("facility", sa.Text()),
        sa.Column("status", sa.String(40)),
        sa.Column("city", sa.Text()),
        sa.Column("state", sa.Text()),
        sa.Column("zip", sa.String(20)),
        sa.Column("country", sa.Text()),
        sa.Column("lat", sa.Float()),
        sa.Column("lon", sa.Float()),
        sa.ForeignKeyConstraint(["nct_id"], ["trials.nct_id"], ondelete="CASCADE",
                                name="fk_trial_sites_nct_id_trials"),
        sa.PrimaryKeyConstraint("id", name="pk_trial_sites"),
    )
    op.create_index("ix_trial_sites_nct_id", "trial_sites", ["nct_id"])
    op.create_table(
        "trial_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("last_update", sa.String(10)),
        sa.Column("change", sa.String(10), nullable=False),
        sa.Column("source", sa.Text()),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trial_history"),
    )
    op.create_index("ix_trial_history_nct_id", "trial_history", ["nct_id"])
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("query_key", sa.String(64), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("since", sa.String(10)),
        sa.Column("page_token", sa.Text()),
        sa.Column("pages_done", sa.Integer(), nullable=False),
        sa.Column("studies_seen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_sync_runs"),
    )
    op.create_index("ix_sync_runs_query_key", "sync_runs", ["query_key"])


def downgrade() -> None:
    op.drop_table("sync_runs")
    op.drop_table("trial_history")
    op.drop_table("trial_sites")
    op.drop_table("trial_facets")
    op.drop_table("trials")
