"""The visitor's own data: session, remembered answers, profile, medical history, my matches.

Everything here belongs to the anonymous session of the request. The session-scoped
routes (``/profile``, ``/matches``) can only ever reach that session's data; the routes
that take a record id (``/patients/{patient_id}``) check that the session owns it and
answer 404 for any other id, whether it exists or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from trialscout.patients.loader import MAX_FILE_BYTES, LoadedPatient
from trialscout.search.models import SearchRequest
from trialscout.sessions.models import Profile
from trialscout.web.context import web_context
from trialscout.web.params import drop_empty
from trialscout.web.patient_match import (
    load_record,
    not_yours,
    owned_patient_id,
    record_view,
    run_matches,
    visitor_state,
)
from trialscout.web.patient_views import (
    MatchesPage,
    MatchesQuery,
    PatientRecord,
    ProfileView,
    RecordUpload,
)
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.rendering import add_page_route
from trialscout.web.uploads import read_upload_off_loop
from trialscout.web.viewmodels import AnswersBody, AnswersView, SessionInfo
from trialscout.web.visitor import (
    CsrfDep,
    Visitor,
    VisitorDep,
    current_visitor,
    form_fields,
    issue_session_cookie,
    rotate_session,
)

PROFILE_FIELDS = ("age", "sex", "near", "radius", "unit")
PatientId = Annotated[int, Path(ge=1, le=2_147_483_647,
                                description="Id of the visitor's own patient record.")]


def profile_search(profile: Profile) -> SearchRequest | None:
    """The search a profile feeds: its age, sex and place as filters."""
    if profile.is_empty():
        return None
    return SearchRequest(age=profile.age, sex=profile.sex, near=profile.near,
                         radius=profile.radius if profile.near else None, unit=profile.unit,
                         sort="distance" if profile.near else "relevance")


def session_info(request: Request, visitor: VisitorDep) -> SessionInfo:
    """Start (or continue) an anonymous session and get its CSRF token."""
    ctx = web_context(request)
    issue_session_cookie(request, visitor)
    return SessionInfo(csrf_token=visitor.csrf_token,
                       answers=len(ctx.sessions.answers(visitor.token)),
                       has_profile=not ctx.sessions.profile(visitor.token).is_empty()
                       or ctx.sessions.patient_id(visitor.token) is not None)


def forget_session(request: Request, visitor: VisitorDep) -> None:
    """Forget everything this session holds: answers, profile and medical history.

    The response sets a new session id (its CSRF token in the `X-CSRF-Token` header)."""
    web_context(request).sessions.forget(visitor.token)
    rotate_session(request, visitor)


def get_answers(request: Request) -> AnswersView:
    """Every answer this visitor has given, by question key."""
    token = current_visitor(request).token
    return AnswersView(answers=web_context(request).sessions.answers(token))


def put_answers(request: Request, body: AnswersBody, visitor: VisitorDep) -> AnswersView:
    """Set answers by question key (null forgets one); they apply to every trial, and
    matching counts them as facts."""
    for key in body.answers:
        if not 1 <= len(key) <= 500 or "\x00" in key:
            raise ProblemException(422, "Question keys are 1 to 500 characters, without NUL.",
                                   "validation")
    web_context(request).sessions.put_answers(visitor.token, body.answers)
    issue_session_cookie(request, visitor)
    return get_answers(request)


def clear_all_answers(request: Request, visitor: VisitorDep) -> AnswersView:
    """Forget every answer."""
    web_context(request).sessions.clear_answers(visitor.token)
    return AnswersView(answers={})


# ---------------------------------------------------------------------- profile
def profile_view(request: Request, visitor: VisitorDep) -> ProfileView:
    """The visitor's profile: the form's facts, the medical history read from their upload,
    how many self-check answers matching will count, and the search the profile feeds."""
    state = visitor_state(web_context(request), visitor.token)
    return ProfileView(profile=state.form,
                       record=record_view(state.record) if state.record else None,
                       answers=len(state.answers), active=state.active,
                       search=profile_search(state.form))


def put_profile(request: Request, body: Profile, visitor: VisitorDep) -> ProfileView:
    """Save age, sex and place in the anonymous session.

    The session id is rotated: the response sets the new cookie and carries the new CSRF
    token in the `X-CSRF-Token` header."""
    web_context(request).sessions.put_profile(visitor.token, body)
    return profile_view(request, rotate_session(request, visitor))


def delete_profile(request: Request, visitor: VisitorDep) -> ProfileView:
    """Delete my profile: the form's facts and the medical history (answers stay; forget
    the session to delete those too)."""
    sessions = web_context(request).sessions
    sessions.delete_patient(visitor.token)
    if sessions.has_data(visitor.token):
        sessions.put_profile(visitor.token, Profile())
    return ProfileView(profile=Profile(), search=None)


def _store_record(request: Request, visitor: Visitor, loaded: LoadedPatient) -> PatientRecord:
    stored = web_context(request).sessions.save_patient(visitor.token, loaded.profile,
                                                        loaded.kind)
    rotate_session(request, visitor)
    return record_view(stored)


async def _save_record(request: Request, visitor: Visitor, upload: RecordUpload
                       ) -> PatientRecord:
    """Read the upload in a worker thread within its time budget (503 past it), then store."""
    loaded = await read_upload_off_loop(request, note=upload.note, bundle=upload.bundle)
    return await run_in_threadpool(_store_record, request, visitor, loaded)


async def put_record(request: Request, body: RecordUpload, visitor: VisitorDep
                     ) -> PatientRecord:
    """Read a medical history (a clinical note or a FHIR R4 Bundle) into my profile.

    It replaces the previous one (the record keeps every version). An invalid bundle is
    a 422 whose `errors` name each bad resource (entry, type/id, field). The session id
    is rotated: the new CSRF token is in the `X-CSRF-Token` response header."""
    return await _save_record(request, visitor, body)


def _my_record(request: Request, visitor: Visitor) -> PatientRecord:
    stored = load_record(web_context(request), visitor.token)
    if stored is None:
        raise ProblemException(404, "This session has no medical history.", "not-found")
    return record_view(stored)


def get_record(request: Request, visitor: VisitorDep) -> PatientRecord:
    """My medical history: the facts read from it, each with its source."""
    return _my_record(request, visitor)


def delete_record(request: Request, visitor: VisitorDep) -> None:
    """Delete my medical history (every version), keeping the form's facts."""
    web_context(request).sessions.delete_patient(visitor.token)


