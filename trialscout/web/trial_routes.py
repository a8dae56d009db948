"""The trial page (summary, checklist, sites, related trials, guides) and the visitor's
answers to its checklist."""

from __future__ import annotations

import functools
import logging
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse

from trialscout.registry.model import Trial
from trialscout.search.errors import SearchQueryError
from trialscout.search.models import ResolvedPlace
from trialscout.search.places import KM_PER_MILE, gazetteer, haversine_km
from trialscout.sessions.models import ANSWERS, Answer
from trialscout.sessions.questions import questions_for
from trialscout.sessions.selfcheck import Checklist, Question, Verdict, build_checklist
from trialscout.similar.explain import SimilarTrial
from trialscout.summaries.model import PlainSummary
from trialscout.web.context import web_context
from trialscout.web.params import NearQuery, PlaceQuery, SimilarQuery
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.rendering import add_page_route, fictional_ids
from trialscout.web.viewmodels import (
    AnswersBody,
    GuideLink,
    SimilarTrials,
    SiteView,
    SummaryPart,
    TrialPage,
    TrialSummary,
)
from trialscout.web.visitor import (
    SESSION_COOKIE,
    CsrfDep,
    VisitorDep,
    form_fields,
    issue_session_cookie,
)

NctId = Annotated[str, Path(pattern=r"^NCT\d{8}$", description="NCT number, e.g. NCT01234567.")]
FORM_PREFIX = "answer-"
PAGE_SIMILAR = 5
log = logging.getLogger("trialscout.web")


def load_trial(request: Request, nct_id: str) -> Trial:
    trial = web_context(request).core.trial(nct_id)
    if trial is None:
        raise ProblemException(404, f"No trial {nct_id} in this store.", "not-found")
    return trial


def _questions(request: Request, trial: Trial) -> tuple[list[Question], str]:
    core = web_context(request).core
    return questions_for(trial, functools.partial(core.parsed_criteria, trial.nct_id))


def checklist_for(request: Request, trial: Trial) -> Checklist:
    questions, parser = _questions(request, trial)
    keys = {q.question_key for q in questions if q.askable and q.question_key}
    token = request.cookies.get(SESSION_COOKIE)
    remembered = web_context(request).sessions.answers(token, keys) if token and keys else {}
    return build_checklist(trial.nct_id, questions, remembered, parser)


def _origin(place: NearQuery) -> ResolvedPlace | None:
    if place.lat is not None and place.lon is not None:
        return ResolvedPlace(name=f"{place.lat:g},{place.lon:g}", lat=place.lat, lon=place.lon)
    if place.near:
        return gazetteer().resolve(place.near)
    return None


def site_views(trial: Trial, origin: ResolvedPlace | None, unit: str) -> list[SiteView]:
    views = []
    for site in trial.sites:
        view = SiteView(facility=site.facility, status=site.status, city=site.city,
                        state=site.state, zip=site.zip, country=site.country,
                        contacts=site.contacts, unit="mi" if unit == "mi" else "km")
        if origin is not None and site.geo is not None:
            km = float(haversine_km(origin.lat, origin.lon, site.geo.lat, site.geo.lon))
            view.distance_km = round(km, 1)
            view.distance = round(km / KM_PER_MILE if unit == "mi" else km, 1)
        views.append(view)
    if origin is not None:
        views.sort(key=lambda v: (v.distance_km is None, v.distance_km or 0.0))
    return views


def _summary_note(summary: PlainSummary) -> str:
    if summary.backend == "llm":
        return (f"Written automatically from this trial's registry record: a language model "
                f"({summary.model or 'AI'}) put it in plain words, and TrialScout checked "
                "every sentence against the record before showing it. The sponsor's own "
                "summary is below.")
    note = ("Written automatically by TrialScout from this trial's registry record, without "
            "AI: each sentence restates a field of the record. The sponsor's own summary is "
            "below.")
    if summary.fallback_reason:
        note += " (A language-model rewrite was not used: it was unavailable or did not pass "
        note += "the fact check.)"
    return note


def summary_view(trial: Trial, summary: PlainSummary | None) -> TrialSummary:
    """The page's and API's view of a generated summary (None or empty: none was written)."""
    if summary is None or not summary.sentences:
        return TrialSummary(nct_id=trial.nct_id, generated=False,
                            note="TrialScout could not write a plain-language summary of "
                            "this trial; the sponsor's summary follows.",
                            brief_summary=trial.brief_summary)
    sections = [SummaryPart(topic=part.topic, title=part.title, text=part.text,
                            sentences=part.sentences) for part in summary.sections()]
    return TrialSummary(nct_id=trial.nct_id, generated=True, backend=summary.backend,
                        model=summary.model, llm_fallback=bool(summary.fallback_reason),
                        grade=summary.grade, sections=sections, text=summary.text,
                        note=_summary_note(summary), brief_summary=trial.brief_summary)


