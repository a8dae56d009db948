"""Questions visitors send from guide and trial pages, kept for an admin to answer.

The visitor is identified only by salted hashes of their session (``client_hash``) and
of their network address (``address_hash``), which is all rate limiting needs; the email
is optional and never shown on a public page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trialscout.store.tables import Base


class GuideQuestionRow(Base):
    __tablename__ = "guide_questions"
    __table_args__ = (
        Index("ix_guide_questions_client_created", "client_hash", "created_at"),
        Index("ix_guide_questions_status_created", "status", "created_at"),
        Index("ix_guide_questions_address_created", "address_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guide_slug: Mapped[str | None] = mapped_column(String(80), index=True)
    nct_id: Mapped[str | None] = mapped_column(String(11))
    text: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(254))
    client_hash: Mapped[str] = mapped_column(String(64))
    address_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))
    answer: Mapped[str | None] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
