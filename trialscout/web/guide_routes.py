"""Condition and drug guides, the trials they list, and "Send us a question".

Pages and API come from the same handlers, as everywhere. The question form posts to the
page route, which redirects (POST-redirect-GET) to the guide with a confirmation, or shows
the guide again with the form's errors; the API takes JSON and answers problem+json.
Question text and emails are never logged: not here, and the access log has no bodies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse

from trialscout.guides.content import Guide
from trialscout.guides.questions import (
    MAX_TEXT,
    MIN_TEXT,
    QuestionError,
    RateLimited,
    clean_email,
    clean_text,
)
from trialscout.web.context import web_context
from trialscout.web.params import GuideQuery
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.rendering import add_page_route
from trialscout.web.viewmodels import (
    GuideList,
    GuidePage,
    GuideSummary,
    GuideTrialPage,
    QuestionBody,
    QuestionReceipt,
    QuestionRules,
)
from trialscout.web.visitor import CsrfDep, VisitorDep, form_fields

Slug = Annotated[str, Path(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80,
                           description="Guide slug, e.g. denosumab.")]
RECEIVED = ("Thank you: your question has been received. Our team reads every question; "
            "answers that help others may appear on this guide, never with your email.")


def load_guide(request: Request, slug: str) -> Guide:
    found = web_context(request).core.guides.get(slug)
    if found is None:
        raise ProblemException(404, f"No guide {slug!r}.", "not-found")
    return found


def guides(request: Request) -> GuideList:
    """Every guide, with how many stored trials it lists."""
    service = web_context(request).core.guides
    items = []
    for one in service.all():
        found = service.trials(one.slug, limit=0)
        items.append(GuideSummary(slug=one.slug, title=one.title, kind=one.kind,
                                  summary=one.summary, also_known_as=one.also_known_as,
                                  reviewed=one.reviewed,
                                  trial_count=found.total if found else 0))
    return GuideList(items=items, total=len(items))


def _rules(request: Request) -> QuestionRules:
    limits = web_context(request).core.guides.limits
    return QuestionRules(min_length=MIN_TEXT, max_length=MAX_TEXT,
                         per_visitor=limits.per_client, window_seconds=limits.window_seconds)


def guide(request: Request, slug: Slug, query: Annotated[GuideQuery, Query()]) -> GuidePage:
    """A guide in sections, its FAQ and sources, a page of the trials it lists (open ones
    first, linked through the synonym vocabulary) and published answers to visitors'
    questions."""
    found = load_guide(request, slug)
    service = web_context(request).core.guides
    listed = service.trials(slug, limit=query.page_size,
                            offset=(query.page - 1) * query.page_size,
                            open_only=query.open_only)
    assert listed is not None
    return GuidePage(guide=found, trials=GuideTrialPage(
        total=listed.total, trials=listed.trials, page=query.page, page_size=query.page_size,
        open_only=query.open_only), answers=service.published(slug),
        question_rules=_rules(request), question_sent=query.sent)


def _published_state(request: Request) -> str:
    """What of a guide page changes without an import: its published answers."""
    slug = str(request.path_params.get("slug", ""))
    answers = web_context(request).core.guides.published(slug)
    return ";".join(f"{a.id}@{a.answered_at}" for a in answers)


class InvalidQuestion(Exception):
    """What is wrong with a question, by field (text, email), every field at once."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("invalid question")
        self.problems = problems


def _problems(text: str, email: str | None) -> dict[str, str]:
    """Every field the question store would refuse, checked with the store's own rules
    (it checks them again, but stops at the first), so a form can show them all."""
    problems = {}
    for name, check in (("text", lambda: clean_text(text, "text", MIN_TEXT, MAX_TEXT)),
                        ("email", lambda: clean_email(email))):
        try:
            check()
        except QuestionError as exc:
            problems[name] = exc.message
    return problems


