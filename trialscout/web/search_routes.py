"""Home, search, facets and browse-by-condition: pages and API from the same handlers."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from trialscout.search.errors import SearchQueryError
from trialscout.search.models import ConditionCount, FacetCount, SearchRequest
from trialscout.sessions.questions import questions_for
from trialscout.sessions.selfcheck import build_checklist
from trialscout.web.context import WebContext, web_context
from trialscout.web.params import ConditionQuery, SearchQuery
from trialscout.web.patient_match import hit_verdicts, load_trials, visitor_state
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.rendering import add_page_route
from trialscout.web.viewmodels import (
    ConditionList,
    ConditionTrials,
    HomePage,
    LetterCount,
    ResultHit,
    SearchPage,
)
from trialscout.web.visitor import known_session, visitor_profile

HOME_CONDITIONS = 12
BROWSE_BATCH = 1000


def run_search(request: Request, search: SearchRequest) -> SearchPage:
    """Search, then add this visitor's verdicts to the hits on the page: the self-check
    verdict where they answered questions, and the profile verdict when they have one."""
    ctx = web_context(request)
    try:
        response = ctx.core.search(search)
    except SearchQueryError as exc:
        return SearchPage(request=search, total=0, page=search.page,
                          page_size=search.page_size, hits=[], error=str(exc))
    page = SearchPage(request=response.request, total=response.total, page=response.page,
                      page_size=response.page_size, facets=response.facets,
                      origin=response.origin, suggestion=response.suggestion,
                      hits=[ResultHit(**hit.model_dump()) for hit in response.hits])
    _add_verdicts(ctx, known_session(request), page)
    return page


def _add_verdicts(ctx: WebContext, token: str | None, page: SearchPage) -> None:
    if not token or not page.hits:
        return
    state = visitor_state(ctx, token)
    if not state.answers and not state.active:
        return
    trials = load_trials(ctx, [hit.nct_id for hit in page.hits])
    if state.active:
        page.profile_active = True
        verdicts = hit_verdicts(ctx, state.profile(), trials.values())
        for hit in page.hits:
            hit.profile_match = verdicts.get(hit.nct_id)
    if not state.answers:
        return
    for hit in page.hits:
        trial = trials.get(hit.nct_id)
        if trial is None:
            continue
        questions, parser = questions_for(
            trial, functools.partial(ctx.core.parsed_criteria, trial.nct_id))
        checklist = build_checklist(trial.nct_id, questions, state.answers, parser)
        if checklist.verdict.answered or checklist.verdict.unsure:
            hit.match = checklist.verdict


def search(request: Request, query: Annotated[SearchQuery, Query()]) -> SearchPage:
    """Full-text search with filters, facets and distance."""
    return run_search(request, query.to_request())


def api_search(request: Request, query: Annotated[SearchQuery, Query()]) -> Response:
    """Search trials: full text (phrases, AND / OR / NOT, prefix*), filters, facets, distance.

    The response's `hits[].match` holds this visitor's self-check verdict when they have
    answered questions the trial asks; `hits[].profile_match` the trial's verdict for their
    profile (eligible / possibly eligible / not eligible) when they have one.
    """
    page = search(request, query)
    if page.error:
        raise ProblemException(422, page.error, "invalid-query")
    # the page is already a validated SearchPage: written out once by pydantic, not
    # dumped, validated again and encoded by the framework (a millisecond a search)
    return Response(page.model_dump_json(by_alias=True), media_type="application/json")


def api_facets(request: Request, query: Annotated[SearchQuery, Query()]
               ) -> dict[str, list[FacetCount]]:
    """Facet counts (status, phase, study type, conditions, interventions, countries) for
    the trials matching the same parameters as /api/v1/search."""
    page = run_search(request, query.to_request(page=1, page_size=1, facets=True))
    if page.error:
        raise ProblemException(422, page.error, "invalid-query")
    return page.facets


def home(request: Request) -> HomePage:
    ctx = web_context(request)
    profile = visitor_profile(request)
    conditions = ctx.core.browse_conditions(order="count", page_size=HOME_CONDITIONS)
    return HomePage(trial_count=ctx.core.trial_count(), conditions=conditions,
                    profile=profile, request=SearchRequest(
                        age=profile.age, sex=profile.sex, near=profile.near,
                        radius=profile.radius, unit=profile.unit))


def all_conditions(ctx: WebContext) -> list[ConditionCount]:
    """Every condition with its count (the search engine pages them; we need the total)."""
    found: list[ConditionCount] = []
    page = 1
    while True:
        batch = ctx.core.browse_conditions(page=page, page_size=BROWSE_BATCH)
        found.extend(batch)
        if len(batch) < BROWSE_BATCH:
            return found
        page += 1


def _letter(name: str) -> str:
    first = name.strip()[:1].upper()
    return first if "A" <= first <= "Z" else "0-9"


def conditions(request: Request, query: Annotated[ConditionQuery, Query()]) -> ConditionList:
    """Conditions A-Z with their trial counts."""
    everything = sorted(all_conditions(web_context(request)),
                        key=lambda c: (c.condition.lower(), c.condition))
    letters: dict[str, int] = {}
    for item in everything:
        key = _letter(item.condition)
        letters[key] = letters.get(key, 0) + 1
    chosen = everything
    if query.letter:
        chosen = [c for c in chosen if _letter(c.condition) == query.letter]
    if query.q:
        words = query.q.lower().split()
        chosen = [c for c in chosen if all(w in c.condition.lower() for w in words)]
    start = (query.page - 1) * query.page_size
    order = [*(chr(c) for c in range(ord("A"), ord("Z") + 1)), "0-9"]
    return ConditionList(items=chosen[start:start + query.page_size], total=len(chosen),
                         page=query.page, page_size=query.page_size, letter=query.letter,
                         q=query.q, letters=[LetterCount(letter=k, count=letters.get(k, 0))
                                             for k in order])


def condition_trials(request: Request,
                     condition: Annotated[str, Path(min_length=1, max_length=300)],
                     query: Annotated[SearchQuery, Query()]) -> ConditionTrials:
    """Trials for one condition, with the same filters, sorting and paging as search."""
    results = run_search(request, query.to_request(condition=condition))
    if results.error:
        raise ProblemException(422, results.error, "invalid-query")
    return ConditionTrials(condition=condition, results=results)


def register(api: APIRouter, pages: APIRouter) -> None:
    invalid = problem_responses(422)
    api.add_api_route("/search", api_search, methods=["GET"], response_model=SearchPage,
                      responses=invalid, tags=["search"], summary="Search trials")
    api.add_api_route("/facets", api_facets, methods=["GET"],
                      response_model=dict[str, list[FacetCount]], responses=invalid,
                      tags=["search"], summary="Facet counts")
    api.add_api_route("/conditions", conditions, methods=["GET"], response_model=ConditionList,
                      responses=invalid, tags=["browse"], summary="Conditions A-Z")
    # A condition is a path segment of its own: one with a line break, or one that is a
    # dot segment ("..") once the URL is normalized, reaches no route and gets a 404.
    api.add_api_route("/conditions/{condition:path}/trials", condition_trials, methods=["GET"],
                      response_model=ConditionTrials, responses=problem_responses(404, 422),
                      tags=["browse"], summary="Trials for one condition")
    add_page_route(pages, "/", home, "home.html")
    add_page_route(pages, "/search", search, "search.html")
    add_page_route(pages, "/conditions", conditions, "conditions.html")
    add_page_route(pages, "/conditions/{condition:path}", condition_trials, "condition.html")
