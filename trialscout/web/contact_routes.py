"""Contact the study team: the inquiry form, "My inquiries", withdrawing, and the secure
link a site's contact opens from the inquiry email.

Inquiries belong to the request's owner key (``accounts_context.request_owner``): a
signed-in account, else the anonymous session. Any other inquiry id is 404, on pages and
API alike. Pages are never served from the page cache. Form posts need the CSRF token and
answer with a redirect (POST-redirect-GET). Nothing a patient typed is logged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError

from trialscout.contact import attempts
from trialscout.contact.inquiries import ContactError, RateLimited
from trialscout.contact.models import (
    MAX_MESSAGE,
    MAX_NOTE,
    STATUS_LABELS,
    TEAM_STATUSES,
    ContactDetails,
    Inquiry,
    InquiryRequest,
    Prescreen,
    SiteChoice,
    Status,
)
from trialscout.contact.service import ContactService
from trialscout.sessions.tokens import hash_session_token
from trialscout.web.accounts_context import current_account, request_owner
from trialscout.web.context import web_context
from trialscout.web.params import NearQuery
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.trial_routes import NctId, checklist_for, load_trial
from trialscout.web.visitor import (
    CsrfDep,
    current_visitor,
    form_fields,
    issue_session_cookie,
    known_session,
)

InquiryId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{10,40}$",
                                description="An inquiry's id (yours).")]
LinkToken = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{20,100}$",
                                description="The token of the link in the inquiry email.")]
Fields = Annotated[dict[str, str], Depends(form_fields)]
SENT = ("Your inquiry was sent. You will get an email each time its status changes, and "
        "you can withdraw it at any time.")


class ContactForm(BaseModel):
    """What the inquiry form offers: the sites (nearest first when your place is known)
    and exactly what will be shared from your self-check."""

    nct_id: str
    title: str
    sites: list[SiteChoice]
    prescreen: Prescreen
    max_message: int = MAX_MESSAGE
    signed_in: bool = False


class InquiryList(BaseModel):
    items: list[Inquiry]
    total: int


class WithdrawBody(BaseModel):
    note: str | None = Field(default=None, max_length=MAX_NOTE)


class CodeBody(BaseModel):
    code: str = Field(min_length=6, max_length=12)


class StatusBody(BaseModel):
    status: Literal["seen", "contacted", "screening", "enrolled", "not_eligible"]
    note: str | None = Field(default=None, max_length=MAX_NOTE)


class RecipientPage(BaseModel):
    """An emailed link: the inquiry once this browser proved control of the address."""

    unlocked: bool
    code_sent: bool = False
    inquiry: Inquiry | None = None
    statuses: list[str] = Field(default_factory=lambda: [str(s) for s in TEAM_STATUSES])


def deliver_after(request: Request, background: BackgroundTasks) -> None:
    """Send what the request queued (the inquiry, status and code emails) right after the
    response, when SMTP is set up; the outbox keeps each message to one delivery."""
    core = web_context(request).core
    if core.settings.smtp_host:
        from trialscout.mail.delivery import deliver_pending

        background.add_task(deliver_pending, core, limit=50)


MailDep = Depends(deliver_after)


def service(request: Request) -> ContactService:
    return web_context(request).core.contact


def not_found() -> ProblemException:
    return ProblemException(404, "Not found.", "not-found")


def asked_count(request: Request, nct_id: str) -> int | None:
    return service(request).asked_count(nct_id)


def add_private_page(router: APIRouter, path: str, handler: Callable[..., Any],
                     template: str, dependencies: list[Any] | None = None) -> None:
    """A page showing ``handler``'s result, never from the shared page cache."""
    if "request" not in inspect.signature(handler).parameters:
        raise TypeError(f"{handler.__name__} needs a `request: Request` parameter")

    @functools.wraps(handler)
    def page(*args: Any, **kwargs: Any) -> HTMLResponse:
        request: Request = kwargs["request"]
        result = handler(*args, **kwargs)
        return web_context(request).renderer.page(request, template, page=result,
                                                  labels=STATUS_LABELS)

    router.add_api_route(path, page, methods=["GET"], response_class=HTMLResponse,
                         response_model=None, include_in_schema=False,
                         name=f"page_{handler.__name__}", dependencies=dependencies)