def get_patient(request: Request, patient_id: PatientId, visitor: VisitorDep) -> PatientRecord:
    """One patient record, by id: only the session that uploaded it can read it."""
    stored = load_record(web_context(request), visitor.token, patient_id)
    if stored is None:
        raise not_yours(patient_id)
    return record_view(stored)


async def put_patient(request: Request, patient_id: PatientId, body: RecordUpload,
                      visitor: VisitorDep) -> PatientRecord:
    """Replace the medical history of my patient record (a new version)."""
    await run_in_threadpool(owned_patient_id, web_context(request), visitor.token, patient_id)
    return await _save_record(request, visitor, body)


def delete_patient(request: Request, patient_id: PatientId, visitor: VisitorDep) -> None:
    """Delete my patient record with every version."""
    owned_patient_id(web_context(request), visitor.token, patient_id)
    web_context(request).sessions.delete_patient(visitor.token)


# ---------------------------------------------------------------------- matches
def matches(request: Request, query: Annotated[MatchesQuery, Query()],
            visitor: VisitorDep) -> MatchesPage:
    """My matches: trials ranked for my profile, medical history and self-check answers,
    each with its verdict, score, nearest site and the verdict of every criterion."""
    return run_matches(web_context(request), visitor_state(web_context(request),
                                                           visitor.token), query)


