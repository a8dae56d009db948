"""Private notes on trials ("My notes"), and what the workspace routes share: whose rows a
request reaches, and pages that are never cached.

A note belongs to its owner (the visitor's session, or their account once signed in:
``web.accounts_context``); any other owner's note id answers 404, exactly like an id that
does not exist. Pages and the
JSON API come from the same handlers; form posts redirect (303) and need the CSRF token.
Note text is never logged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from trialscout.registry.model import Trial
from trialscout.web.accounts_context import current_account, request_owner
from trialscout.web.context import web_context
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.trial_routes import NctId, load_trial
from trialscout.web.visitor import (
    CsrfDep,
    Visitor,
    VisitorDep,
    form_fields,
    known_session,
)
from trialscout.workspace import NoteError, NoteIn, NoteStore, NoteView, session_owner
from trialscout.workspace.notes import MAX_BODY, MAX_QUOTE

NoteId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A note id of yours.")]


# ------------------------------------------------------------------ shared by the workspace
def reading_owner(request: Request) -> str | None:
    """The owner key whose rows this request may read: the signed-in account, else the
    visitor's session (None: a visitor with no session yet, who owns nothing)."""
    account = current_account(request)
    if account is not None:
        return account.owner
    token = known_session(request)
    return session_owner(token) if token else None


def writing_owner(request: Request, visitor: Visitor) -> str:
    """The owner key rows written by this request belong to. An anonymous visitor's session
    row is created (or touched) so the rows live and expire with the session, and a new
    visitor gets their cookie with this response."""
    if current_account(request) is None:
        web_context(request).sessions.put_answers(visitor.token, {})
    return request_owner(request)


def not_found(what: str) -> ProblemException:
    return ProblemException(404, f"No {what} of yours with that id.", "not-found")


def add_private_page(router: APIRouter, path: str, handler: Callable[..., Any],
                     template: str) -> None:
    """Serve ``handler``'s result as HTML at ``path``: like ``rendering.add_page_route``
    but never from the shared page cache, since the page holds one visitor's own data."""
    if "request" not in inspect.signature(handler).parameters:
        raise TypeError(f"{handler.__name__} needs a `request: Request` parameter")

    @functools.wraps(handler)
    def page(*args: Any, **kwargs: Any) -> HTMLResponse:
        request: Request = kwargs["request"]
        result = handler(*args, **kwargs)
        return web_context(request).renderer.page(request, template, page=result)

    router.add_api_route(path, page, methods=["GET"], response_class=HTMLResponse,
                         response_model=None, include_in_schema=False,
                         name=f"page_{handler.__name__}")


def form_errors(exc: ValidationError) -> RequestValidationError:
    """A pydantic error from a form, as the 422 the API would give (values not echoed)."""
    return RequestValidationError([{"loc": ("body", *e["loc"]), "msg": e["msg"],
                                    "type": e["type"]} for e in exc.errors()])


# ------------------------------------------------------------------------------ notes
class NoteList(BaseModel):
    items: list[NoteView]
    total: int
    nct_id: str | None = None
    title: str | None = None
    titles: dict[str, str] = {}
    max_body: int = MAX_BODY
    max_quote: int = MAX_QUOTE


def _store(request: Request) -> NoteStore:
    return NoteStore(web_context(request).core.engine)


def _titles(request: Request, ids: set[str]) -> dict[str, str]:
    from trialscout.web.patient_match import load_trials

    found: dict[str, Trial] = load_trials(web_context(request), sorted(ids))
    return {nct: trial.title for nct, trial in found.items()}


def my_notes(request: Request) -> NoteList:
    """Every note of yours, by trial."""
    owner = reading_owner(request)
    items = _store(request).list(owner) if owner else []
    return NoteList(items=items, total=len(items),
                    titles=_titles(request, {n.nct_id for n in items}))


def trial_notes(request: Request, nct_id: NctId) -> NoteList:
    """Your notes on this trial."""
    trial = load_trial(request, nct_id)
    owner = reading_owner(request)
    items = _store(request).list(owner, nct_id) if owner else []
    return NoteList(items=items, total=len(items), nct_id=nct_id, title=trial.title,
                    titles={nct_id: trial.title})


def note(request: Request, note_id: NoteId) -> NoteView:
    """One note of yours."""
    owner = reading_owner(request)
    found = _store(request).get(owner, note_id) if owner else None
    if found is None:
        raise not_found("note")
    return found


