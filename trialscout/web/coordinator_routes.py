"""The coordinator workspace (claims, inquiries, status changes, CSV) and the admin's
audit log and grants.

Only accounts with the coordinator or admin role reach these routes, and a coordinator
reaches only the inquiries their claims cover: everything else is 404, as if it did not
exist. Every inquiry shown (list, detail, export) is written to the audit log by the core
before the response is built.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select

from trialscout.accounts.lookup import AccountInfo
from trialscout.accounts.tables import AccountRow
from trialscout.contact import attempts
from trialscout.contact.inquiries import ContactError, to_csv
from trialscout.contact.models import STATUSES, AuditEntry, Claim, Inquiry, Status
from trialscout.contact.sites import ALL_SITES, label_for, record_emails, site_key
from trialscout.web.accounts_context import require_role
from trialscout.web.contact_routes import (
    Fields,
    InquiryId,
    MailDep,
    StatusBody,
    add_private_page,
    not_found,
    service,
)
from trialscout.web.context import web_context
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.trial_routes import NctId, load_trial
from trialscout.web.visitor import CsrfDep

Coordinator = Annotated[AccountInfo, Depends(require_role("coordinator", "admin"))]
Admin = Annotated[AccountInfo, Depends(require_role("admin"))]
ClaimToken = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{20,100}$")]
SiteKey = Annotated[str, Field(pattern=r"^(\*|central|[0-9a-f]{12})$")]


class WorkspaceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nct_id: str | None = Field(default=None, pattern=r"^NCT\d{8}$")
    site_key: str | None = Field(default=None, pattern=r"^(central|[0-9a-f]{12})$")
    status: Status | None = None
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=25, ge=1, le=100)


class ClaimView(Claim):
    title: str
    site: str


class SiteOption(BaseModel):
    key: str
    label: str


class Workspace(BaseModel):
    claims: list[ClaimView]
    sites: list[SiteOption] = Field(default_factory=list,
                                    description="The sites your claims cover, to filter by.")
    items: list[Inquiry]
    total: int
    query: WorkspaceQuery
    statuses: list[str] = Field(default_factory=lambda: [str(s) for s in STATUSES])


class ClaimChoice(BaseModel):
    key: str
    label: str
    emails: list[str] = Field(description="Addresses on the registry record that may "
                              "confirm a claim on this site.")


class ClaimForm(BaseModel):
    nct_id: str
    title: str
    choices: list[ClaimChoice]


class ClaimBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_key: SiteKey
    email: str = Field(min_length=3, max_length=254)


class ClaimSent(BaseModel):
    message: str


class ConfirmPage(BaseModel):
    token: str


class ConfirmBody(BaseModel):
    token: str = Field(min_length=20, max_length=100)


class GrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_email: str = Field(min_length=3, max_length=254)
    nct_id: str = Field(pattern=r"^NCT\d{8}$")
    site_key: SiteKey = ALL_SITES


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    page: int
    page_size: int


def _claim_views(request: Request, claims: list[Claim]
                 ) -> tuple[list[ClaimView], list[SiteOption]]:
    views, sites = [], {}
    for claim in claims:
        trial = web_context(request).core.trial(claim.nct_id)
        title = trial.title if trial else claim.nct_id
        site = (label_for(trial, claim.site_key) if trial else None) or claim.site_key
        views.append(ClaimView(**claim.model_dump(), title=title, site=site))
        if trial is not None:
            keys = ([site_key(s) for s in trial.sites] if claim.site_key == ALL_SITES
                    else [claim.site_key])
            for key in keys:
                sites[key] = f"{claim.nct_id} · {label_for(trial, key) or key}"
    return views, [SiteOption(key=k, label=v) for k, v in sites.items()]


def workspace(request: Request, account: Coordinator,
              query: Annotated[WorkspaceQuery, Query()]) -> Workspace:
    """Inquiries on the trials you claimed, newest first, filtered by trial, site and
    status; each with the patient's pre-screen. Every inquiry listed is audited."""
    contact = service(request)
    items, total = contact.workspace(account.id, nct_id=query.nct_id,
                                     site_key=query.site_key, status=query.status,
                                     limit=query.page_size,
                                     offset=(query.page - 1) * query.page_size)
    claims, sites = _claim_views(request, contact.claims(account.id))
    return Workspace(claims=claims, sites=sites, items=items, total=total, query=query)


def team_inquiry(request: Request, account: Coordinator, inquiry_id: InquiryId) -> Inquiry:
    """One inquiry your claims cover (audited; the first read marks it seen)."""
    found = service(request).team_read(account.id, inquiry_id)
    if found is None:
        raise not_found()
    return found