def reading_owner(request: Request) -> str | None:
    """Whose inquiries this request may read; None for a browser with no session yet."""
    if current_account(request) is None and known_session(request) is None:
        return None
    return request_owner(request)


def writing_owner(request: Request) -> str:
    """The owner of what this request creates. An anonymous visitor's session row is made
    now, so the inquiry lives (and is deleted) with the session."""
    if current_account(request) is None:
        visitor = current_visitor(request)
        web_context(request).sessions.put_answers(visitor.token, {})
        issue_session_cookie(request, visitor)
    return request_owner(request)


def _origin(request: Request, place: NearQuery) -> tuple[float, float] | None:
    from trialscout.search.places import gazetteer
    from trialscout.web.visitor import visitor_profile

    if place.lat is not None and place.lon is not None:
        return (place.lat, place.lon)
    near = place.near or visitor_profile(request).near
    resolved = gazetteer().resolve(near) if near else None
    return (resolved.lat, resolved.lon) if resolved is not None else None


def contact_form(request: Request, nct_id: NctId,
                 place: Annotated[NearQuery, Query()]) -> ContactForm:
    """The inquiry form for a trial: its sites, nearest first, and the pre-screen your
    self-check answers make (what "share my self-check" would send)."""
    trial = load_trial(request, nct_id)
    try:
        origin = _origin(request, place)
    except Exception:  # noqa: BLE001 - an unknown place only loses the distance order
        origin = None
    from trialscout.contact.prescreen import from_checklist

    return ContactForm(nct_id=nct_id, title=trial.title,
                       sites=service(request).site_choices(trial, origin),
                       prescreen=from_checklist(checklist_for(request, trial)),
                       signed_in=current_account(request) is not None)


def _send(request: Request, nct_id: str, body: InquiryRequest) -> Inquiry:
    trial = load_trial(request, nct_id)
    owner = writing_owner(request)
    token = known_session(request) or current_visitor(request).token
    questions = checklist_for(request, trial)
    answers = {i.question_key: i.answer for i in questions.items
               if i.question_key and i.answer is not None}
    address = request.client.host if request.client else "unknown"
    return service(request).send(trial, body, owner=owner, client_key=address or token,
                                 answers=answers)


def _limited(exc: RateLimited) -> ProblemException:
    text = ("Many people have written to study teams today; please try again later."
            if exc.scope == "site" else
            "You have sent several inquiries today; please try again tomorrow.")
    return ProblemException(429, text, "rate-limited",
                            headers={"Retry-After": str(exc.retry_after)})


def send_inquiry(request: Request, nct_id: NctId, body: InquiryRequest) -> Inquiry:
    """Send an inquiry to the chosen site's team (or its coordinator on TrialScout).
    ``agree`` must be true: the patient saw what is shared. 422 names the field; 429
    with Retry-After over the per-visitor or daily limit."""
    try:
        return _send(request, nct_id, body)
    except ContactError as exc:
        raise RequestValidationError([{"loc": ("body", exc.field), "msg": exc.message,
                                       "type": "value_error"}]) from None
    except RateLimited as exc:
        raise _limited(exc) from None


def _request_from_form(fields: dict[str, str]) -> InquiryRequest:
    contact = ContactDetails(
        name=fields.get("name", "")[:200] or " ", email=fields.get("email") or None,
        phone=fields.get("phone") or None,
        preferred_way=fields.get("preferred_way", "either"),  # type: ignore[arg-type]
        preferred_time=fields.get("preferred_time") or None)
    return InquiryRequest(site_key=fields.get("site_key", "")[:16] or "-", contact=contact,
                          message=fields.get("message") or None,
                          share_prescreen=fields.get("share_prescreen") == "on",
                          email_health_data=fields.get("email_health_data") == "on",
                          agree=fields.get("agree") == "on")


def post_contact_form(request: Request, nct_id: NctId, fields: Fields
                      ) -> HTMLResponse | RedirectResponse:
    errors: dict[str, str] = {}
    try:
        body = _request_from_form(fields)
        sent = _send(request, nct_id, body)
    except ValidationError as exc:
        errors = {str(e["loc"][-1]): e["msg"] for e in exc.errors()}
    except ContactError as exc:
        errors = {exc.field: exc.message}
    except RateLimited as exc:
        raise _limited(exc) from None
    else:
        return RedirectResponse(f"/inquiries/{sent.id}?sent=true", status_code=303)
    form = contact_form(request, nct_id, NearQuery())
    return web_context(request).renderer.page(request, "contact.html", status_code=422,
                                              page=form, errors=errors, values=fields,
                                              labels=STATUS_LABELS)


