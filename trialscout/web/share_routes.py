"""Passcode share links: make one for a trial (with your notes and, if you choose, your
self-check answers), list and revoke yours, and open one with its passcode.

The token travels in the query string (``/shared?t=...``), which the access log never
records. The shared view is read-only, shows only the snapshot the sharer chose, and is
``noindex`` (meta robots and ``X-Robots-Tag``). Wrong passcodes are counted in the database
by the core (``workspace.shares``): 403 with the attempts left, then 429 with
``Retry-After`` while the link is locked. Unknown, expired and revoked links are 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from trialscout.sessions.selfcheck import Checklist
from trialscout.utc import UtcDateTime
from trialscout.web.context import web_context
from trialscout.web.notes_routes import (
    add_private_page,
    form_errors,
    not_found,
    reading_owner,
    writing_owner,
)
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.trial_routes import NctId, checklist_for, load_trial
from trialscout.web.visitor import CsrfDep, VisitorDep, form_fields
from trialscout.workspace import (
    NoteStore,
    NoteView,
    ShareBusy,
    ShareError,
    ShareIn,
    ShareLocked,
    ShareService,
    ShareView,
    WrongPasscode,
)
from trialscout.workspace.shares import (
    DEFAULT_HOURS,
    MAX_PASSCODE,
    MIN_PASSCODE,
    CreatedShare,
    SharedAnswer,
    SharedContent,
)

ShareId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A share link id of yours.")]
Token = Annotated[str, Query(alias="t", min_length=1, max_length=64,
                             description="The link's token.")]
NOINDEX = {"X-Robots-Tag": "noindex, nofollow, noarchive"}
EXPIRY_CHOICES = [(1, "1 hour"), (24, "1 day"), (72, "3 days"), (168, "7 days"),
                  (336, "14 days"), (720, "30 days")]


class ShareList(BaseModel):
    items: list[ShareView]
    total: int


class ShareForm(BaseModel):
    """What the "Share this trial" page offers: your notes on it and the expiry choices."""

    nct_id: str
    title: str
    notes: list[NoteView]
    answered: int = Field(description="Self-check questions you have answered.")
    expiry_choices: list[tuple[int, str]] = EXPIRY_CHOICES
    default_hours: int = DEFAULT_HOURS
    min_passcode: int = MIN_PASSCODE
    max_passcode: int = MAX_PASSCODE
    shares: list[ShareView] = Field(default_factory=list)


class OpenBody(BaseModel):
    token: str = Field(min_length=1, max_length=64)
    passcode: str = Field(min_length=1, max_length=MAX_PASSCODE)


class LinkState(BaseModel):
    """A live link before its passcode is given: only when it expires."""

    expires_at: UtcDateTime


def _service(request: Request) -> ShareService:
    return ShareService(web_context(request).core.engine)


def _answers(checklist: Checklist) -> list[SharedAnswer]:
    words = {"yes": "Yes", "no": "No", "unsure": "Not sure"}
    return [SharedAnswer(question=item.question or item.text, answer=words[item.answer])
            for item in checklist.items if item.answer is not None]


def share_form(request: Request, nct_id: NctId) -> ShareForm:
    """What you can share of this trial, and your links for it."""
    trial = load_trial(request, nct_id)
    owner = reading_owner(request)
    notes = NoteStore(web_context(request).core.engine).list(owner, nct_id) if owner else []
    shares = _service(request).list(owner, nct_id) if owner else []
    answered = len(_answers(checklist_for(request, trial)))
    return ShareForm(nct_id=nct_id, title=trial.title, notes=notes, answered=answered,
                     shares=shares)


def _create(request: Request, nct_id: str, visitor: Any, choice: ShareIn) -> CreatedShare:
    trial = load_trial(request, nct_id)
    owner = writing_owner(request, visitor)
    notes = NoteStore(web_context(request).core.engine).list(owner, nct_id)
    if choice.note_ids is not None and not set(choice.note_ids) <= {n.id for n in notes}:
        raise not_found("note")
    answers = _answers(checklist_for(request, trial)) if choice.include_answers else None
    try:
        return _service(request).create(owner, nct_id, trial.title, choice, notes, answers)
    except ValueError as exc:
        raise ProblemException(422, str(exc), "too-many") from None
    except ShareBusy as exc:
        raise _busy(exc) from None


def _busy(exc: ShareBusy) -> ProblemException:
    return ProblemException(503, "Too many share links are being made or opened right now; "
                            "try again in a few seconds.", "busy",
                            headers={**NOINDEX, "Retry-After": str(exc.retry_after)})


def create_share(request: Request, nct_id: NctId, body: ShareIn,
                 visitor: VisitorDep) -> CreatedShare:
    """Make a passcode link to this trial with your notes (all, or ``note_ids``) and, if
    ``include_answers``, your self-check answers. Expiry: 1 to 720 hours (default 168).
    The token is returned once; open the link at ``/shared?t=<token>``."""
    return _create(request, nct_id, visitor, body)


def my_shares(request: Request) -> ShareList:
    """Your share links, newest first (never their tokens)."""
    owner = reading_owner(request)
    items = _service(request).list(owner) if owner else []
    return ShareList(items=items, total=len(items))


def revoke_share(request: Request, share_id: ShareId) -> Response:
    """Revoke a link of yours: it opens nothing any more and its snapshot is deleted."""
    owner = reading_owner(request)
    if not owner or not _service(request).revoke(owner, share_id):
        raise not_found("share link")
    return Response(status_code=204)


def link_state(token: Token, request: Request, response: Response) -> LinkState:
    """When a live link expires (404 for an unknown, expired or revoked one)."""
    response.headers.update(NOINDEX)
    try:
        return LinkState(expires_at=_service(request).expiry(token))
    except ShareError:
        raise ProblemException(404, "This link does not exist, has expired or was revoked.",
                               "not-found", headers=NOINDEX) from None


def _open(request: Request, token: str, passcode: str) -> SharedContent:
    try:
        return _service(request).open(token, passcode)
    except ShareError:
        raise ProblemException(404, "This link does not exist, has expired or was revoked.",
                               "not-found", headers=NOINDEX) from None
    except ShareBusy as exc:
        raise _busy(exc) from None
    except ShareLocked as exc:
        raise ProblemException(
            429, f"Too many wrong passcodes: this link is locked until "
            f"{exc.until:%Y-%m-%d %H:%M} UTC.", "locked",
            headers={**NOINDEX, "Retry-After": str(exc.retry_after)}) from None
    except WrongPasscode as exc:
        raise ProblemException(
            403, f"Wrong passcode. {exc.remaining} more wrong "
            f"passcode{'' if exc.remaining == 1 else 's'} will lock the link for 15 minutes.",
            "wrong-passcode", headers=NOINDEX) from None


def open_share(request: Request, body: OpenBody, response: Response) -> SharedContent:
    """Open a link with its passcode: the trial, notes and answers its sharer chose."""
    response.headers.update(NOINDEX)
    return _open(request, body.token, body.passcode)


Fields = Annotated[dict[str, str], Depends(form_fields)]


def post_share_form(request: Request, nct_id: NctId, visitor: VisitorDep,
                    fields: Fields) -> HTMLResponse:
    data: dict[str, Any] = {
        "passcode": fields.get("passcode", ""),
        "expires_in_hours": fields.get("expires_in_hours") or DEFAULT_HOURS,
        "include_notes": fields.get("include_notes") == "on",
        "include_answers": fields.get("include_answers") == "on"}
    picked = [k[5:] for k, v in fields.items() if k.startswith("note-") and v == "on"]
    if data["include_notes"] and "pick_notes" in fields:
        data["note_ids"] = [int(i) for i in picked if i.isdigit()]
    try:
        choice = ShareIn.model_validate(data)
    except ValidationError as exc:
        raise form_errors(exc) from None
    created = _create(request, nct_id, visitor, choice)
    link = f"{request.base_url}shared?t={created.token}"
    return web_context(request).renderer.page(request, "share_created.html", status_code=201,
                                              page=created, link=link)


def post_revoke_form(request: Request, share_id: ShareId) -> RedirectResponse:
    revoke_share(request, share_id)
    return RedirectResponse("/shares", status_code=303)


def shared_page(request: Request, token: Token) -> HTMLResponse:
    state: LinkState | None
    try:
        state = LinkState(expires_at=_service(request).expiry(token))
    except ShareError:
        state = None
    return _shared_html(request, token, state, None, None, 200 if state else 404)


def _shared_html(request: Request, token: str, state: LinkState | None,
                 content: SharedContent | None, problem: str | None, status: int,
                 headers: dict[str, str] | None = None) -> HTMLResponse:
    html = web_context(request).renderer.page(request, "shared.html", status_code=status,
                                              page=content, state=state, token=token,
                                              problem=problem)
    html.headers.update({**NOINDEX, **(headers or {})})
    return html


def post_shared_form(request: Request, fields: Fields) -> HTMLResponse:
    token, passcode = fields.get("t", "")[:64], fields.get("passcode", "")[:MAX_PASSCODE + 1]
    try:
        content = _open(request, token, passcode)
    except ProblemException as exc:
        state = None
        if exc.status_code != 404:
            try:
                state = LinkState(expires_at=_service(request).expiry(token))
            except ShareError:
                state = None
        extra = {"Retry-After": exc.headers["Retry-After"]} if exc.headers and \
            "Retry-After" in exc.headers else None
        return _shared_html(request, token, state, None, str(exc.detail), exc.status_code,
                            extra)
    return _shared_html(request, token, LinkState(expires_at=content.expires_at), content,
                        None, 200)


def register(api: APIRouter, pages: APIRouter) -> None:
    changing = problem_responses(403, 404, 413, 422)
    api.add_api_route("/shares", my_shares, methods=["GET"], response_model=ShareList,
                      tags=["sharing"], summary="My share links")
    api.add_api_route("/shares/{share_id}", revoke_share, methods=["DELETE"],
                      status_code=204, response_class=Response, responses=changing,
                      dependencies=[CsrfDep], tags=["sharing"], summary="Revoke a link")
    api.add_api_route("/trials/{nct_id}/share", share_form, methods=["GET"],
                      response_model=ShareForm, responses=problem_responses(404, 422),
                      tags=["sharing"], summary="What I can share of a trial")
    api.add_api_route("/trials/{nct_id}/shares", create_share, methods=["POST"],
                      status_code=201, response_model=CreatedShare,
                      responses=problem_responses(403, 404, 413, 422, 503),
                      dependencies=[CsrfDep], tags=["sharing"], summary="Make a share link")
    api.add_api_route("/shared", link_state, methods=["GET"], response_model=LinkState,
                      responses=problem_responses(404, 422), tags=["sharing"],
                      summary="When a share link expires")
    api.add_api_route("/shared/open", open_share, methods=["POST"],
                      response_model=SharedContent,
                      responses=problem_responses(403, 404, 422, 429, 503),
                      dependencies=[CsrfDep], tags=["sharing"],
                      summary="Open a share link with its passcode")
    add_private_page(pages, "/shares", my_shares, "shares.html")
    add_private_page(pages, "/trials/{nct_id}/share", share_form, "share_form.html")
    pages.add_api_route("/shared", shared_page, methods=["GET"], response_class=HTMLResponse,
                        include_in_schema=False)
    for path, handler in (("/trials/{nct_id}/share", post_share_form),
                          ("/shares/{share_id}/revoke", post_revoke_form),
                          ("/shared", post_shared_form)):
        pages.add_api_route(path, handler, methods=["POST"], dependencies=[CsrfDep],
                            include_in_schema=False, response_model=None)
