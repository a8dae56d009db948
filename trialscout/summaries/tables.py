"""The cache of LLM-written summaries, so a trial page does not wait on the model each time.

One row per trial: valid while the trial's content hash, the model and the prompt version
are the ones it was made with. A failed attempt is kept too (``backend = "failed"``) so a
broken or slow LLM is not asked again on every page view; it is retried after a while.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trialscout.store.tables import Base


class TrialSummaryRow(Base):
    __tablename__ = "trial_summaries"

    nct_id: Mapped[str] = mapped_column(
        String(11), ForeignKey("trials.nct_id", ondelete="CASCADE"), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    prompt_version: Mapped[int] = mapped_column(Integer)
    backend: Mapped[str] = mapped_column(String(10))
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