def my_inquiries(request: Request) -> InquiryList:
    """Your inquiries, newest first, each with its status history."""
    owner = reading_owner(request)
    found = service(request).mine(owner) if owner else []
    return InquiryList(items=found, total=len(found))


def my_inquiry(request: Request, inquiry_id: InquiryId) -> Inquiry:
    """One of your inquiries and its status history (404 for anyone else's)."""
    owner = reading_owner(request)
    found = service(request).mine_one(owner, inquiry_id) if owner else None
    if found is None:
        raise not_found()
    return found


def _withdraw(request: Request, inquiry_id: str, note: str | None) -> Inquiry:
    owner = reading_owner(request)
    found = service(request).withdraw(owner, inquiry_id, note) if owner else None
    if found is None:
        raise not_found()
    return found


def withdraw(request: Request, inquiry_id: InquiryId, body: WithdrawBody) -> Inquiry:
    """Withdraw your inquiry (at any time; the team sees it as withdrawn)."""
    return _withdraw(request, inquiry_id, body.note)


def post_withdraw_form(request: Request, inquiry_id: InquiryId, fields: Fields
                       ) -> RedirectResponse:
    _withdraw(request, inquiry_id, (fields.get("note") or "")[:MAX_NOTE] or None)
    return RedirectResponse(f"/inquiries/{inquiry_id}", status_code=303)


# ------------------------------------------------------------------ the emailed link
def _browser(request: Request) -> str:
    visitor = current_visitor(request)
    if visitor.is_new:
        issue_session_cookie(request, visitor)
    return hash_session_token(visitor.token)


def recipient_page(request: Request, token: LinkToken,
                   sent: Annotated[bool, Query()] = False) -> RecipientPage:
    """The inquiry behind an emailed link, once this browser entered the code sent to the
    address (until then: unlocked false). Unknown links are 404; every read is audited."""
    found = service(request).recipient_read(token, _browser(request))
    if found is None:
        raise not_found()
    if found is False:
        return RecipientPage(unlocked=False, code_sent=sent)
    assert isinstance(found, Inquiry)
    return RecipientPage(unlocked=True, inquiry=found)


def _locked(exc: attempts.Locked) -> ProblemException:
    return ProblemException(429, "Too many wrong codes; please wait before trying again.",
                            "rate-limited", headers={"Retry-After": str(exc.retry_after)})


def recipient_code(request: Request, token: LinkToken) -> RecipientPage:
    """Email a one-time code to the address this link was sent to."""
    try:
        if not service(request).recipient_send_code(token):
            raise not_found()
    except attempts.Locked as exc:
        raise _locked(exc) from None
    return RecipientPage(unlocked=False, code_sent=True)


def _verify(request: Request, token: str, code: str) -> None:
    try:
        ok = service(request).recipient_verify(token, code, _browser(request))
    except attempts.Locked as exc:
        raise _locked(exc) from None
    if ok is None:
        raise not_found()
    if not ok:
        raise ProblemException(403, "That code is not right or has expired.", "wrong-code")


def recipient_verify(request: Request, token: LinkToken, body: CodeBody) -> RecipientPage:
    """Unlock the link in this browser with the emailed code (403 wrong, 429 locked)."""
    _verify(request, token, body.code)
    return recipient_page(request, token)


def _recipient_status(request: Request, token: str, status: Status,
                      note: str | None) -> Inquiry:
    try:
        found = service(request).recipient_status(token, _browser(request), status, note)
    except ContactError as exc:
        raise ProblemException(409, exc.message, "conflict") from None
    if found is None:
        raise not_found()
    return found


def recipient_status(request: Request, token: LinkToken, body: StatusBody) -> Inquiry:
    """Set the inquiry's status with a note (the patient is emailed)."""
    return _recipient_status(request, token, body.status, body.note)