def _checked(page: MatchesPage) -> MatchesPage:
    if page.place_error:
        raise ProblemException(422, page.place_error, "invalid-place")
    return page


def api_matches(request: Request, query: Annotated[MatchesQuery, Query()],
                visitor: VisitorDep) -> MatchesPage:
    """My matches: trials ranked for this session's profile (form, medical history and
    self-check answers), with the verdict of every criterion, its evidence and reason.

    `near` / `radius` / `unit` override the profile's place. With `all=true`, `removed`
    also lists the trials the registry's age and sex fields kept out of matching, each
    with that reason. Without a profile, `active` is false and there are no results."""
    return _checked(matches(request, query, visitor))


def patient_matches(request: Request, patient_id: PatientId,
                    query: Annotated[MatchesQuery, Query()],
                    visitor: VisitorDep) -> MatchesPage:
    """Matches for my patient record, by id (only its own session can ask)."""
    ctx = web_context(request)
    return _checked(run_matches(ctx, visitor_state(ctx, visitor.token, patient_id), query))


# ---------------------------------------------------------------------- page forms
def post_profile_form(request: Request, visitor: VisitorDep,
                      fields: Annotated[dict[str, str], Depends(form_fields)]
                      ) -> RedirectResponse:
    try:
        profile = Profile.model_validate(drop_empty(
            {k: fields.get(k, "") for k in PROFILE_FIELDS}))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    web_context(request).sessions.put_profile(visitor.token, profile)
    rotate_session(request, visitor)
    return RedirectResponse("/profile?saved=1", status_code=303)


@dataclass(frozen=True)
class UploadForm:
    note: str | None
    file: bytes | None


async def upload_form(request: Request) -> UploadForm:
    """The medical-history form: a file (FHIR Bundle JSON or a note) or a pasted note."""
    form = await request.form(max_files=1, max_fields=20)
    note, file = form.get("note"), form.get("file")
    raw = None
    if isinstance(file, UploadFile):
        raw = await file.read(MAX_FILE_BYTES + 1) or None
    text = note if isinstance(note, str) and note.strip() else None
    return UploadForm(note=text, file=raw)


async def post_record_form(request: Request, visitor: VisitorDep,
                           upload: Annotated[UploadForm, Depends(upload_form)]) -> Response:
    ctx = web_context(request)
    try:
        if upload.file is not None and upload.note is not None:
            raise ProblemException(422, "Send either a file or a note, not both.", "validation")
        if upload.file is None and upload.note is None:
            raise ProblemException(422, "Choose a file or paste a note first.", "validation")
        # A pasted text is read like a file, so a pasted FHIR bundle is read as FHIR.
        raw = upload.file if upload.file is not None else (upload.note or "").encode()
        loaded = await read_upload_off_loop(
            request, raw=raw, where=("file",) if upload.file is not None else ("note",))
    except ProblemException as exc:
        return await run_in_threadpool(
            ctx.renderer.page, request, "profile.html", status_code=exc.status_code,
            page=profile_view(request, visitor), upload_error=exc.detail,
            upload_errors=exc.errors or [], note_text=upload.note or "")
    await run_in_threadpool(_store_record, request, visitor, loaded)
    return RedirectResponse("/profile?record=saved#medical-history", status_code=303)


def post_record_delete_form(request: Request, visitor: VisitorDep) -> RedirectResponse:
    delete_record(request, visitor)
    return RedirectResponse("/profile?record=deleted#medical-history", status_code=303)


def post_profile_clear_form(request: Request, visitor: VisitorDep) -> RedirectResponse:
    delete_profile(request, visitor)
    return RedirectResponse("/profile?deleted=1", status_code=303)


def post_forget_form(request: Request, visitor: VisitorDep) -> RedirectResponse:
    forget_session(request, visitor)
    return RedirectResponse("/profile?forgotten=1", status_code=303)


