"""Tables of parsed criteria: one document per trial, and one row per question asked.

``trial_criteria`` keeps the parsed document (zlib-compressed JSON) with the parser
version that produced it, so rows from an older parser can be found and parsed again.
``trial_criterion_questions`` indexes every item's normalized question key, so the
trials that ask a question (and the answer that satisfies each) are one indexed lookup
away.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from trialscout.store.packing import PackedDocument
from trialscout.store.tables import Base


class TrialCriteriaRow(Base):
    __tablename__ = "trial_criteria"

    nct_id: Mapped[str] = mapped_column(
        String(11), ForeignKey("trials.nct_id", ondelete="CASCADE"), primary_key=True)
    parser_version: Mapped[str] = mapped_column(String(20), index=True)
    text_hash: Mapped[str] = mapped_column(String(64))
    item_count: Mapped[int] = mapped_column(Integer)
    other_count: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(PackedDocument)
    parsed_at: Mapped[datetime] = mapped_column(DateTime)


class TrialCriterionQuestionRow(Base):
    __tablename__ = "trial_criterion_questions"
    __table_args__ = (Index("ix_trial_criterion_questions_key", "question_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nct_id: Mapped[str] = mapped_column(
        String(11), ForeignKey("trials.nct_id", ondelete="CASCADE"), index=True)
    item_index: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(24))
    question_key: Mapped[str] = mapped_column(String(400))
    meets: Mapped[str] = mapped_column(String(3))
    answerable: Mapped[bool] = mapped_column(Boolean)