def _page_summary(request: Request, trial: Trial) -> TrialSummary:
    """The trial page's summary: a failing generator costs the summary, not the page."""
    try:
        summary = web_context(request).core.summaries.for_trial(trial.nct_id)
    except Exception as exc:  # noqa: BLE001 - the rest of the page does not depend on it
        log.warning("plain-language summary of %s failed: %s", trial.nct_id,
                    type(exc).__name__)
        summary = None
    return summary_view(trial, summary)


def _page_similar(request: Request, trial: Trial,
                  origin: ResolvedPlace | None) -> list[SimilarTrial]:
    try:
        found = web_context(request).core.similar.similar(
            trial.nct_id, PAGE_SIMILAR, origin=_point(origin))
    except Exception as exc:  # noqa: BLE001 - the rest of the page does not depend on it
        log.warning("similar trials of %s failed: %s", trial.nct_id, type(exc).__name__)
        return []
    return found or []


def _point(origin: ResolvedPlace | None) -> tuple[float, float] | None:
    return None if origin is None else (origin.lat, origin.lon)


def guide_links(request: Request, trial: Trial) -> list[GuideLink]:
    """Our guides about the trial's conditions and interventions."""
    return [GuideLink(slug=g.slug, title=g.title, kind=g.kind, summary=g.summary)
            for g in web_context(request).core.guides.for_trial(trial)]


def trial_page(request: Request, nct_id: NctId,
               place: Annotated[PlaceQuery, Query()]) -> TrialPage:
    """Everything about one trial: snapshot, plain-language summary, arms, checklist, sites,
    sponsors, more related trials and our guides about it."""
    trial = load_trial(request, nct_id)
    origin, place_error = None, None
    try:
        origin = _origin(place)
    except SearchQueryError as exc:
        place_error = str(exc)
    return TrialPage(
        trial=trial, summary=_page_summary(request, trial),
        sites=site_views(trial, origin, place.unit), origin=origin, place_error=place_error,
        checklist=checklist_for(request, trial),
        similar=_page_similar(request, trial, origin), guides=guide_links(request, trial),
        registry_url=(None if trial.nct_id in fictional_ids()
                      else f"https://clinicaltrials.gov/study/{trial.nct_id}"))


def trial_summary(request: Request, nct_id: NctId) -> TrialSummary:
    """The trial's plain-language summary by topic, each sentence with the record fields it
    restates; written offline, or by a language model and fact-checked when one is set up."""
    trial = load_trial(request, nct_id)
    return summary_view(trial, web_context(request).core.summaries.for_trial(nct_id))


def similar_trials(request: Request, nct_id: NctId,
                   query: Annotated[SimilarQuery, Query()]) -> SimilarTrials:
    """Trials like this one, best first, each with why it is listed ("same condition
    (osteoporosis), same drug (denosumab), recruiting, 12 km away")."""
    load_trial(request, nct_id)
    try:
        origin = _origin(query)
    except SearchQueryError as exc:
        raise ProblemException(422, str(exc), "invalid-place") from None
    found = web_context(request).core.similar.similar(nct_id, query.limit,
                                                      origin=_point(origin))
    if found is None:
        raise ProblemException(404, f"No trial {nct_id} in this store.", "not-found")
    return SimilarTrials(nct_id=nct_id, origin=origin, items=found)


def checklist(request: Request, nct_id: NctId) -> Checklist:
    """The trial's criteria as Yes / No / Not sure questions, with this visitor's answers
    (remembered across trials by question key) and the verdict they lead to."""
    return checklist_for(request, load_trial(request, nct_id))


def verdict(request: Request, nct_id: NctId) -> Verdict:
    """Only the verdict of the self-check."""
    return checklist(request, nct_id).verdict


def _save(request: Request, trial: Trial, token: str,
          answers: dict[str, Answer | None]) -> None:
    questions, _ = _questions(request, trial)
    keys = {q.question_key for q in questions if q.askable and q.question_key}
    unknown = sorted(set(answers) - keys)
    if unknown:
        raise ProblemException(422, f"{len(unknown)} answer key(s) are not questions of "
                               f"{trial.nct_id}; use the question_key values of its checklist.",
                               "unknown-question")
    web_context(request).sessions.put_answers(token, answers)


