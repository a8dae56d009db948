"""The visitor's own data: session, remembered answers, profile and "my matches"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from trialscout.search.models import SearchRequest
from trialscout.sessions.models import Profile
from trialscout.web.context import web_context
from trialscout.web.params import drop_empty
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.rendering import add_page_route
from trialscout.web.search_routes import run_search
from trialscout.web.viewmodels import (
    AnswersBody,
    AnswersView,
    MatchesPage,
    ProfileView,
    SessionInfo,
)
from trialscout.web.visitor import (
    SESSION_COOKIE,
    CsrfDep,
    VisitorDep,
    form_fields,
    issue_session_cookie,
    visitor_profile,
)

PROFILE_FIELDS = ("age", "sex", "near", "radius", "unit")


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
                       has_profile=not ctx.sessions.profile(visitor.token).is_empty())


def forget_session(request: Request, visitor: VisitorDep) -> None:
    """Forget everything this session holds: answers and profile."""
    web_context(request).sessions.forget(visitor.token)


def get_answers(request: Request) -> AnswersView:
    """Every answer this visitor has given, by question key."""
    token = request.cookies.get(SESSION_COOKIE)
    return AnswersView(answers=web_context(request).sessions.answers(token) if token else {})


def put_answers(request: Request, body: AnswersBody, visitor: VisitorDep) -> AnswersView:
    """Set answers by question key (null forgets one); they apply to every trial."""
    for key in body.answers:
        if not 1 <= len(key) <= 500:
            raise ProblemException(422, "Question keys are 1 to 500 characters.", "validation")
    web_context(request).sessions.put_answers(visitor.token, body.answers)
    issue_session_cookie(request, visitor)
    return get_answers(request)


def clear_all_answers(request: Request, visitor: VisitorDep) -> AnswersView:
    """Forget every answer."""
    web_context(request).sessions.clear_answers(visitor.token)
    return AnswersView(answers={})


def profile_view(request: Request) -> ProfileView:
    """The visitor's profile and the search it feeds."""
    profile = visitor_profile(request)
    return ProfileView(profile=profile, search=profile_search(profile))


def put_profile(request: Request, body: Profile, visitor: VisitorDep) -> ProfileView:
    """Save age, sex and place in the anonymous session."""
    web_context(request).sessions.put_profile(visitor.token, body)
    issue_session_cookie(request, visitor)
    return ProfileView(profile=body, search=profile_search(body))


def delete_profile(request: Request, visitor: VisitorDep) -> ProfileView:
    """Forget the profile."""
    web_context(request).sessions.put_profile(visitor.token, Profile())
    return ProfileView(profile=Profile(), search=None)


def matches(request: Request) -> MatchesPage:
    """My matches: trials for this visitor's profile, with self-check verdicts."""
    profile = visitor_profile(request)
    search = profile_search(profile)
    if search is None:
        return MatchesPage(profile=profile, note="Add your age, sex or location to your "
                           "profile to see trials that fit it.")
    return MatchesPage(profile=profile, results=run_search(request, search),
                       note="Trials open to your age and sex, nearest first when you gave a "
                       "place. Matching on your medical history comes with patient profiles.")


def post_profile_form(request: Request, visitor: VisitorDep,
                      fields: Annotated[dict[str, str], Depends(form_fields)]
                      ) -> RedirectResponse:
    try:
        profile = Profile.model_validate(drop_empty(
            {k: fields.get(k, "") for k in PROFILE_FIELDS}))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    web_context(request).sessions.put_profile(visitor.token, profile)
    issue_session_cookie(request, visitor)
    return RedirectResponse("/profile?saved=1", status_code=303)


def post_profile_clear_form(request: Request, visitor: VisitorDep) -> RedirectResponse:
    delete_profile(request, visitor)
    return RedirectResponse("/profile", status_code=303)


def post_forget_form(request: Request, visitor: VisitorDep) -> RedirectResponse:
    forget_session(request, visitor)
    return RedirectResponse("/profile?forgotten=1", status_code=303)


def register(api: APIRouter, pages: APIRouter) -> None:
    changing = problem_responses(403, 413, 422)
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
                      tags=["session"], summary="My profile")
    api.add_api_route("/profile", put_profile, methods=["PUT"], response_model=ProfileView,
                      responses=changing, dependencies=[CsrfDep], tags=["session"],
                      summary="Save my profile")
    api.add_api_route("/profile", delete_profile, methods=["DELETE"],
                      response_model=ProfileView, responses=changing, dependencies=[CsrfDep],
                      tags=["session"], summary="Forget my profile")
    api.add_api_route("/matches", matches, methods=["GET"], response_model=MatchesPage,
                      responses=problem_responses(422), tags=["session"], summary="My matches")
    add_page_route(pages, "/profile", profile_view, "profile.html")
    add_page_route(pages, "/matches", matches, "matches.html")
    pages.add_api_route("/profile", post_profile_form, methods=["POST"], dependencies=[CsrfDep],
                        include_in_schema=False)
    pages.add_api_route("/profile/clear", post_profile_clear_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False)
    pages.add_api_route("/session/forget", post_forget_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False)