def _add(request: Request, nct_id: str, visitor: Visitor, body: NoteIn) -> NoteView:
    load_trial(request, nct_id)
    owner = writing_owner(request, visitor)
    try:
        return _store(request).add(owner, nct_id, body)
    except NoteError as exc:
        raise ProblemException(422, str(exc), "too-many") from None


def add_note(request: Request, nct_id: NctId, body: NoteIn, visitor: VisitorDep) -> NoteView:
    """Write a note on the trial, optionally on a passage of its page: ``quote`` is the
    selected text and ``anchor`` its section and character offsets."""
    return _add(request, nct_id, visitor, body)


def edit_note(request: Request, note_id: NoteId, body: NoteIn) -> NoteView:
    """Replace a note of yours."""
    owner = reading_owner(request)
    found = _store(request).update(owner, note_id, body) if owner else None
    if found is None:
        raise not_found("note")
    return found


def delete_note(request: Request, note_id: NoteId) -> Response:
    """Delete a note of yours."""
    owner = reading_owner(request)
    if not owner or not _store(request).delete(owner, note_id):
        raise not_found("note")
    return Response(status_code=204)


def _note_from_form(fields: dict[str, str]) -> NoteIn:
    data: dict[str, Any] = {"body": fields.get("body", "")}
    if fields.get("quote"):
        data["quote"] = fields["quote"]
    if fields.get("anchor_section"):
        data["anchor"] = {"section": fields.get("anchor_section"),
                          "start": fields.get("anchor_start") or "0",
                          "end": fields.get("anchor_end") or "0"}
    try:
        return NoteIn.model_validate(data)
    except ValidationError as exc:
        raise form_errors(exc) from None


Fields = Annotated[dict[str, str], Depends(form_fields)]


def post_note_form(request: Request, nct_id: NctId, visitor: VisitorDep,
                   fields: Fields) -> RedirectResponse:
    _add(request, nct_id, visitor, _note_from_form(fields))
    return RedirectResponse(f"/trials/{nct_id}/notes", status_code=303)


def post_edit_form(request: Request, note_id: NoteId, fields: Fields) -> RedirectResponse:
    edited = edit_note(request, note_id, _note_from_form(fields))
    return RedirectResponse(f"/trials/{edited.nct_id}/notes", status_code=303)


def post_delete_form(request: Request, note_id: NoteId) -> RedirectResponse:
    found = note(request, note_id)
    delete_note(request, note_id)
    return RedirectResponse(f"/trials/{found.nct_id}/notes", status_code=303)


def register(api: APIRouter, pages: APIRouter) -> None:
    mine = problem_responses(404, 422)
    changing = problem_responses(403, 404, 413, 422)
    api.add_api_route("/notes", my_notes, methods=["GET"], response_model=NoteList,
                      tags=["notes"], summary="My notes")
    api.add_api_route("/notes/{note_id}", note, methods=["GET"], response_model=NoteView,
                      responses=mine, tags=["notes"], summary="One note of mine")
    api.add_api_route("/notes/{note_id}", edit_note, methods=["PUT"], response_model=NoteView,
                      responses=changing, dependencies=[CsrfDep], tags=["notes"],
                      summary="Edit a note")
    api.add_api_route("/notes/{note_id}", delete_note, methods=["DELETE"], status_code=204,
                      response_class=Response, responses=changing, dependencies=[CsrfDep],
                      tags=["notes"], summary="Delete a note")
    api.add_api_route("/trials/{nct_id}/notes", trial_notes, methods=["GET"],
                      response_model=NoteList, responses=mine, tags=["notes"],
                      summary="My notes on a trial")
    api.add_api_route("/trials/{nct_id}/notes", add_note, methods=["POST"], status_code=201,
                      response_model=NoteView, responses=changing, dependencies=[CsrfDep],
                      tags=["notes"], summary="Write a note on a trial")
    add_private_page(pages, "/notes", my_notes, "notes.html")
    add_private_page(pages, "/notes/{note_id}", note, "note_edit.html")
    add_private_page(pages, "/trials/{nct_id}/notes", trial_notes, "notes.html")
    for path, handler in (("/trials/{nct_id}/notes", post_note_form),
                          ("/notes/{note_id}", post_edit_form),
                          ("/notes/{note_id}/delete", post_delete_form)):
        pages.add_api_route(path, handler, methods=["POST"], dependencies=[CsrfDep],
                            include_in_schema=False, response_model=None)
