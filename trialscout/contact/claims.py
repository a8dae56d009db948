"""Coordinator claims: proven by a link emailed to an address on the registry record, or
granted by an admin. A claim covers one site or all sites (``"*"``).

Claim links carry 256 random bits and are stored as their SHA-256; one use, 48 hours.
Wrong links count against the account (5 per 15 minutes, then locked), and an account
may ask for only a few links a day, so a registry contact is not flooded.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, update

from trialscout.contact import attempts
from trialscout.contact.audit import now
from trialscout.contact.inquiries import ContactError
from trialscout.contact.models import Claim
from trialscout.contact.sites import ALL_SITES, CENTRAL, find_site, record_emails
from trialscout.contact.tables import ClaimLinkRow, ClaimRow
from trialscout.registry.model import Trial

LINK_LIFETIME = timedelta(hours=48)
LINKS_PER_DAY = 5


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _valid_key(trial: Trial, key: str) -> bool:
    return key in (ALL_SITES, CENTRAL) or find_site(trial, key) is not None


def request_link(conn: Connection, trial: Trial, account_id: int, key: str, email: str,
                 at: datetime | None = None) -> str:
    """A claim link token for ``email``, which must be listed on the record for ``key``.
    The caller emails it (to that address only) and never shows it."""
    at = at or now()
    if not _valid_key(trial, key):
        raise ContactError("site_key", "Choose one of this trial's sites, or all sites.")
    listed = {e.lower(): e for e in record_emails(trial, key)}
    if email.strip().lower() not in listed:
        raise ContactError("email", "That address is not a contact of this site on the "
                           "registry record; ask an admin for a grant instead.")
    sent = conn.execute(select(func.count()).select_from(ClaimLinkRow).where(
        ClaimLinkRow.account_id == account_id,
        ClaimLinkRow.created_at > at - timedelta(days=1))).scalar_one()
    if sent >= LINKS_PER_DAY:
        raise attempts.Locked(24 * 3600)
    token = secrets.token_urlsafe(32)
    conn.execute(insert(ClaimLinkRow).values(
        token_hash=_hash(token), account_id=account_id, nct_id=trial.nct_id, site_key=key,
        email=listed[email.strip().lower()], created_at=at, expires_at=at + LINK_LIFETIME,
        used_at=None))
    return token


def confirm(conn: Connection, account_id: int, token: str,
            at: datetime | None = None) -> Claim | None:
    """Turn a claim link into a claim for the account that asked for it. None (and a
    recorded failure) for a wrong, used, expired or someone else's link; Locked after
    too many failures."""
    at = at or now()
    who = f"claim:{account_id}"
    attempts.check(conn, who, at)
    row = conn.execute(select(ClaimLinkRow.__table__).where(
        ClaimLinkRow.token_hash == _hash(token[:200]))).first()
    if (row is None or row.account_id != account_id or row.used_at is not None
            or row.expires_at <= at):
        attempts.fail(conn, who, at)
        return None
    used = conn.execute(update(ClaimLinkRow).where(
        ClaimLinkRow.id == row.id, ClaimLinkRow.used_at.is_(None)).values(used_at=at))
    if not used.rowcount:
        return None
    return _add(conn, account_id, row.nct_id, row.site_key, f"email:{row.email}", at)


def grant(conn: Connection, trial: Trial, account_id: int, key: str, admin: str,
          at: datetime | None = None) -> Claim:
    if not _valid_key(trial, key):
        raise ContactError("site_key", "Choose one of this trial's sites, or all sites.")
    return _add(conn, account_id, trial.nct_id, key, f"grant:{admin}", at or now())


def _add(conn: Connection, account_id: int, nct_id: str, key: str, via: str,
         at: datetime) -> Claim:
    existing = conn.execute(select(ClaimRow.__table__).where(
        ClaimRow.account_id == account_id, ClaimRow.nct_id == nct_id,
        ClaimRow.site_key == key)).first()
    if existing is None:
        conn.execute(insert(ClaimRow).values(account_id=account_id, nct_id=nct_id,
                                             site_key=key, via=via[:80], created_at=at))
    return Claim(account_id=account_id, nct_id=nct_id, site_key=key,
                 via=existing.via if existing else via[:80],
                 created_at=existing.created_at if existing else at)


def revoke(conn: Connection, account_id: int, nct_id: str, key: str) -> bool:
    done = conn.execute(delete(ClaimRow).where(ClaimRow.account_id == account_id,
                                               ClaimRow.nct_id == nct_id,
                                               ClaimRow.site_key == key))
    return bool(done.rowcount)


def claims_of(conn: Connection, account_id: int) -> list[Claim]:
    rows = conn.execute(select(ClaimRow.__table__).where(ClaimRow.account_id == account_id)
                        .order_by(ClaimRow.nct_id, ClaimRow.site_key))
    return [Claim(account_id=r.account_id, nct_id=r.nct_id, site_key=r.site_key, via=r.via,
                  created_at=r.created_at) for r in rows]
