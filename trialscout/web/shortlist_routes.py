"""The shortlist: save trials, compare 2 to 4 of them side by side, and print a one-page
"bring this to your doctor" summary of each.

The comparison uses only what the visitor told us: distance from the place in their
profile, fit from their match (profile and medical history) and their self-check answers,
and the questions still open. A trial id that is not on the caller's own shortlist is 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from trialscout.registry.model import Trial
from trialscout.search.errors import SearchQueryError
from trialscout.search.places import gazetteer
from trialscout.sessions.selfcheck import ChecklistItem
from trialscout.utc import UtcDateTime
from trialscout.web.context import web_context
from trialscout.web.formatting import label
from trialscout.web.notes_routes import (
    add_private_page,
    not_found,
    reading_owner,
    writing_owner,
)
from trialscout.web.patient_match import hit_verdicts, load_trials, request_state
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.trial_routes import NctId, checklist_for, load_trial, site_views
from trialscout.web.visitor import CsrfDep, VisitorDep, form_fields
from trialscout.workspace import NoteStore, Shortlist, ShortlistError
from trialscout.workspace.notes import NCT_ID
from trialscout.workspace.shortlist import COMPARE_MAX, COMPARE_MIN, MAX_SHORTLIST

MAX_TIME_FRAMES = 4


class ShortlistItem(BaseModel):
    nct_id: str
    title: str
    status: str | None = None
    added_at: UtcDateTime


class ShortlistPage(BaseModel):
    items: list[ShortlistItem]
    total: int
    limit: int = MAX_SHORTLIST
    compare_min: int = COMPARE_MIN
    compare_max: int = COMPARE_MAX


class CompareColumn(BaseModel):
    """One trial in the comparison, as far as the visitor's own information reaches."""

    nct_id: str
    title: str
    status: str = Field(description="Recruitment status, in words.")
    phases: list[str]
    distance: float | None = Field(default=None, description="To the nearest site from the "
                                   "place in your profile (null: no place or no site geo).")
    unit: str = "km"
    nearest_site: str | None = None
    fit: str = Field(description="Your match on your profile and medical history, if any.")
    fit_reason: str | None = None
    self_check: str = Field(description="The self-check verdict from your answers.")
    visits: list[str] = Field(description="When the record says outcomes are measured "
                              "(its outcome time frames): the visits, as far as it tells.")
    to_confirm: list[str] = Field(description="Questions still open: unanswered, 'not "
                                  "sure', or only the study team can check.")
    notes: int = Field(description="Your notes on this trial.")
    contact: str | None = Field(default=None, description="The central contact, if listed.")


class ComparePage(BaseModel):
    columns: list[CompareColumn]
    place: str | None = None


IdsQuery = Annotated[list[str], Query(alias="ids", min_length=1, max_length=COMPARE_MAX,
                                      description="2 to 4 NCT numbers from your shortlist.")]


def _store(request: Request) -> Shortlist:
    return Shortlist(web_context(request).core.engine)


def shortlist(request: Request) -> ShortlistPage:
    """Your shortlist, oldest first."""
    owner = reading_owner(request)
    saved = _store(request).list(owner) if owner else []
    trials = load_trials(web_context(request), [s.nct_id for s in saved])
    items = [ShortlistItem(nct_id=s.nct_id, title=trials[s.nct_id].title,
                           status=trials[s.nct_id].overall_status, added_at=s.added_at)
             for s in saved if s.nct_id in trials]
    return ShortlistPage(items=items, total=len(items))


def add_to_shortlist(request: Request, nct_id: NctId, visitor: VisitorDep) -> ShortlistPage:
    """Save a trial to your shortlist (saving it again changes nothing)."""
    load_trial(request, nct_id)
    owner = writing_owner(request, visitor)
    try:
        _store(request).add(owner, nct_id)
    except ShortlistError as exc:
        raise ProblemException(422, str(exc), "too-many") from None
    return shortlist(request)


def remove_from_shortlist(request: Request, nct_id: NctId) -> Response:
    """Take a trial off your shortlist."""
    owner = reading_owner(request)
    if not owner or not _store(request).remove(owner, nct_id):
        raise not_found("shortlisted trial")
    return Response(status_code=204)


def _visits(trial: Trial) -> list[str]:
    frames: list[str] = []
    for outcome in trial.outcomes:
        frame = (outcome.time_frame or "").strip()
        if frame and frame not in frames:
            frames.append(frame)
    return frames[:MAX_TIME_FRAMES]


def _contact(trial: Trial) -> str | None:
    for contact in trial.central_contacts:
        parts = [p for p in (contact.name, contact.phone, contact.email) if p]
        if parts:
            return ", ".join(parts)
    return None


def _open_question(item: ChecklistItem, open_ids: set[str]) -> str:
    """An open criterion in words: the visitor's question, or what the team will check."""
    if item.answerable and item.question:
        return item.question
    return f"For the study team to check: {item.text}"


