"""Tables of anonymous sessions. Rows are keyed by the hash of the session id, never the id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trialscout.sessions.models import QUESTION_KEY_MAX
from trialscout.store.tables import Base


class WebSessionRow(Base):
    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime, index=True)
    profile: Mapped[str | None] = mapped_column(Text)


class SessionAnswerRow(Base):
    """One remembered self-check answer, for one normalized question key."""

    __tablename__ = "web_session_answers"

    session_hash: Mapped[str] = mapped_column(
        String(64), ForeignKey("web_sessions.id_hash", ondelete="CASCADE"), primary_key=True)
    question_key: Mapped[str] = mapped_column(String(QUESTION_KEY_MAX), primary_key=True)
    answer: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