def _set_status(request: Request, account: AccountInfo, inquiry_id: str, status: Status,
                note: str | None) -> Inquiry:
    try:
        found = service(request).team_status(account.id, inquiry_id, status, note)
    except ContactError as exc:
        raise ProblemException(409, exc.message, "conflict") from None
    if found is None:
        raise not_found()
    return found


def set_status(request: Request, account: Coordinator, inquiry_id: InquiryId,
               body: StatusBody) -> Inquiry:
    """Change an inquiry's status with a note; the patient gets an email. A withdrawn
    inquiry cannot change (409)."""
    return _set_status(request, account, inquiry_id, body.status, body.note)


def post_status_form(request: Request, account: Coordinator, inquiry_id: InquiryId,
                     fields: Fields) -> RedirectResponse:
    try:
        body = StatusBody(status=fields.get("status", ""),  # type: ignore[arg-type]
                          note=fields.get("note") or None)
    except ValidationError:
        raise ProblemException(422, "Choose a status; notes are at most 1000 characters.",
                               "validation") from None
    _set_status(request, account, inquiry_id, body.status, body.note)
    return RedirectResponse(f"/coordinator/inquiries/{inquiry_id}", status_code=303)


def export_csv(request: Request, account: Coordinator,
               query: Annotated[WorkspaceQuery, Query()]) -> Response:
    """The filtered inquiries as CSV (up to 5000; every row exported is audited)."""
    items, _ = service(request).workspace(account.id, nct_id=query.nct_id,
                                          site_key=query.site_key, status=query.status,
                                          limit=5000, action="export")
    return Response(to_csv(items), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="inquiries.csv"',
        "Cache-Control": "no-store"})


def claim_form(request: Request, account: Coordinator, nct_id: NctId) -> ClaimForm:
    """The sites of a trial you may claim, with the registry addresses that can confirm."""
    trial = load_trial(request, nct_id)
    choices = [ClaimChoice(key=ALL_SITES, label="All sites",
                           emails=record_emails(trial, ALL_SITES))]
    for site in trial.sites:
        key = site_key(site)
        choices.append(ClaimChoice(key=key, label=label_for(trial, key) or key,
                                   emails=record_emails(trial, key)))
    return ClaimForm(nct_id=nct_id, title=trial.title,
                     choices=[c for c in choices if c.emails])


def _request_claim(request: Request, account: AccountInfo, nct_id: str, body: ClaimBody
                   ) -> ClaimSent:
    trial = load_trial(request, nct_id)
    try:
        service(request).request_claim(trial, account.id, body.site_key, body.email)
    except ContactError as exc:
        raise RequestValidationError([{"loc": ("body", exc.field), "msg": exc.message,
                                       "type": "value_error"}]) from None
    except attempts.Locked as exc:
        raise ProblemException(429, "Too many claim links today.", "rate-limited",
                               headers={"Retry-After": str(exc.retry_after)}) from None
    return ClaimSent(message=f"We emailed a claim link to {body.email}. Open it while "
                     "signed in to this account.")


def request_claim(request: Request, account: Coordinator, nct_id: NctId,
                  body: ClaimBody) -> ClaimSent:
    """Email a claim link to an address the registry record lists for the site."""
    return _request_claim(request, account, nct_id, body)


def post_claim_form(request: Request, account: Coordinator, nct_id: NctId,
                    fields: Fields) -> RedirectResponse:
    try:
        site, _, email = fields.get("pick", "").partition("|")
        body = ClaimBody(site_key=site, email=email)
    except ValidationError:
        raise ProblemException(422, "Choose a site and one of its addresses.",
                               "validation") from None
    _request_claim(request, account, nct_id, body)
    return RedirectResponse(f"/coordinator/trials/{nct_id}/claim?sent=true", status_code=303)


def confirm_page(request: Request, account: Coordinator, token: ClaimToken) -> ConfirmPage:
    return ConfirmPage(token=token)


def _confirm(request: Request, account: AccountInfo, token: str) -> Claim:
    try:
        claim = service(request).confirm_claim(account.id, token)
    except attempts.Locked as exc:
        raise ProblemException(429, "Too many wrong claim links; please wait.",
                               "rate-limited",
                               headers={"Retry-After": str(exc.retry_after)}) from None
    if claim is None:
        raise not_found()
    return claim


def confirm_claim(request: Request, account: Coordinator, body: ConfirmBody) -> Claim:
    """Turn an emailed claim link into a claim (404 for a wrong, used or expired link;
    429 after 5 wrong ones in 15 minutes)."""
    return _confirm(request, account, body.token)


def post_confirm_form(request: Request, account: Coordinator, token: ClaimToken
                      ) -> RedirectResponse:
    claim = _confirm(request, account, token)
    return RedirectResponse(f"/coordinator?nct_id={claim.nct_id}", status_code=303)