def compare(request: Request, ids: IdsQuery) -> ComparePage:
    """2 to 4 trials of your shortlist side by side: status, distance from your place,
    your fit, visits, and what still needs confirming."""
    wanted = list(dict.fromkeys(ids))
    if len(wanted) < COMPARE_MIN:
        raise ProblemException(422, f"Choose {COMPARE_MIN} to {COMPARE_MAX} different "
                               "trials to compare.", "validation")
    return _columns(request, wanted)


def print_summary(request: Request, ids: IdsQuery) -> ComparePage:
    """The same facts for 1 to 4 trials of your shortlist, laid out as one printed page
    per trial to bring to your doctor, with the questions still open."""
    return _columns(request, list(dict.fromkeys(ids)))


def _columns(request: Request, wanted: list[str]) -> ComparePage:
    owner = reading_owner(request)
    saved = {s.nct_id for s in _store(request).list(owner)} if owner else set()
    if not set(wanted) <= saved:
        raise not_found("shortlisted trial")
    ctx = web_context(request)
    trials = load_trials(ctx, wanted)
    state = request_state(request)
    origin = None
    if state.form.near:
        try:
            origin = gazetteer().resolve(state.form.near)
        except SearchQueryError:
            origin = None
    fits = hit_verdicts(ctx, state.profile(), trials.values()) if state.active else {}
    notes = NoteStore(ctx.core.engine).list(owner) if owner else []
    columns = []
    for nct_id in wanted:
        trial = trials.get(nct_id) or load_trial(request, nct_id)
        sites = site_views(trial, origin, state.form.unit)
        nearest = sites[0] if sites and sites[0].distance is not None else None
        checklist = checklist_for(request, trial)
        open_ids = set(checklist.verdict.open)
        to_confirm = [_open_question(item, open_ids) for item in checklist.items
                      if item.group is None and (item.id in open_ids or item.answer == "unsure"
                                                 or not item.answerable)]
        fit = fits.get(nct_id)
        columns.append(CompareColumn(
            nct_id=nct_id, title=trial.title,
            status=label(trial.overall_status) or "Not reported",
            phases=[label(p) for p in trial.phases],
            distance=nearest.distance if nearest else None, unit=state.form.unit,
            nearest_site=nearest.facility if nearest else None,
            fit=fit.label if fit else "No profile yet: add your details to see your fit",
            fit_reason=fit.reason if fit else None,
            self_check=checklist.verdict.label, visits=_visits(trial), to_confirm=to_confirm,
            notes=sum(1 for n in notes if n.nct_id == nct_id), contact=_contact(trial)))
    return ComparePage(columns=columns, place=origin.name if origin else None)


Fields = Annotated[dict[str, str], Depends(form_fields)]


def post_add_form(request: Request, visitor: VisitorDep, fields: Fields) -> RedirectResponse:
    nct_id = fields.get("nct_id", "")
    if not NCT_ID.match(nct_id):
        raise ProblemException(422, "nct_id must be an NCT number.", "validation")
    add_to_shortlist(request, nct_id, visitor)
    return RedirectResponse("/shortlist", status_code=303)


def post_remove_form(request: Request, fields: Fields) -> RedirectResponse:
    remove_from_shortlist(request, fields.get("nct_id", "")[:11])
    return RedirectResponse("/shortlist", status_code=303)


def register(api: APIRouter, pages: APIRouter) -> None:
    changing = problem_responses(403, 404, 413, 422)
    api.add_api_route("/shortlist", shortlist, methods=["GET"], response_model=ShortlistPage,
                      tags=["shortlist"], summary="My shortlist")
    api.add_api_route("/shortlist/compare", compare, methods=["GET"],
                      response_model=ComparePage, responses=problem_responses(404, 422),
                      tags=["shortlist"], summary="Compare 2 to 4 shortlisted trials")
    api.add_api_route("/shortlist/print", print_summary, methods=["GET"],
                      response_model=ComparePage, responses=problem_responses(404, 422),
                      tags=["shortlist"], summary="Doctor summary of 1 to 4 trials")
    api.add_api_route("/shortlist/{nct_id}", add_to_shortlist, methods=["PUT"],
                      response_model=ShortlistPage, responses=changing,
                      dependencies=[CsrfDep], tags=["shortlist"], summary="Save a trial")
    api.add_api_route("/shortlist/{nct_id}", remove_from_shortlist, methods=["DELETE"],
                      status_code=204, response_class=Response, responses=changing,
                      dependencies=[CsrfDep], tags=["shortlist"],
                      summary="Remove a trial from my shortlist")
    add_private_page(pages, "/shortlist", shortlist, "shortlist.html")
    add_private_page(pages, "/shortlist/compare", compare, "compare.html")
    add_private_page(pages, "/shortlist/print", print_summary, "print.html")
    pages.add_api_route("/shortlist", post_add_form, methods=["POST"], dependencies=[CsrfDep],
                        include_in_schema=False, response_model=None)
    pages.add_api_route("/shortlist/remove", post_remove_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False, response_model=None)
