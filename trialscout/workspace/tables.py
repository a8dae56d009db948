"""Tables of the workspace: notes, share links (with their passcode attempts), shortlist.

Rows belong to an ``owner`` key (``session:<hash>`` or ``account:<id>``, built by
``accounts.owners.owner_for``), never to a raw session id. Each table is registered there,
so its rows move into an account on sign-in and are deleted with their owner. Share links
keep only the SHA-256 of their token and the argon2id hash of their passcode.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trialscout.accounts.owners import OWNER_MAX, register_owned_table
from trialscout.store.tables import Base


class NoteRow(Base):
    """A private note on a trial, optionally on a passage of its page (quote + anchor)."""

    __tablename__ = "workspace_notes"
    __table_args__ = (Index("ix_workspace_notes_owner_trial", "owner", "nct_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(OWNER_MAX))
    nct_id: Mapped[str] = mapped_column(String(11))
    body: Mapped[str] = mapped_column(Text)
    quote: Mapped[str | None] = mapped_column(Text)
    anchor_section: Mapped[str | None] = mapped_column(String(40))
    anchor_start: Mapped[int | None] = mapped_column(Integer)
    anchor_end: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ShareRow(Base):
    """A passcode share link: what was shared is a snapshot taken when it was created."""

    __tablename__ = "workspace_shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    owner: Mapped[str] = mapped_column(String(OWNER_MAX), index=True)
    nct_id: Mapped[str] = mapped_column(String(11))
    passcode_hash: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class ShareAttemptRow(Base):
    """One passcode attempt on a share link (kept with the link, deleted with it)."""

    __tablename__ = "workspace_share_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    share_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workspace_shares.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(16))


class ShortlistRow(Base):
    """A trial saved to a visitor's shortlist."""

    __tablename__ = "workspace_shortlist"
    __table_args__ = (UniqueConstraint("owner", "nct_id",
                                       name="uq_workspace_shortlist_owner_nct_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(OWNER_MAX))
    nct_id: Mapped[str] = mapped_column(String(11))
    added_at: Mapped[datetime] = mapped_column(DateTime)


# Rows follow their owner into an account on sign-in and are deleted with it (accounts/owners).
register_owned_table(NoteRow.__tablename__)
register_owned_table(ShareRow.__tablename__)
register_owned_table(ShortlistRow.__tablename__, unique_with=("nct_id",), newer="added_at")
