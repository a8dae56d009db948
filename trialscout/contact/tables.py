"""Tables of inquiries to study teams, coordinator claims and the read audit log.

An inquiry belongs to an ``owner`` (``"session:<hash>"`` or ``"account:<id>"``, the
accounts convention); every query for a patient filters on it. ``public_id`` is the
random id pages use, so inquiry numbers cannot be walked. Secrets (claim links,
recipient links, one-time codes) are stored only as SHA-256 hashes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trialscout.accounts.owners import register_account_table, register_owned_table
from trialscout.store.tables import Base


class InquiryRow(Base):
    __tablename__ = "contact_inquiries"
    __table_args__ = (
        Index("ix_contact_inquiries_owner_created", "owner", "created_at"),
        Index("ix_contact_inquiries_nct_site", "nct_id", "site_key"),
        Index("ix_contact_inquiries_client_created", "client_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    nct_id: Mapped[str] = mapped_column(String(11))
    site_key: Mapped[str] = mapped_column(String(16))
    site_label: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(80))
    client_hash: Mapped[str] = mapped_column(String(64))
    shared: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(10))
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    email_health_data: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class InquiryEventRow(Base):
    """One status change of an inquiry, with who made it and an optional note."""

    __tablename__ = "contact_inquiry_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inquiry_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("contact_inquiries.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ClaimRow(Base):
    """A coordinator's claim on a trial: one site (``site_key``) or all sites (``"*"``)."""

    __tablename__ = "coordinator_claims"
    __table_args__ = (Index("ix_coordinator_claims_nct_site", "nct_id", "site_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    nct_id: Mapped[str] = mapped_column(String(11))
    site_key: Mapped[str] = mapped_column(String(16))
    via: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ClaimLinkRow(Base):
    """A claim link emailed to a contact address on the registry record."""

    __tablename__ = "coordinator_claim_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    nct_id: Mapped[str] = mapped_column(String(11))
    site_key: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class AttemptRow(Base):
    """A failed secret check (claim link, recipient code), for lockouts: who and when."""

    __tablename__ = "contact_failed_attempts"
    __table_args__ = (Index("ix_contact_failed_attempts_who_at", "who", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    who: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(DateTime)


class RecipientAccessRow(Base):
    """The secure link in an inquiry email, and the one-time code that unlocks it."""

    __tablename__ = "contact_recipient_access"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inquiry_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("contact_inquiries.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    verified_session: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AuditRow(Base):
    """Every read of an inquiry by someone other than its patient: who, what, when."""

    __tablename__ = "contact_audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(40))
    inquiry_id: Mapped[str | None] = mapped_column(String(32), index=True)
    nct_id: Mapped[str | None] = mapped_column(String(11))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)


register_owned_table("contact_inquiries")
register_account_table(ClaimRow.__tablename__)  # deleted with the coordinator's account
register_account_table(ClaimLinkRow.__tablename__)
