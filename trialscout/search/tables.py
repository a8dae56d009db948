"""Search bookkeeping tables: a store-wide change generation and each trial's last change.

The write hook bumps ``search_state.generation`` and stamps the changed trials in
``search_docs`` inside the import transaction. Bumping one row serializes concurrent
writers, so generations commit in order and an index that has seen generation *g* knows
exactly which trials changed after it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from trialscout.store.tables import Base


class SearchStateRow(Base):
    __tablename__ = "search_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    index_id: Mapped[str] = mapped_column(String(32))


class SearchDocRow(Base):
    __tablename__ = "search_docs"

    nct_id: Mapped[str] = mapped_column(String(11), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, index=True)
