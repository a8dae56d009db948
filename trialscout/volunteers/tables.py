"""Tables of the volunteer registry.

A registration belongs to one account (deleted with it). Its categories are browse-list
conditions and free terms. Every consent given or withdrawn is a row of
``volunteer_consents`` (who, when, which text version, what); withdrawing deletes the
registration and its categories at once, so the person is in no list any more, and keeps
only the record that they withdrew.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

import trialscout.accounts.tables  # noqa: F401 - registrations belong to accounts
from trialscout.store.tables import Base

CATEGORY_MAX = 200
PLACE_MAX = 200


class VolunteerRow(Base):
    __tablename__ = "volunteers"

    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    place: Mapped[str] = mapped_column(String(PLACE_MAX))
    area: Mapped[str] = mapped_column(String(PLACE_MAX), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    radius_km: Mapped[float] = mapped_column(Float)
    age: Mapped[float | None] = mapped_column(Float)
    sex: Mapped[str | None] = mapped_column(String(8))
    healthy: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_version: Mapped[str] = mapped_column(String(32))
    registered_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class VolunteerCategoryRow(Base):
    """One category of a registration: a browse-list condition or a free term."""

    __tablename__ = "volunteer_categories"

    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("volunteers.account_id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    value: Mapped[str] = mapped_column(String(CATEGORY_MAX), primary_key=True)


class VolunteerConsentRow(Base):
    """A consent given or withdrawn: who, when, which version of the text."""

    __tablename__ = "volunteer_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(DateTime)
