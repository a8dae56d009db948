"""Tables of anonymous sessions. Rows are keyed by the hash of the session id, never the id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

import trialscout.accounts.tables  # the account a signed-in session belongs to
import trialscout.patients.tables  # noqa: F401 - the patients table a session links to
from trialscout.sessions.models import QUESTION_KEY_MAX
from trialscout.store.tables import Base


class WebSessionRow(Base):
    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime, index=True)
    profile: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("accounts.id", ondelete="CASCADE"), index=True)


class SessionAnswerRow(Base):
    """One remembered self-check answer, for one normalized question key."""

    __tablename__ = "web_session_answers"

    session_hash: Mapped[str] = mapped_column(
        String(64), ForeignKey("web_sessions.id_hash", ondelete="CASCADE"), primary_key=True)
    question_key: Mapped[str] = mapped_column(String(QUESTION_KEY_MAX), primary_key=True)
    answer: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class SessionPatientRow(Base):
    """The patient record (medical history) a session's visitor uploaded: at most one each.

    The record belongs to the session: it is deleted with the session, when it expires, and
    when the visitor deletes their profile.
    """

    __tablename__ = "web_session_patients"

    session_hash: Mapped[str] = mapped_column(
        String(64), ForeignKey("web_sessions.id_hash", ondelete="CASCADE"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("patients.id", ondelete="CASCADE"), unique=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime)
