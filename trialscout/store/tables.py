"""Table definitions. Alembic migrations, not ``create_all``, bring a database to this shape.

Queryable fields are columns; the full normalized trial lives in ``document`` (JSON, stored
zlib-compressed by :class:`~trialscout.store.packing.PackedDocument`) and
the untouched source record in ``raw`` (zlib), so new fields can be derived without a new
download.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from trialscout.store.packing import PackedDocument

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TrialRow(Base):
    __tablename__ = "trials"

    nct_id: Mapped[str] = mapped_column(String(11), primary_key=True)
    brief_title: Mapped[str | None] = mapped_column(Text)
    official_title: Mapped[str | None] = mapped_column(Text)
    acronym: Mapped[str | None] = mapped_column(String(200))
    overall_status: Mapped[str | None] = mapped_column(String(40), index=True)
    study_type: Mapped[str | None] = mapped_column(String(40))
    phases: Mapped[str | None] = mapped_column(String(80))
    sex: Mapped[str] = mapped_column(String(10), default="ALL")
    minimum_age_days: Mapped[float | None] = mapped_column(Float)
    maximum_age_days: Mapped[float | None] = mapped_column(Float)
    healthy_volunteers: Mapped[bool | None] = mapped_column(Boolean)
    enrollment_count: Mapped[int | None] = mapped_column(Integer)
    lead_sponsor: Mapped[str | None] = mapped_column(Text)
    has_results: Mapped[bool] = mapped_column(Boolean, default=False)
    has_criteria: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[str | None] = mapped_column(String(10))
    start_sort: Mapped[date | None] = mapped_column(Date)
    last_update: Mapped[str | None] = mapped_column(String(10))
    last_update_sort: Mapped[date | None] = mapped_column(Date, index=True)
    first_posted: Mapped[str | None] = mapped_column(String(10))
    content_hash: Mapped[str] = mapped_column(String(64))
    source_format: Mapped[str] = mapped_column(String(20))
    document: Mapped[str] = mapped_column(PackedDocument)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class TrialFacetRow(Base):
    """One (field, value) of a trial: phase, condition, intervention, country, sponsor, ..."""

    __tablename__ = "trial_facets"
    __table_args__ = (Index("ix_trial_facets_field_norm", "field", "value_norm"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nct_id: Mapped[str] = mapped_column(
        String(11), ForeignKey("trials.nct_id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    value_norm: Mapped[str] = mapped_column(Text)


class TrialSiteRow(Base):
    __tablename__ = "trial_sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nct_id: Mapped[str] = mapped_column(
        String(11), ForeignKey("trials.nct_id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    facility: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    zip: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class TrialHistoryRow(Base):
    """Every version of a trial the store has seen: its content hash and update date."""

    __tablename__ = "trial_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nct_id: Mapped[str] = mapped_column(String(11), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    last_update: Mapped[str | None] = mapped_column(String(10))
    change: Mapped[str] = mapped_column(String(10))
    source: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)


class SyncRunRow(Base):
    """One `trialscout sync` run; its page token is saved after each committed page."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    query_key: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[str] = mapped_column(Text)
    since: Mapped[str | None] = mapped_column(String(10))
    page_token: Mapped[str | None] = mapped_column(Text)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    studies_seen: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12))
    last_error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
