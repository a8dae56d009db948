"""Tables of parsed criteria: one document per trial, and one row per question asked.

``trial_criteria`` keeps the parsed document (zlib-compressed JSON) with the parser
version that produced it, so rows from an older parser can be found and parsed again.
``trial_criterion_questions`` indexes every item's normalized question key, so the
trials that ask a question (and the answer that satisfies each) are one indexed lookup
away. It holds a 64-bit hash of the key (:func:`question_key_hash`), not the key: the
key itself is in the parsed document, and at registry size the key text and its index
were a sixth of the store.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String
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


def question_key_hash(key: str) -> int:
    """A question key as a signed 64-bit integer (BLAKE2b): the indexed form of the key."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class TrialCriterionQuestionRow(Base):
    __tablename__ = "trial_criterion_questions"
    __table_args__ = (Index("ix_trial_criterion_questions_key_hash", "key_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nct_id: Mapped[str] = mapped_column(
        String(11), ForeignKey("trials.nct_id", ondelete="CASCADE"), index=True)
    item_index: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(24))
    key_hash: Mapped[int] = mapped_column(BigInteger)
    meets: Mapped[str] = mapped_column(String(3))
    answerable: Mapped[bool] = mapped_column(Boolean)