def audit_log(request: Request, account: Admin,
              page: Annotated[int, Query(ge=1, le=100_000)] = 1,
              page_size: Annotated[int, Query(ge=1, le=500)] = 100) -> AuditPage:
    """Who read which inquiry, when (newest first). Admins only."""
    items, total = service(request).audit_log(limit=page_size, offset=(page - 1) * page_size)
    return AuditPage(items=items, total=total, page=page, page_size=page_size)


def grant(request: Request, account: Admin, body: GrantBody) -> Claim:
    """Give a coordinator account a claim on a trial (one site or all)."""
    trial = load_trial(request, body.nct_id)
    with web_context(request).core.connect() as conn:
        target = conn.execute(select(AccountRow.id, AccountRow.role).where(
            func.lower(AccountRow.email) == body.account_email.strip().lower())).first()
    if target is None or target.role not in ("coordinator", "admin"):
        raise RequestValidationError([{"loc": ("body", "account_email"), "type": "value_error",
                                       "msg": "No coordinator account with that address."}])
    try:
        return service(request).grant(trial, int(target.id), body.site_key, account.id)
    except ContactError as exc:
        raise RequestValidationError([{"loc": ("body", exc.field), "msg": exc.message,
                                       "type": "value_error"}]) from None


def register(api: APIRouter, pages: APIRouter) -> None:
    hidden = problem_responses(404, 422)
    writing = problem_responses(403, 404, 409, 422, 429)
    tags: list[str | Enum] = ["coordinator"]
    admin: list[str | Enum] = ["admin"]
    api.add_api_route("/coordinator/inquiries", workspace, methods=["GET"],
                      response_model=Workspace, responses=hidden, tags=tags,
                      summary="Inquiries on my claimed trials")
    api.add_api_route("/coordinator/inquiries.csv", export_csv, methods=["GET"],
                      response_class=Response, responses=hidden, tags=tags,
                      summary="Export inquiries as CSV")
    api.add_api_route("/coordinator/inquiries/{inquiry_id}", team_inquiry, methods=["GET"],
                      response_model=Inquiry, responses=hidden, tags=tags,
                      dependencies=[MailDep],
                      summary="One inquiry")
    api.add_api_route("/coordinator/inquiries/{inquiry_id}/status", set_status,
                      methods=["POST"], response_model=Inquiry, responses=writing,
                      dependencies=[CsrfDep, MailDep], tags=tags, summary="Change the status")
    api.add_api_route("/coordinator/trials/{nct_id}/claim", claim_form, methods=["GET"],
                      response_model=ClaimForm, responses=hidden, tags=tags,
                      summary="Sites I may claim")
    api.add_api_route("/coordinator/trials/{nct_id}/claims", request_claim, methods=["POST"],
                      status_code=202, response_model=ClaimSent, responses=writing,
                      dependencies=[CsrfDep, MailDep], tags=tags, summary="Email me a claim link")
    api.add_api_route("/coordinator/claims/confirm", confirm_claim, methods=["POST"],
                      response_model=Claim, responses=writing, dependencies=[CsrfDep, MailDep],
                      tags=tags, summary="Confirm a claim link")
    api.add_api_route("/admin/audit", audit_log, methods=["GET"], response_model=AuditPage,
                      responses=hidden, tags=admin, summary="Inquiry read audit log")
    api.add_api_route("/admin/grants", grant, methods=["POST"], status_code=201,
                      response_model=Claim, responses=writing, dependencies=[CsrfDep, MailDep],
                      tags=admin, summary="Grant a coordinator a claim")
    add_private_page(pages, "/coordinator", workspace, "coordinator.html")
    pages.add_api_route("/coordinator/inquiries.csv", export_csv, methods=["GET"],
                        include_in_schema=False, response_class=Response)
    add_private_page(pages, "/coordinator/inquiries/{inquiry_id}", team_inquiry,
                     "coordinator_inquiry.html", dependencies=[MailDep])
    pages.add_api_route("/coordinator/inquiries/{inquiry_id}/status", post_status_form,
                        methods=["POST"], dependencies=[CsrfDep, MailDep], include_in_schema=False,
                        response_model=None)
    add_private_page(pages, "/coordinator/trials/{nct_id}/claim", claim_form,
                     "coordinator_claim.html")
    pages.add_api_route("/coordinator/trials/{nct_id}/claims", post_claim_form,
                        methods=["POST"], dependencies=[CsrfDep, MailDep], include_in_schema=False,
                        response_model=None)
    add_private_page(pages, "/coordinator/claim/{token}", confirm_page,
                     "coordinator_confirm.html")
    pages.add_api_route("/coordinator/claim/{token}", post_confirm_form, methods=["POST"],
                        dependencies=[CsrfDep, MailDep], include_in_schema=False,
                        response_model=None)
    add_private_page(pages, "/admin/audit", audit_log, "audit.html")
