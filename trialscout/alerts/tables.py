"""Saved searches, trial snapshots, recorded changes and alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trialscout.accounts.owners import OWNER_MAX, register_owned_table
from trialscout.store.tables import Base


class SavedSearchRow(Base):
    """A search (its request JSON) someone wants to hear about. ``feed_token`` and
    ``unsubscribe_token`` are random and unguessable: the feed and one-click unsubscribe
    URLs work without a session. ``delivery``: immediate, daily, weekly or none (feed only).
    ``source``: null for a search someone saved, ``volunteer:<kind>:<value>`` for one kept
    in line with the volunteer registry (``alerts/volunteers.py``).
    """

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(OWNER_MAX), index=True)
    name: Mapped[str] = mapped_column(String(200))
    request: Mapped[str] = mapped_column(Text)
    delivery: Mapped[str] = mapped_column(String(10))
    origin_lat: Mapped[float | None] = mapped_column(Float)
    origin_lon: Mapped[float | None] = mapped_column(Float)
    radius_km: Mapped[float | None] = mapped_column(Float)
    feed_token: Mapped[str] = mapped_column(String(64), unique=True)
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str | None] = mapped_column(String(220), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class TrialSnapshotRow(Base):
    """What alerts compare a changed trial with: its status, criteria and sites last seen."""

    __tablename__ = "alert_trial_state"

    nct_id: Mapped[str] = mapped_column(String(11), primary_key=True)
    status: Mapped[str | None] = mapped_column(String(40))
    criteria_hash: Mapped[str | None] = mapped_column(String(64))
    site_keys: Mapped[str] = mapped_column(Text)


class TrialChangeRow(Base):
    """One change that matters to alerts. ``kind``: new, recruiting, new_site, eligibility;
    ``detail`` (JSON) holds the new sites of a new_site change."""

    __tablename__ = "alert_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nct_id: Mapped[str] = mapped_column(String(11), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    processed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class AlertRow(Base):
    """One change for one saved search, composed once (unique pair). ``message_id`` is the
    outbox message that carried it (null: not emailed yet or feed only). ``change_id`` has
    no foreign key: the check cost a third of the PostgreSQL insert time, and changes are
    pruned only when no alert refers to them."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("saved_search_id", "change_id", name="uq_alerts_search_change"),
        Index("ix_alerts_search_id", "saved_search_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    saved_search_id: Mapped[int] = mapped_column(Integer)
    change_id: Mapped[int] = mapped_column(Integer)
    nct_id: Mapped[str] = mapped_column(String(11))
    kind: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    message_id: Mapped[str | None] = mapped_column(String(255))
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)


register_owned_table("saved_searches")
