"""Inquiries: validated, rate limited, routed, and read only by those allowed to.

Every read function takes the reader's scope (the patient's ``owner``, or a coordinator's
claims) and filters in SQL, so an id from elsewhere finds nothing: callers answer 404.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, false, func, insert, or_, select, text, true, update
from sqlalchemy.sql.elements import ColumnElement

from trialscout.contact.audit import now
from trialscout.contact.models import (
    Claim,
    ContactDetails,
    Event,
    Inquiry,
    InquiryRequest,
    Prescreen,
    Shared,
    Status,
)
from trialscout.contact.sites import ALL_SITES, CENTRAL, find_site, recipient_email, site_label
from trialscout.contact.tables import ClaimRow, InquiryEventRow, InquiryRow
from trialscout.formerrors import FieldError
from trialscout.formerrors import RateLimited as BaseRateLimited
from trialscout.guides.questions import QuestionError, clean_email
from trialscout.registry.model import Trial

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
PUBLIC_COUNT_MIN = 5
_LOCK_KEY = 0x7C0_4E1C


class ContactError(FieldError):
    """Input the contact form must send back; ``field`` names it."""


class RateLimited(BaseRateLimited):
    """Too many inquiries; ``retry_after`` is the number of seconds to wait."""

    what = "inquiries"


@dataclass(frozen=True)
class Limits:
    """Per owner per day, per client address per day (well below the site's daily total,
    so no single client can use the total up), and for the whole site per day."""

    per_owner: int = 5
    per_address: int = 10
    daily_total: int = 300

    @classmethod
    def from_settings(cls, settings: object) -> Limits:
        return cls(per_owner=int(getattr(settings, "contact_daily_limit", 5)),
                   per_address=int(getattr(settings, "contact_address_daily_limit", 10)),
                   daily_total=int(getattr(settings, "contact_site_daily_limit", 300)))


def hash_key(salt: str, key: str) -> str:
    return hashlib.sha256(f"{salt}\x00{key}".encode()).hexdigest()


def _clean(text: str | None, field: str, limit: int) -> str | None:
    if text is None:
        return None
    cleaned = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(cleaned) > limit:
        raise ContactError(field, f"Please keep it under {limit} characters.")
    return cleaned or None


def clean_contact(contact: ContactDetails) -> ContactDetails:
    name = _clean(contact.name, "name", 120)
    if not name:
        raise ContactError("name", "Please give a name the team can use.")
    try:
        email = clean_email(contact.email)
    except QuestionError as exc:
        raise ContactError("email", exc.message) from None
    phone = _clean(contact.phone, "phone", 40)
    if phone and not re.fullmatch(r"[0-9 +()./-]{5,40}", phone):
        raise ContactError("phone", "A phone number has digits, spaces, + ( ) . / - only.")
    if not email and not phone:
        raise ContactError("email", "Give an email address or a phone number.")
    if contact.preferred_way == "email" and not email:
        raise ContactError("email", "You prefer email: please give an address.")
    if contact.preferred_way == "phone" and not phone:
        raise ContactError("phone", "You prefer phone: please give a number.")
    return ContactDetails(name=name, email=email, phone=phone,
                          preferred_way=contact.preferred_way,
                          preferred_time=_clean(contact.preferred_time, "preferred_time", 200))


def _over(conn: Connection, where: ColumnElement[bool], limit: int, at: datetime,
          scope: str) -> None:
    day = timedelta(days=1)
    count, first = conn.execute(select(func.count(), func.min(InquiryRow.created_at))
                                .where(where, InquiryRow.created_at > at - day)).one()
    if count >= limit:
        raise RateLimited(max(1, int((first + day - at).total_seconds()) + 1), scope)


def _serialize(conn: Connection) -> None:
    """Let one inquiry at a time count and insert, so parallel requests cannot all pass a
    limit: a transaction-scoped advisory lock on PostgreSQL; on SQLite a first write takes
    the database's write lock (the others wait for the busy timeout)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:
        conn.execute(update(InquiryRow).where(false()).values(status="sent"))


def check_rate(conn: Connection, owner: str, client_hash: str, limits: Limits,
               at: datetime) -> None:
    _serialize(conn)
    _over(conn, InquiryRow.owner == owner, limits.per_owner, at, "visitor")
    _over(conn, InquiryRow.client_hash == client_hash, limits.per_address, at, "visitor")
    _over(conn, true(), limits.daily_total, at, "site")


