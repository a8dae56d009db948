"""Private notes on trials: on a passage the visitor selected (its quote and where it sits
in the page's text) or on the trial as a whole.

Every read and write is scoped by owner: another owner's note id behaves as if it did not
exist. Sizes are bounded (note text, quote, notes per owner), and NUL characters are refused
on every backend (PostgreSQL text cannot hold them).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Engine, delete, func, insert, select, update

from trialscout.utc import UtcDateTime
from trialscout.workspace.ownership import utcnow
from trialscout.workspace.tables import NoteRow

MAX_BODY = 4000
MAX_QUOTE = 1000
MAX_OFFSET = 2_000_000
MAX_NOTES_PER_OWNER = 500
NCT_ID = re.compile(r"^NCT\d{8}$")


class NoteError(ValueError):
    """A note that cannot be stored (too many notes, an unknown trial)."""


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class Anchor(BaseModel):
    """Where the quoted passage sits: a section of the trial page and character offsets in
    that section's text (as the browser's ``textContent`` counts them)."""

    model_config = ConfigDict(extra="forbid")

    section: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    start: int = Field(ge=0, le=MAX_OFFSET)
    end: int = Field(ge=0, le=MAX_OFFSET)

    @model_validator(mode="after")
    def _ordered(self) -> Anchor:
        if self.end < self.start:
            raise ValueError("anchor end must not be before its start")
        return self


class NoteIn(BaseModel):
    """A note as a visitor writes it: text, and optionally the passage it is about."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=MAX_BODY)
    quote: str | None = Field(default=None, max_length=MAX_QUOTE)
    anchor: Anchor | None = None

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        _no_nul(value)
        if not value.strip():
            raise ValueError("write something in the note")
        return value.strip()

    @field_validator("quote")
    @classmethod
    def _quote(cls, value: str | None) -> str | None:
        _no_nul(value)
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _anchor_needs_quote(self) -> NoteIn:
        if self.anchor is not None and self.quote is None:
            raise ValueError("an anchor needs the quoted text")
        return self


class NoteView(BaseModel):
    id: int
    nct_id: str
    body: str
    quote: str | None = None
    anchor: Anchor | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime


def _view(row: Any) -> NoteView:
    anchor = None
    if row.anchor_section is not None and row.anchor_start is not None \
            and row.anchor_end is not None:
        anchor = Anchor(section=row.anchor_section, start=row.anchor_start, end=row.anchor_end)
    return NoteView(id=row.id, nct_id=row.nct_id, body=row.body, quote=row.quote,
                    anchor=anchor, created_at=row.created_at, updated_at=row.updated_at)


def _columns(note: NoteIn) -> dict[str, object]:
    return {"body": note.body, "quote": note.quote,
            "anchor_section": note.anchor.section if note.anchor else None,
            "anchor_start": note.anchor.start if note.anchor else None,
            "anchor_end": note.anchor.end if note.anchor else None}


class NoteStore:
    def __init__(self, engine: Engine, max_per_owner: int = MAX_NOTES_PER_OWNER) -> None:
        self.engine = engine
        self.max_per_owner = max_per_owner

    def add(self, owner: str, nct_id: str, note: NoteIn) -> NoteView:
        if not NCT_ID.match(nct_id):
            raise NoteError(f"{nct_id!r} is not an NCT number")
        now = utcnow()
        with self.engine.begin() as conn:
            count = conn.execute(select(func.count()).select_from(NoteRow)
                                 .where(NoteRow.owner == owner)).scalar_one()
            if count >= self.max_per_owner:
                raise NoteError(f"You have {count} notes, the most one visitor can keep; "
                                "delete some first.")
            new_id = conn.execute(insert(NoteRow).values(
                owner=owner, nct_id=nct_id, created_at=now, updated_at=now,
                **_columns(note)).returning(NoteRow.id)).scalar_one()
            row = conn.execute(select(NoteRow).where(NoteRow.id == new_id)).one()
        return _view(row)

    def get(self, owner: str, note_id: int) -> NoteView | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(NoteRow).where(NoteRow.id == note_id,
                                                     NoteRow.owner == owner)).one_or_none()
        return None if row is None else _view(row)

    def list(self, owner: str, nct_id: str | None = None) -> list[NoteView]:
        query = select(NoteRow).where(NoteRow.owner == owner)
        if nct_id is not None:
            query = query.where(NoteRow.nct_id == nct_id)
        query = query.order_by(NoteRow.nct_id, NoteRow.created_at, NoteRow.id)
        with self.engine.connect() as conn:
            return [_view(row) for row in conn.execute(query)]

    def update(self, owner: str, note_id: int, note: NoteIn) -> NoteView | None:
        """Replace the note's text (and passage); None when the owner has no such note."""
        with self.engine.begin() as conn:
            changed = conn.execute(update(NoteRow).where(
                NoteRow.id == note_id, NoteRow.owner == owner).values(
                updated_at=utcnow(), **_columns(note))).rowcount
        return self.get(owner, note_id) if changed else None

    def delete(self, owner: str, note_id: int) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(delete(NoteRow).where(
                NoteRow.id == note_id, NoteRow.owner == owner)).rowcount)