def register(api: APIRouter, pages: APIRouter) -> None:
    changing = problem_responses(403, 413, 422)
    owned = problem_responses(404, 422)
    owned_changing = problem_responses(403, 404, 413, 422)
    api.add_api_route("/session", session_info, methods=["GET"], response_model=SessionInfo,
                      tags=["session"], summary="Session and CSRF token")
    api.add_api_route("/session", forget_session, methods=["DELETE"], status_code=204,
                      responses=changing, dependencies=[CsrfDep], tags=["session"],
                      summary="Forget my session")
    api.add_api_route("/answers", get_answers, methods=["GET"], response_model=AnswersView,
                      tags=["session"], summary="My remembered answers")
    api.add_api_route("/answers", put_answers, methods=["PUT"], response_model=AnswersView,
                      responses=changing, dependencies=[CsrfDep], tags=["session"],
                      summary="Set answers by question key")
    api.add_api_route("/answers", clear_all_answers, methods=["DELETE"],
                      response_model=AnswersView, responses=changing, dependencies=[CsrfDep],
                      tags=["session"], summary="Forget all answers")
    api.add_api_route("/profile", profile_view, methods=["GET"], response_model=ProfileView,
                      tags=["profile"], summary="My profile")
    api.add_api_route("/profile", put_profile, methods=["PUT"], response_model=ProfileView,
                      responses=changing, dependencies=[CsrfDep], tags=["profile"],
                      summary="Save my profile's age, sex and place")
    api.add_api_route("/profile", delete_profile, methods=["DELETE"],
                      response_model=ProfileView, responses=changing, dependencies=[CsrfDep],
                      tags=["profile"], summary="Delete my profile")
    api.add_api_route("/profile/record", get_record, methods=["GET"],
                      response_model=PatientRecord, responses=owned, tags=["profile"],
                      summary="My medical history")
    api.add_api_route("/profile/record", put_record, methods=["PUT"],
                      response_model=PatientRecord, responses=changing,
                      dependencies=[CsrfDep], tags=["profile"],
                      summary="Upload my medical history (note or FHIR R4 Bundle)")
    api.add_api_route("/profile/record", delete_record, methods=["DELETE"], status_code=204,
                      responses=changing, dependencies=[CsrfDep], tags=["profile"],
                      summary="Delete my medical history")
    api.add_api_route("/patients/{patient_id}", get_patient, methods=["GET"],
                      response_model=PatientRecord, responses=owned, tags=["profile"],
                      summary="My patient record, by id")
    api.add_api_route("/patients/{patient_id}", put_patient, methods=["PUT"],
                      response_model=PatientRecord, responses=owned_changing,
                      dependencies=[CsrfDep], tags=["profile"],
                      summary="Replace my patient record's medical history")
    api.add_api_route("/patients/{patient_id}", delete_patient, methods=["DELETE"],
                      status_code=204, responses=owned_changing, dependencies=[CsrfDep],
                      tags=["profile"], summary="Delete my patient record")
    api.add_api_route("/patients/{patient_id}/matches", patient_matches, methods=["GET"],
                      response_model=MatchesPage, responses=owned, tags=["matches"],
                      summary="Matches for my patient record")
    api.add_api_route("/matches", api_matches, methods=["GET"], response_model=MatchesPage,
                      responses=problem_responses(422), tags=["matches"], summary="My matches")
    add_page_route(pages, "/profile", profile_view, "profile.html")
    add_page_route(pages, "/matches", matches, "matches.html")
    pages.add_api_route("/profile", post_profile_form, methods=["POST"], dependencies=[CsrfDep],
                        include_in_schema=False)
    pages.add_api_route("/profile/record", post_record_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False,
                        response_class=Response, response_model=None)
    pages.add_api_route("/profile/record/delete", post_record_delete_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False)
    pages.add_api_route("/profile/clear", post_profile_clear_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False)
    pages.add_api_route("/session/forget", post_forget_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False)