def claims_cover(claims: list[Claim]) -> ColumnElement[bool]:
    """SQL: the inquiry is on a trial (and site) one of ``claims`` covers."""
    parts = [and_(InquiryRow.nct_id == c.nct_id,
                  true() if c.site_key == ALL_SITES else InquiryRow.site_key == c.site_key)
             for c in claims]
    return or_(*parts) if parts else false()


def is_claimed(conn: Connection, nct_id: str, key: str) -> bool:
    found = conn.execute(select(ClaimRow.id).where(
        ClaimRow.nct_id == nct_id, ClaimRow.site_key.in_([key, ALL_SITES])).limit(1)).first()
    return found is not None


def create(conn: Connection, trial: Trial, request: InquiryRequest, *, owner: str,
           client_hash: str, prescreen: Prescreen | None, limits: Limits | None = None,
           at: datetime | None = None) -> tuple[Inquiry, str | None]:
    """Store an inquiry the patient agreed to send; return it and the address to email
    (None: it goes to a coordinator's workspace). Raises ContactError or RateLimited."""
    at = at or now()
    if not request.agree:
        raise ContactError("agree", "Please confirm you agree to share what is listed.")
    site = find_site(trial, request.site_key)
    if site is None and not (request.site_key == CENTRAL and trial.central_contacts):
        raise ContactError("site_key", "Choose one of this trial's sites.")
    contact = clean_contact(request.contact)
    message = _clean(request.message, "message", 2000)
    check_rate(conn, owner, client_hash, limits or Limits(), at)
    claimed = is_claimed(conn, trial.nct_id, request.site_key)
    to = None if claimed else recipient_email(trial, request.site_key)
    if not claimed and to is None:
        raise ContactError("site_key", "This site lists no way to reach its team yet; "
                           "please choose another site or use the phone numbers shown.")
    shared = Shared(contact=contact, message=message,
                    prescreen=prescreen if request.share_prescreen else None)
    public_id = secrets.token_urlsafe(16)
    label = site_label(site) if site is not None else "The trial's central contact"
    inquiry_id = conn.execute(insert(InquiryRow).values(
        public_id=public_id, nct_id=trial.nct_id, site_key=request.site_key,
        site_label=label, owner=owner, client_hash=client_hash,
        shared=shared.model_dump_json(), status="sent",
        route="workspace" if claimed else "email", recipient_email=to,
        email_health_data=bool(request.email_health_data and not claimed),
        created_at=at, updated_at=at)).inserted_primary_key
    assert inquiry_id is not None
    add_event(conn, int(inquiry_id[0]), "sent", None, "patient", at)
    found = load(conn, InquiryRow.public_id == public_id)
    assert found is not None
    return found, to


def add_event(conn: Connection, inquiry_id: int, status: Status, note: str | None,
              actor: str, at: datetime) -> None:
    conn.execute(insert(InquiryEventRow).values(inquiry_id=inquiry_id, status=status,
                                                note=note, actor=actor, created_at=at))
    conn.execute(update(InquiryRow).where(InquiryRow.id == inquiry_id)
                 .values(status=status, updated_at=at))


def _by(actor: str) -> Any:
    if actor == "patient":
        return "patient"
    return "TrialScout" if actor == "system" else "study team"