def put_answers(request: Request, nct_id: NctId, body: AnswersBody,
                visitor: VisitorDep) -> Checklist:
    """Answer some of the trial's questions (null forgets an answer); returns the new
    checklist and verdict. The answers also apply to every other trial asking them."""
    trial = load_trial(request, nct_id)
    _save(request, trial, visitor.token, body.answers)
    issue_session_cookie(request, visitor)
    return checklist_for(request, trial)


def clear_answers(request: Request, nct_id: NctId, visitor: VisitorDep) -> Checklist:
    """Clear my responses: forget this visitor's answers to this trial's questions."""
    trial = load_trial(request, nct_id)
    questions, _ = _questions(request, trial)
    web_context(request).sessions.clear_answers(
        visitor.token, {q.question_key for q in questions if q.question_key})
    return checklist_for(request, trial)


def _back_to_trial(nct_id: str, fields: dict[str, str]) -> RedirectResponse:
    place = {k: fields[k] for k in ("near", "unit") if fields.get(k)}
    try:
        query = urlencode(PlaceQuery.model_validate(place).model_dump(exclude_defaults=True))
    except ValueError:
        query = ""
    target = f"/trials/{nct_id}" + (f"?{query}" if query else "") + "#self-check"
    return RedirectResponse(target, status_code=303)


def post_answers_form(request: Request, nct_id: NctId, visitor: VisitorDep,
                      fields: Annotated[dict[str, str], Depends(form_fields)]
                      ) -> RedirectResponse:
    trial = load_trial(request, nct_id)
    questions, _ = _questions(request, trial)
    by_id = {q.item_id: q.question_key for q in questions if q.askable and q.question_key}
    answers: dict[str, Answer | None] = {}
    for name, value in fields.items():
        if not name.startswith(FORM_PREFIX):
            continue
        key = by_id.get(name[len(FORM_PREFIX):])
        if key is None or value not in ANSWERS:
            raise ProblemException(422, f"Unexpected form field {name}.", "validation")
        answers[key] = value
    _save(request, trial, visitor.token, answers)
    issue_session_cookie(request, visitor)
    return _back_to_trial(nct_id, fields)


def post_clear_form(request: Request, nct_id: NctId, visitor: VisitorDep,
                    fields: Annotated[dict[str, str], Depends(form_fields)]
                    ) -> RedirectResponse:
    clear_answers(request, nct_id, visitor)
    return _back_to_trial(nct_id, fields)


def _asked_state(request: Request) -> str:
    """What of a trial page changes without an import: how many people asked about it."""
    from trialscout.web.contact_routes import asked_count

    return str(asked_count(request, str(request.path_params.get("nct_id", ""))))


def register(api: APIRouter, pages: APIRouter) -> None:
    missing = problem_responses(404, 422)
    changing = problem_responses(403, 404, 413, 422)
    api.add_api_route("/trials/{nct_id}", trial_page, methods=["GET"], response_model=TrialPage,
                      responses=missing, tags=["trials"], summary="One trial")
    api.add_api_route("/trials/{nct_id}/summary", trial_summary, methods=["GET"],
                      response_model=TrialSummary, responses=missing, tags=["trials"],
                      summary="Plain-language summary")
    api.add_api_route("/trials/{nct_id}/similar", similar_trials, methods=["GET"],
                      response_model=SimilarTrials, responses=missing, tags=["trials"],
                      summary="More related trials, with reasons")
    api.add_api_route("/trials/{nct_id}/checklist", checklist, methods=["GET"],
                      response_model=Checklist, responses=missing, tags=["self-check"],
                      summary="Eligibility checklist with answers and verdict")
    api.add_api_route("/trials/{nct_id}/verdict", verdict, methods=["GET"],
                      response_model=Verdict, responses=missing, tags=["self-check"],
                      summary="Self-check verdict")
    api.add_api_route("/trials/{nct_id}/answers", put_answers, methods=["PUT"],
                      response_model=Checklist, responses=changing, tags=["self-check"],
                      dependencies=[CsrfDep], summary="Answer checklist questions")
    api.add_api_route("/trials/{nct_id}/answers", clear_answers, methods=["DELETE"],
                      response_model=Checklist, responses=changing, tags=["self-check"],
                      dependencies=[CsrfDep], summary="Clear my responses for this trial")
    add_page_route(pages, "/trials/{nct_id}", trial_page, "trial.html",
                   cache_extra=_asked_state)
    pages.add_api_route("/trials/{nct_id}/answers", post_answers_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False)
    pages.add_api_route("/trials/{nct_id}/answers/clear", post_clear_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False)