def post_recipient_code(request: Request, token: LinkToken) -> RedirectResponse:
    recipient_code(request, token)
    return RedirectResponse(f"/inquiries/access/{token}?sent=true", status_code=303)


def post_recipient_verify(request: Request, token: LinkToken, fields: Fields
                          ) -> RedirectResponse:
    _verify(request, token, (fields.get("code") or "")[:12])
    return RedirectResponse(f"/inquiries/access/{token}", status_code=303)


def post_recipient_status(request: Request, token: LinkToken, fields: Fields
                          ) -> RedirectResponse:
    try:
        body = StatusBody(status=fields.get("status", ""),  # type: ignore[arg-type]
                          note=fields.get("note") or None)
    except ValidationError:
        raise ProblemException(422, "Choose a status.", "validation") from None
    _recipient_status(request, token, body.status, body.note)
    return RedirectResponse(f"/inquiries/access/{token}", status_code=303)


def register(api: APIRouter, pages: APIRouter) -> None:
    mine = problem_responses(404, 422)
    writing = problem_responses(403, 404, 413, 422, 429)
    tags: list[str | Enum] = ["contact"]
    api.add_api_route("/trials/{nct_id}/contact", contact_form, methods=["GET"],
                      response_model=ContactForm, responses=mine, tags=tags,
                      summary="Inquiry form: sites and what would be shared")
    api.add_api_route("/trials/{nct_id}/inquiries", send_inquiry, methods=["POST"],
                      status_code=201, response_model=Inquiry, responses=writing,
                      dependencies=[CsrfDep, MailDep], tags=tags, summary="Contact the study team")
    api.add_api_route("/inquiries", my_inquiries, methods=["GET"], response_model=InquiryList,
                      tags=tags, summary="My inquiries")
    api.add_api_route("/inquiries/access/{token}", recipient_page, methods=["GET"],
                      response_model=RecipientPage, responses=mine, tags=tags,
                      dependencies=[MailDep],
                      summary="An emailed inquiry link")
    api.add_api_route("/inquiries/access/{token}/code", recipient_code, methods=["POST"],
                      response_model=RecipientPage, responses=writing,
                      dependencies=[CsrfDep, MailDep], tags=tags, summary="Email me a code")
    api.add_api_route("/inquiries/access/{token}/verify", recipient_verify,
                      methods=["POST"], response_model=RecipientPage, responses=writing,
                      dependencies=[CsrfDep, MailDep], tags=tags, summary="Unlock with the code")
    api.add_api_route("/inquiries/access/{token}/status", recipient_status,
                      methods=["POST"], response_model=Inquiry, responses=writing,
                      dependencies=[CsrfDep, MailDep], tags=tags, summary="Set the status")
    api.add_api_route("/inquiries/{inquiry_id}", my_inquiry, methods=["GET"],
                      response_model=Inquiry, responses=mine, tags=tags,
                      summary="One of my inquiries")
    api.add_api_route("/inquiries/{inquiry_id}/withdraw", withdraw, methods=["POST"],
                      response_model=Inquiry, responses=writing, dependencies=[CsrfDep, MailDep],
                      tags=tags, summary="Withdraw my inquiry")
    add_private_page(pages, "/trials/{nct_id}/contact", contact_form, "contact.html")
    pages.add_api_route("/trials/{nct_id}/contact", post_contact_form, methods=["POST"],
                        dependencies=[CsrfDep, MailDep], include_in_schema=False,
                        response_model=None)
    add_private_page(pages, "/inquiries", my_inquiries, "inquiries.html")
    add_private_page(pages, "/inquiries/access/{token}", recipient_page,
                     "inquiry_access.html", dependencies=[MailDep])
    for suffix, handler in (("code", post_recipient_code), ("verify", post_recipient_verify),
                            ("status", post_recipient_status)):
        pages.add_api_route(f"/inquiries/access/{{token}}/{suffix}", handler,
                            methods=["POST"], dependencies=[CsrfDep, MailDep],
                            include_in_schema=False, response_model=None)
    add_private_page(pages, "/inquiries/{inquiry_id}", my_inquiry, "inquiry.html")
    pages.add_api_route("/inquiries/{inquiry_id}/withdraw", post_withdraw_form,
                        methods=["POST"], dependencies=[CsrfDep, MailDep], include_in_schema=False,
                        response_model=None)