def _histories(conn: Connection, ids: list[int]) -> dict[int, list[Event]]:
    """The status history of each inquiry in ``ids``, in one query per 500."""
    found: dict[int, list[Event]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        events = conn.execute(select(InquiryEventRow.__table__).where(
            InquiryEventRow.inquiry_id.in_(ids[start:start + 500]))
            .order_by(InquiryEventRow.inquiry_id, InquiryEventRow.id))
        for e in events:
            found[e.inquiry_id].append(Event(status=e.status, note=e.note, by=_by(e.actor),
                                             at=e.created_at))
    return found


def _views(conn: Connection, rows: list[Any]) -> list[Inquiry]:
    histories = _histories(conn, [r.id for r in rows])
    return [_view(r, histories[r.id]) for r in rows]


def _view(row: Any, history: list[Event]) -> Inquiry:
    return Inquiry(id=row.public_id, nct_id=row.nct_id, site_key=row.site_key,
                   site=row.site_label, status=row.status, route=row.route,
                   shared=Shared.model_validate_json(row.shared),
                   email_health_data=row.email_health_data, created_at=row.created_at,
                   updated_at=row.updated_at, history=history)


def load(conn: Connection, *where: ColumnElement[bool]) -> Inquiry | None:
    row = conn.execute(select(InquiryRow.__table__).where(*where)).first()
    return _views(conn, [row])[0] if row is not None else None


def row_id(conn: Connection, public_id: str) -> int | None:
    found = conn.execute(select(InquiryRow.id).where(InquiryRow.public_id == public_id)
                         ).scalar_one_or_none()
    return int(found) if found is not None else None


def owned(conn: Connection, public_id: str, owner: str) -> Inquiry | None:
    return load(conn, InquiryRow.public_id == public_id, InquiryRow.owner == owner)


def list_owned(conn: Connection, owner: str, limit: int = 100) -> list[Inquiry]:
    rows = conn.execute(select(InquiryRow.__table__).where(InquiryRow.owner == owner)
                        .order_by(InquiryRow.created_at.desc(), InquiryRow.id.desc())
                        .limit(limit)).all()
    return _views(conn, list(rows))


def in_claims(conn: Connection, public_id: str, claims: list[Claim]) -> Inquiry | None:
    return load(conn, InquiryRow.public_id == public_id, claims_cover(claims))


def list_in_claims(conn: Connection, claims: list[Claim], *, nct_id: str | None = None,
                   site_key: str | None = None, status: str | None = None,
                   limit: int = 50, offset: int = 0) -> tuple[list[Inquiry], int]:
    where = [claims_cover(claims)]
    if nct_id:
        where.append(InquiryRow.nct_id == nct_id)
    if site_key:
        where.append(InquiryRow.site_key == site_key)
    if status:
        where.append(InquiryRow.status == status)
    total = int(conn.execute(select(func.count()).select_from(InquiryRow).where(*where))
                .scalar_one())
    rows = conn.execute(select(InquiryRow.__table__).where(*where)
                        .order_by(InquiryRow.created_at.desc(), InquiryRow.id.desc())
                        .limit(limit).offset(offset)).all()
    return _views(conn, list(rows)), total


def change_status(conn: Connection, inquiry: Inquiry, status: Status, note: str | None,
                  actor: str, at: datetime | None = None) -> Inquiry:
    """Record a new status (the caller checked who may). A withdrawn inquiry stays so."""
    if inquiry.status == "withdrawn":
        raise ContactError("status", "The patient withdrew this inquiry.")
    cleaned = _clean(note, "note", 1000)
    ident = row_id(conn, inquiry.id)
    assert ident is not None
    add_event(conn, ident, status, cleaned, actor, at or now())
    found = load(conn, InquiryRow.id == ident)
    assert found is not None
    return found


def asked_count(conn: Connection, nct_id: str) -> int | None:
    """People who asked about a trial, rounded down to a multiple of 5; None under 5."""
    count = int(conn.execute(select(func.count(func.distinct(InquiryRow.owner)))
                             .where(InquiryRow.nct_id == nct_id)).scalar_one())
    return None if count < PUBLIC_COUNT_MIN else count - count % 5


CSV_COLUMNS = ("id", "nct_id", "site", "status", "sent", "updated", "name", "email", "phone",
               "preferred_way", "preferred_time", "message", "self_check", "to_confirm")


def to_csv(found: list[Inquiry]) -> str:
    """The inquiries as CSV; cells that a spreadsheet would run as a formula are quoted
    with a leading apostrophe."""
    import csv
    import io

    def safe(value: object) -> str:
        text = "" if value is None else str(value)
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for one in found:
        c, pre = one.shared.contact, one.shared.prescreen
        writer.writerow([safe(v) for v in (
            one.id, one.nct_id, one.site, one.status, one.created_at.isoformat(),
            one.updated_at.isoformat(), c.name, c.email, c.phone, c.preferred_way,
            c.preferred_time, one.shared.message, pre.verdict if pre else "",
            len(pre.to_confirm) if pre else "")])
    return out.getvalue()