def _ask(request: Request, slug: str, token: str, text: str, email: str | None
         ) -> QuestionReceipt:
    """Store the question, validated and rate limited (per session, per client address,
    and per day for the whole site) by trialscout.guides.questions. Raises InvalidQuestion
    or RateLimited."""
    load_guide(request, slug)
    problems = _problems(text, email)
    if problems:
        raise InvalidQuestion(problems)
    try:
        question = web_context(request).core.guides.ask(
            text=text, email=email, guide_slug=slug, client_key=token,
            address=request.client.host if request.client else None)
    except QuestionError as exc:
        raise InvalidQuestion({exc.field: exc.message}) from None
    return QuestionReceipt(id=question.id, guide_slug=slug, status=question.status,
                           created_at=question.created_at, message=RECEIVED)


def _retry_text(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    if minutes < 90:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours = (minutes + 59) // 60
    return f"{hours} hours"


def _rate_limited(exc: RateLimited) -> str:
    if exc.scope == "site":
        return (f"We have received many questions today and cannot take more just now. "
                f"Please try again in {_retry_text(exc.retry_after)}.")
    return (f"You have sent several questions in a short time. Please try again in "
            f"{_retry_text(exc.retry_after)}.")


def ask_question(request: Request, slug: Slug, body: QuestionBody,
                 visitor: VisitorDep) -> QuestionReceipt:
    """Send the team a question about this guide. Optional email, only for the reply;
    it is never shown on the site. Rate limited per visitor and per day (429 with
    Retry-After)."""
    try:
        return _ask(request, slug, visitor.token, body.text, body.email)
    except InvalidQuestion as exc:
        raise RequestValidationError([{"loc": ("body", name), "msg": message,
                                       "type": "value_error"}
                                      for name, message in exc.problems.items()]) from None
    except RateLimited as exc:
        raise ProblemException(429, _rate_limited(exc), "rate-limited",
                               headers={"Retry-After": str(exc.retry_after)}) from None


@dataclass
class QuestionForm:
    """What the visitor typed and what is wrong with it, for showing the form again."""

    text: str = ""
    email: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


def post_question_form(request: Request, slug: Slug, visitor: VisitorDep,
                       fields: Annotated[dict[str, str], Depends(form_fields)]
                       ) -> HTMLResponse | RedirectResponse:
    text, email = fields.get("text", ""), fields.get("email", "")
    try:
        _ask(request, slug, visitor.token, text, email or None)
    except InvalidQuestion as exc:
        return _form_again(request, slug, QuestionForm(text=text, email=email,
                                                       errors=exc.problems), 422)
    except RateLimited as exc:
        form = QuestionForm(text=text, email=email, problem=_rate_limited(exc))
        response = _form_again(request, slug, form, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return RedirectResponse(f"/guides/{slug}?sent=true#ask", status_code=303)


def _form_again(request: Request, slug: str, form: QuestionForm, status: int) -> HTMLResponse:
    page = guide(request, slug, GuideQuery())
    return web_context(request).renderer.page(request, "guide.html", status_code=status,
                                              page=page, form=form)


def register(api: APIRouter, pages: APIRouter) -> None:
    asking = problem_responses(403, 404, 413, 422, 429)
    api.add_api_route("/guides", guides, methods=["GET"], response_model=GuideList,
                      tags=["guides"], summary="Guides")
    api.add_api_route("/guides/{slug}", guide, methods=["GET"], response_model=GuidePage,
                      responses=problem_responses(404, 422), tags=["guides"],
                      summary="One guide and its trials")
    api.add_api_route("/guides/{slug}/questions", ask_question, methods=["POST"],
                      status_code=201, response_model=QuestionReceipt, responses=asking,
                      dependencies=[CsrfDep], tags=["guides"], summary="Send us a question")
    add_page_route(pages, "/guides", guides, "guides.html")
    add_page_route(pages, "/guides/{slug}", guide, "guide.html",
                   cache_extra=_published_state)
    pages.add_api_route("/guides/{slug}/questions", post_question_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False,
                        response_model=None)
