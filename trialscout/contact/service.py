"""The contact flow as one service over the app: patients send and follow inquiries,
coordinators claim trials and work their inquiries, recipients unlock emailed links,
admins grant claims and read the audit log.

Authorization is by scope, in every query: a patient's ``owner`` key, a coordinator's
claims. Whatever is outside the scope is "not found" (None), so callers answer 404.
Every read of an inquiry by anyone but its patient is written to the audit log in the
same transaction.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from trialscout.contact import audit, claims, inquiries, mailing, recipient
from trialscout.contact.models import (
    AuditEntry,
    Claim,
    Inquiry,
    InquiryRequest,
    Prescreen,
    SiteChoice,
    Status,
)
from trialscout.contact.prescreen import from_checklist
from trialscout.contact.sites import CENTRAL, label_for, recipient_email, site_key, site_label
from trialscout.registry.model import Trial
from trialscout.sessions.models import Answer

if TYPE_CHECKING:
    from trialscout.app import TrialScout


class ContactService:
    def __init__(self, app: TrialScout) -> None:
        self.app = app
        self.limits = inquiries.Limits.from_settings(app.settings)

    @property
    def _base(self) -> str:
        return str(getattr(self.app.settings, "public_url", "http://127.0.0.1:8000")).rstrip("/")

    def _title(self, nct_id: str) -> str:
        trial = self.app.trial(nct_id)
        return trial.title if trial is not None else nct_id

    # ------------------------------------------------------------ patient
    def site_choices(self, trial: Trial, origin: tuple[float, float] | None = None
                     ) -> list[SiteChoice]:
        """The trial's sites, nearest first when ``origin`` (lat, lon) is known; the
        central contact when no site can be reached."""
        from trialscout.search.places import haversine_km

        with self.app.connect() as conn:
            claimed = {(c.site_key) for c in _claims_on(conn, trial.nct_id)}
        choices = []
        for site in trial.sites:
            key = site_key(site)
            distance = None
            if origin is not None and site.geo is not None:
                distance = round(float(haversine_km(origin[0], origin[1], site.geo.lat,
                                                    site.geo.lon)), 1)
            is_claimed = key in claimed or "*" in claimed
            choices.append(SiteChoice(key=key, label=site_label(site), distance_km=distance,
                                      claimed=is_claimed,
                                      reachable=is_claimed or recipient_email(trial, key)
                                      is not None))
        if origin is not None:
            choices.sort(key=lambda c: (c.distance_km is None, c.distance_km or math.inf))
        if trial.central_contacts and not any(c.reachable for c in choices):
            choices.append(SiteChoice(key=CENTRAL, label="The trial's central contact",
                                      claimed="*" in claimed,
                                      reachable=recipient_email(trial, CENTRAL) is not None
                                      or "*" in claimed))
        return choices

    def prescreen(self, trial: Trial, answers: Mapping[str, Answer]) -> Prescreen:
        from trialscout.sessions.questions import questions_for
        from trialscout.sessions.selfcheck import build_checklist

        questions, parser = questions_for(
            trial, functools.partial(self.app.parsed_criteria, trial.nct_id))
        return from_checklist(build_checklist(trial.nct_id, questions, answers, parser))

    def send(self, trial: Trial, request: InquiryRequest, *, owner: str, client_key: str,
             answers: Mapping[str, Answer]) -> Inquiry:
        prescreen = self.prescreen(trial, answers) if request.share_prescreen else None
        salt = self.app.settings.secret_key or "trialscout"
        with self.app.engine.begin() as conn:
            inquiry, to = inquiries.create(
                conn, trial, request, owner=owner, prescreen=prescreen, limits=self.limits,
                client_hash=inquiries.hash_key(salt, "address:" + client_key))
            if to is not None:
                ident = inquiries.row_id(conn, inquiry.id)
                assert ident is not None
                token = recipient.create(conn, ident, to)
                mailing.to_site(conn, inquiry, to, f"{self._base}/inquiries/access/{token}",
                                trial.title)
            mailing.to_patient(conn, inquiry, f"{self._base}/inquiries/{inquiry.id}",
                               trial.title)
        return inquiry

    def mine(self, owner: str) -> list[Inquiry]:
        with self.app.connect() as conn:
            return inquiries.list_owned(conn, owner)

    def mine_one(self, owner: str, public_id: str) -> Inquiry | None:
        with self.app.connect() as conn:
            return inquiries.owned(conn, public_id[:40], owner)

    def withdraw(self, owner: str, public_id: str, note: str | None = None) -> Inquiry | None:
        with self.app.engine.begin() as conn:
            found = inquiries.owned(conn, public_id[:40], owner)
            if found is None:
                return None
            if found.status == "withdrawn":
                return found
            changed = inquiries.change_status(conn, found, "withdrawn", note, "patient")
            self._notify(conn, changed)
            return changed

    def asked_count(self, nct_id: str) -> int | None:
        with self.app.connect() as conn:
            return inquiries.asked_count(conn, nct_id)

    def _notify(self, conn: Any, inquiry: Inquiry) -> None:
        mailing.to_patient(conn, inquiry, f"{self._base}/inquiries/{inquiry.id}",
                           self._title(inquiry.nct_id))

    # ------------------------------------------------------------ coordinators
    def claims(self, account_id: int) -> list[Claim]:
        with self.app.connect() as conn:
            return claims.claims_of(conn, account_id)

    def request_claim(self, trial: Trial, account_id: int, key: str, email: str) -> None:
        with self.app.engine.begin() as conn:
            token = claims.request_link(conn, trial, account_id, key, email)
            mailing.claim_link(conn, email, f"{self._base}/coordinator/claim/{token}",
                               trial.nct_id, trial.title, label_for(trial, key) or key)

    def confirm_claim(self, account_id: int, token: str) -> Claim | None:
        with self.app.engine.begin() as conn:
            claim = claims.confirm(conn, account_id, token)
            if claim is not None:
                audit.record(conn, f"account:{account_id}", "claim", nct_id=claim.nct_id,
                             detail=f"site {claim.site_key} via {claim.via}")
            return claim

    def grant(self, trial: Trial, account_id: int, key: str, admin_id: int) -> Claim:
        with self.app.engine.begin() as conn:
            claim = claims.grant(conn, trial, account_id, key, f"account:{admin_id}")
            audit.record(conn, f"account:{admin_id}", "grant", nct_id=trial.nct_id,
                         detail=f"account:{account_id} site {key}")
            return claim

    def workspace(self, account_id: int, *, nct_id: str | None = None,
                  site_key: str | None = None, status: str | None = None, limit: int = 50,
                  offset: int = 0, action: str = "list") -> tuple[list[Inquiry], int]:
        """The inquiries on the account's claimed trials; each one shown is audited."""
        actor = f"account:{account_id}"
        with self.app.engine.begin() as conn:
            scope = claims.claims_of(conn, account_id)
            found, total = inquiries.list_in_claims(conn, scope, nct_id=nct_id,
                                                    site_key=site_key, status=status,
                                                    limit=limit, offset=offset)
            audit.record_many(conn, actor, action, [(one.id, one.nct_id) for one in found])
            return found, total

    def team_read(self, account_id: int, public_id: str) -> Inquiry | None:
        """One inquiry for a coordinator whose claims cover it (audited; the first read
        marks it seen)."""
        actor = f"account:{account_id}"
        with self.app.engine.begin() as conn:
            found = inquiries.in_claims(conn, public_id[:40], claims.claims_of(conn, account_id))
            if found is None:
                return None
            audit.record(conn, actor, "read", inquiry_id=found.id, nct_id=found.nct_id)
            if found.status == "sent":
                found = inquiries.change_status(conn, found, "seen", None, actor)
                self._notify(conn, found)
            return found

    def team_status(self, account_id: int, public_id: str, status: Status,
                    note: str | None) -> Inquiry | None:
        actor = f"account:{account_id}"
        with self.app.engine.begin() as conn:
            found = inquiries.in_claims(conn, public_id[:40], claims.claims_of(conn, account_id))
            if found is None:
                return None
            changed = inquiries.change_status(conn, found, status, note, actor)
            audit.record(conn, actor, "status", inquiry_id=found.id, nct_id=found.nct_id,
                         detail=status)
            self._notify(conn, changed)
            return changed

    # ------------------------------------------------------------ emailed recipients
    def recipient_send_code(self, token: str) -> bool:
        with self.app.engine.begin() as conn:
            access = recipient.find(conn, token)
            if access is None:
                return False
            inquiry = _by_row(conn, access.inquiry_id)
            code = recipient.new_code(conn, access)
            mailing.code(conn, access.email, code, inquiry.nct_id if inquiry else "",
                         f"code:{access.id}:{code}")
            return True

    def recipient_verify(self, token: str, code: str, session_hash: str) -> bool | None:
        """True: unlocked; False: wrong code; None: no such link."""
        with self.app.engine.begin() as conn:
            access = recipient.find(conn, token)
            if access is None:
                return None
            return recipient.verify(conn, access, code, session_hash)

    def recipient_read(self, token: str, session_hash: str | None) -> Inquiry | bool | None:
        """The inquiry when this session unlocked the link (audited, marks it seen);
        False when the link exists but is locked; None when there is no such link."""
        with self.app.engine.begin() as conn:
            access = recipient.find(conn, token)
            if access is None:
                return None
            if not recipient.unlocked(access, session_hash):
                return False
            found = _by_row(conn, access.inquiry_id)
            if found is None:
                return None
            actor = f"email:{access.email}"
            audit.record(conn, actor, "read", inquiry_id=found.id, nct_id=found.nct_id)
            if found.status == "sent":
                found = inquiries.change_status(conn, found, "seen", None, actor)
                self._notify(conn, found)
            return found

    def recipient_status(self, token: str, session_hash: str | None, status: Status,
                         note: str | None) -> Inquiry | None:
        with self.app.engine.begin() as conn:
            access = recipient.find(conn, token)
            if access is None or not recipient.unlocked(access, session_hash):
                return None
            found = _by_row(conn, access.inquiry_id)
            if found is None:
                return None
            actor = f"email:{access.email}"
            changed = inquiries.change_status(conn, found, status, note, actor)
            audit.record(conn, actor, "status", inquiry_id=found.id, nct_id=found.nct_id,
                         detail=status)
            self._notify(conn, changed)
            return changed

    # ------------------------------------------------------------ admins
    def audit_log(self, *, limit: int = 100, offset: int = 0,
                  inquiry_id: str | None = None) -> tuple[list[AuditEntry], int]:
        with self.app.connect() as conn:
            return audit.entries(conn, limit=limit, offset=offset, inquiry_id=inquiry_id)


def _claims_on(conn: Any, nct_id: str) -> list[Claim]:
    from sqlalchemy import select

    from trialscout.contact.tables import ClaimRow

    rows = conn.execute(select(ClaimRow.__table__).where(ClaimRow.nct_id == nct_id))
    return [Claim(account_id=r.account_id, nct_id=r.nct_id, site_key=r.site_key, via=r.via,
                  created_at=r.created_at) for r in rows]


def _by_row(conn: Any, ident: int) -> Inquiry | None:
    from trialscout.contact.tables import InquiryRow

    return inquiries.load(conn, InquiryRow.id == ident)
