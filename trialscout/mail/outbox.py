"""Composing a message once per idempotency key and keeping it in the outbox.

The Message-ID is derived from the key (a hash, so no personal data shows in it), which makes
``enqueue`` idempotent: the second call with the same key finds the stored message and
composes nothing. The stored bytes are what is sent, so a retry sends the same message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parseaddr

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from trialscout.mail.mime import MimeError, build_message
from trialscout.mail.tables import ADDRESS_MAX, OutboxRow, SuppressionRow

MAX_SUBJECT_CHARS = 300
MAX_BODY_CHARS = 1_000_000
MAX_KEY_CHARS = 1_000
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+$")


class MailError(ValueError):
    """A message that cannot be composed (bad address, header or size)."""


@dataclass(frozen=True)
class Enqueued:
    message_id: str
    created: bool


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def normalize_address(address: str) -> str:
    """The bare, lower-cased address, or MailError."""
    if not isinstance(address, str) or len(address) > ADDRESS_MAX or "\n" in address \
            or "\r" in address:
        raise MailError("not an email address")
    _name, bare = parseaddr(address)
    bare = bare.strip().lower()
    if not _ADDRESS.match(bare) or len(bare) > ADDRESS_MAX:
        raise MailError("not an email address")
    return bare


def sender_domain(sender: str | None) -> str:
    if not sender:
        return "trialscout.invalid"
    _name, bare = parseaddr(sender)
    return bare.rpartition("@")[2] or "localhost"


def message_id_for(key: str, sender: str | None) -> str:
    if not key or len(key) > MAX_KEY_CHARS:
        raise MailError("an idempotency key of 1 to 1000 characters is needed")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{sender_domain(sender)}>"


def compose(*, sender: str | None, to: str, subject: str, text: str, html: str | None,
            headers: Mapping[str, str] | None, message_id: str,
            now: datetime | None = None) -> bytes:
    """The message's bytes: a text part, then an HTML part when given (``mail.mime``)."""
    if len(subject) > MAX_SUBJECT_CHARS or "\n" in subject or "\r" in subject:
        raise MailError("the subject must be one line of at most 300 characters")
    if len(text) > MAX_BODY_CHARS or (html is not None and len(html) > MAX_BODY_CHARS):
        raise MailError("the message body is too long")
    fields = [("From", sender)] if sender else []
    fields += [("To", to), ("Subject", subject), ("Message-ID", message_id),
               ("Date", format_datetime((now or utcnow()).replace(tzinfo=UTC)))]
    fields += list((headers or {}).items())
    try:
        return build_message(fields, text, html)
    except MimeError as exc:
        raise MailError(str(exc)) from None


def _insert(conn: Connection, rows: list[dict[str, object]]) -> bool:
    """Insert outbox rows, skipping a Message-ID already there; True if any was new."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        result = conn.execute(postgresql.insert(OutboxRow)
                              .on_conflict_do_nothing(index_elements=["message_id"]), rows)
    elif dialect == "sqlite":
        result = conn.execute(sqlite.insert(OutboxRow)
                              .on_conflict_do_nothing(index_elements=["message_id"]), rows)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise MailError(f"unsupported database {dialect}")
    return bool(result.rowcount)


def enqueue(conn: Connection, *, to: str, subject: str, text: str, html: str | None = None,
            headers: Mapping[str, str] | None = None, key: str, sender: str | None = None,
            now: datetime | None = None) -> Enqueued:
    """Compose and store a message once per ``key`` inside the caller's transaction.

    Without ``sender`` the message gets its From header from the ``mail_sender`` setting
    when it is sent (the same on every try).

    A message to a suppressed address is stored as ``suppressed`` (never sent), so the
    record of what would have gone out stays complete.
    """
    message_id = message_id_for(key, sender)
    existing = conn.execute(select(OutboxRow.id).where(OutboxRow.message_id == message_id)
                            ).first()
    if existing is not None:
        return Enqueued(message_id, False)
    address = normalize_address(to)
    when = now or utcnow()
    msg = compose(sender=sender, to=address, subject=subject, text=text, html=html,
                  headers=headers, message_id=message_id, now=when)
    suppressed = conn.execute(select(SuppressionRow.address)
                              .where(SuppressionRow.address == address)).first()
    created = _insert(conn, [_row(message_id, address, subject, msg,
                                  "suppressed" if suppressed else "pending", when)])
    return Enqueued(message_id, created)


@dataclass(frozen=True)
class Outgoing:
    """One message for :func:`enqueue_many` (the arguments of :func:`enqueue`)."""

    to: str
    subject: str
    text: str
    key: str
    html: str | None = None
    headers: Mapping[str, str] | None = None


def enqueue_many(conn: Connection, messages: list[Outgoing], *, sender: str | None = None,
                 now: datetime | None = None) -> list[Enqueued]:
    """:func:`enqueue` for many messages in a few statements (a digest day queues one per
    saved search): the same Message-IDs, each key composed once, suppressed addresses kept
    as ``suppressed``. A message whose address cannot be used raises MailError, as in
    :func:`enqueue`."""
    when = now or utcnow()
    ids = [message_id_for(m.key, sender) for m in messages]
    existing: set[str] = set()
    for start in range(0, len(ids), 500):
        existing.update(conn.execute(select(OutboxRow.message_id).where(
            OutboxRow.message_id.in_(ids[start:start + 500]))).scalars())
    addresses = {m.to: normalize_address(m.to) for m in messages}
    wanted = sorted(set(addresses.values()))
    suppressed: set[str] = set()
    for start in range(0, len(wanted), 500):
        suppressed.update(conn.execute(select(SuppressionRow.address).where(
            SuppressionRow.address.in_(wanted[start:start + 500]))).scalars())
    rows: list[dict[str, object]] = []
    out = []
    for message, message_id in zip(messages, ids, strict=True):
        if message_id in existing:
            out.append(Enqueued(message_id, False))
            continue
        existing.add(message_id)
        address = addresses[message.to]
        data = compose(sender=sender, to=address, subject=message.subject, text=message.text,
                       html=message.html, headers=message.headers, message_id=message_id,
                       now=when)
        rows.append(_row(message_id, address, message.subject, data,
                         "suppressed" if address in suppressed else "pending", when))
        out.append(Enqueued(message_id, True))
    if rows:
        _insert(conn, rows)
    return out


def _row(message_id: str, address: str, subject: str, data: bytes, state: str,
         when: datetime) -> dict[str, object]:
    return {"message_id": message_id, "recipient": address, "subject": subject,
            "message": data, "state": state, "stage": None, "attempts": 0,
            "claimed_by": None, "claimed_at": None, "next_attempt_at": when,
            "last_error": None, "created_at": when, "sent_at": None}


def outbox_counts(conn: Connection) -> dict[str, int]:
    from sqlalchemy import func

    return {state: int(n) for state, n in conn.execute(
        select(OutboxRow.state, func.count()).group_by(OutboxRow.state))}


def prune_outbox(conn: Connection, *, older_than_days: int = 30,
                 now: datetime | None = None) -> int:
    """Delete settled messages (sent, failed, suppressed) older than the given age: their
    bodies hold personal data (an alert may carry a verdict), and only the refusals in
    ``mail_suppressions`` need to outlive them. Pending and uncertain ones stay."""
    from datetime import timedelta

    from sqlalchemy import delete

    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    result = conn.execute(delete(OutboxRow).where(
        OutboxRow.state.in_(["sent", "failed", "suppressed"]), OutboxRow.created_at < cutoff))
    return int(result.rowcount or 0)
