"""The "Send us a question" store: validated, rate limited, answered by an admin.

Questions are stored as plain text exactly as typed (after trimming), never as HTML: pages
must escape them like any other text. A visitor is known only by a salted SHA-256 of their
session id or address, which is enough to limit how many questions they send; a global
daily cap protects against floods from many addresses. The email is optional, validated,
and only ever shown to the admin.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Connection, delete, func, insert, select, true, update

from trialscout.formerrors import FieldError
from trialscout.formerrors import RateLimited as BaseRateLimited
from trialscout.guides.content import find_guide
from trialscout.guides.tables import GuideQuestionRow

MIN_TEXT = 10
MAX_TEXT = 2000
MAX_ANSWER = 10_000
MAX_EMAIL = 254
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$")
_NCT = re.compile(r"^NCT\d{8}$")
Status = Literal["open", "answered"]


class QuestionError(FieldError):
    """A question the form must send back: ``field`` says which input is wrong."""


class RateLimited(BaseRateLimited):
    """Too many questions; ``retry_after`` is the number of seconds to wait."""

    what = "questions"


@dataclass(frozen=True)
class QuestionLimits:
    """Per session and per address in a window, per address and for the site per day.

    A new session per request evades the per-session limit, so the address is limited
    too, and per day well below the site's cap: no single client can use the cap up.
    """

    per_client: int = 5
    window_seconds: int = 3600
    daily_total: int = 200
    per_address: int = 10
    daily_per_address: int = 20

    @classmethod
    def from_settings(cls, settings: object) -> QuestionLimits:
        return cls(per_client=int(getattr(settings, "question_rate_limit", 5)),
                   window_seconds=int(getattr(settings, "question_rate_window", 3600)),
                   daily_total=int(getattr(settings, "question_daily_limit", 200)),
                   per_address=int(getattr(settings, "question_address_limit", 10)),
                   daily_per_address=int(getattr(settings, "question_address_daily_limit",
                                                 20)))


class Question(BaseModel):
    id: int
    guide_slug: str | None
    nct_id: str | None
    text: str
    email: str | None
    status: Status
    answer: str | None
    published: bool
    created_at: datetime
    answered_at: datetime | None


class PublicAnswer(BaseModel):
    """A published question and answer, as a guide page may show it (no email)."""

    id: int
    question: str
    answer: str
    answered_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def client_hash(client_key: str, salt: str) -> str:
    """A salted hash of a session id or address; the raw value is never stored."""
    return hashlib.sha256(f"{salt}\x00{client_key}".encode()).hexdigest()


def clean_text(text: str, field: str, low: int, high: int) -> str:
    if not isinstance(text, str):
        raise QuestionError(field, "Please type some text.")
    cleaned = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(cleaned) < low:
        raise QuestionError(field, f"Please write at least {low} characters.")
    if len(cleaned) > high:
        raise QuestionError(field, f"Please keep it under {high} characters.")
    return cleaned


def clean_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    email = email.strip()
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise QuestionError("email", "That email address does not look right.")
    return email


def _row(row: Any) -> Question:
    return Question(id=row.id, guide_slug=row.guide_slug, nct_id=row.nct_id, text=row.text,
                    email=row.email, status=row.status,
                    answer=row.answer, published=row.published, created_at=row.created_at,
                    answered_at=row.answered_at)


def _over(conn: Connection, where: Any, limit: int, period: timedelta, now: datetime,
          scope: str) -> None:
    """Raise RateLimited when ``limit`` questions matching ``where`` came in ``period``."""
    table = GuideQuestionRow
    recent = conn.execute(select(func.count(), func.min(table.created_at))
                          .where(where, table.created_at > now - period)).one()
    if recent[0] >= limit:
        wait = recent[1] + period - now
        raise RateLimited(max(1, int(wait.total_seconds()) + 1), scope)


def _check_rate(conn: Connection, hashed: str, address: str | None, limits: QuestionLimits,
                now: datetime) -> None:
    table = GuideQuestionRow
    window, day = timedelta(seconds=limits.window_seconds), timedelta(days=1)
    _over(conn, table.client_hash == hashed, limits.per_client, window, now, "visitor")
    if address is not None:
        _over(conn, table.address_hash == address, limits.per_address, window, now, "visitor")
        _over(conn, table.address_hash == address, limits.daily_per_address, day, now,
              "visitor")
    _over(conn, true(), limits.daily_total, day, now, "site")


def submit_question(conn: Connection, *, text: str, client_key: str, salt: str,
                    email: str | None = None, guide_slug: str | None = None,
                    nct_id: str | None = None, limits: QuestionLimits | None = None,
                    now: datetime | None = None, address: str | None = None) -> Question:
    """Validate and store a question inside the caller's transaction.

    Raises :class:`QuestionError` (bad input, with the field) or :class:`RateLimited`.
    """
    now = now or _now()
    limits = limits or QuestionLimits()
    cleaned = clean_text(text, "text", MIN_TEXT, MAX_TEXT)
    email = clean_email(email)
    if guide_slug is not None and find_guide(guide_slug) is None:
        raise QuestionError("guide_slug", "Unknown guide.")
    if nct_id is not None and not _NCT.match(nct_id):
        raise QuestionError("nct_id", "Unknown trial id.")
    if not client_key:
        raise QuestionError("client_key", "Missing visitor key.")
    hashed = client_hash(client_key, salt)
    address_hash = client_hash("address:" + address, salt) if address else None
    _check_rate(conn, hashed, address_hash, limits, now)
    inserted = conn.execute(insert(GuideQuestionRow).values(
        guide_slug=guide_slug, nct_id=nct_id, text=cleaned, email=email, client_hash=hashed,
        address_hash=address_hash,
        status="open", answer=None, published=False, created_at=now, answered_at=None)
    ).inserted_primary_key
    assert inserted is not None
    question = get_question(conn, int(inserted[0]))
    assert question is not None
    return question


def get_question(conn: Connection, question_id: int) -> Question | None:
    table = GuideQuestionRow.__table__
    row = conn.execute(select(table).where(table.c.id == question_id)).first()
    return _row(row) if row is not None else None


def list_questions(conn: Connection, status: Status | Literal["all"] = "open", *,
                   guide_slug: str | None = None, limit: int = 50, offset: int = 0
                   ) -> list[Question]:
    """Questions for the admin, oldest open first (newest first for answered/all)."""
    table = GuideQuestionRow
    query = select(GuideQuestionRow.__table__)
    if status != "all":
        query = query.where(table.status == status)
    if guide_slug is not None:
        query = query.where(table.guide_slug == guide_slug)
    order = table.created_at.asc() if status == "open" else table.created_at.desc()
    rows = conn.execute(query.order_by(order, table.id).limit(limit).offset(offset))
    return [_row(r) for r in rows]


def answer_question(conn: Connection, question_id: int, answer: str, *,
                    publish: bool = False, now: datetime | None = None) -> Question:
    """Store the admin's answer (replacing any earlier one). ``publish`` lets the guide
    page show the question and answer, without the email."""
    cleaned = clean_text(answer, "answer", 1, MAX_ANSWER)
    done = conn.execute(update(GuideQuestionRow).where(GuideQuestionRow.id == question_id)
                        .values(answer=cleaned, status="answered", published=publish,
                                answered_at=now or _now()))
    if done.rowcount == 0:
        raise QuestionError("id", f"No question {question_id}.")
    question = get_question(conn, question_id)
    assert question is not None
    return question


def delete_question(conn: Connection, question_id: int) -> bool:
    done = conn.execute(delete(GuideQuestionRow).where(GuideQuestionRow.id == question_id))
    return bool(done.rowcount)


def published_answers(conn: Connection, guide_slug: str) -> list[PublicAnswer]:
    table = GuideQuestionRow
    rows = conn.execute(select(table.id, table.text, table.answer, table.answered_at)
                        .where(table.guide_slug == guide_slug, table.published.is_(True),
                               table.status == "answered")
                        .order_by(table.answered_at.desc(), table.id))
    return [PublicAnswer(id=r.id, question=r.text, answer=r.answer or "",
                         answered_at=r.answered_at) for r in rows]
