"""The volunteer registry on the web: join or change (with the versioned consent), withdraw
in one click, my consent records; and, for admins only, the counts per category and area.

Registrations belong to accounts: anonymous visitors see the page with a sign-in prompt,
and every API route but the consent text answers them 404. The admin counts answer 404 to
everyone but admins.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from trialscout.accounts.lookup import AccountInfo
from trialscout.accounts.service import utcnow
from trialscout.accounts.session_data import session_data_hash
from trialscout.search.errors import SearchQueryError
from trialscout.search.places import gazetteer
from trialscout.sessions.models import Profile
from trialscout.sessions.tables import WebSessionRow
from trialscout.volunteers import registry
from trialscout.volunteers.consent import CURRENT_CONSENT, consent_text
from trialscout.volunteers.registry import (
    ConsentRecord,
    Registration,
    RegistrationView,
    RegistryCounts,
    VolunteerError,
)
from trialscout.web.account_views import ConsentText, VolunteerPage
from trialscout.web.accounts_context import AccountDep, AdminDep, MemberDep, not_found
from trialscout.web.context import WebContext, web_context
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.rendering import add_page_route
from trialscout.web.visitor import CsrfDep, form_fields

FormDep = Annotated[dict[str, str], Depends(form_fields)]


def _profile(ctx: WebContext, account: AccountInfo) -> Profile:
    from sqlalchemy import select

    with ctx.core.engine.connect() as conn:
        home = session_data_hash(conn, account.owner)
        raw = conn.execute(select(WebSessionRow.profile).where(
            WebSessionRow.id_hash == home)).scalar_one_or_none() if home else None
    try:
        return Profile.model_validate_json(raw) if raw else Profile()
    except ValueError:
        return Profile()


FORM_CONDITIONS = 300


def _conditions(ctx: WebContext) -> list[str]:
    """Every condition of the browse list (to check what a member chose)."""
    from trialscout.web.search_routes import all_conditions

    return [c.condition for c in all_conditions(ctx)]


def _form_conditions(ctx: WebContext, chosen: list[str]) -> list[str]:
    """The form's choices: the most common conditions (a registry has tens of thousands;
    others go in as free terms) and whatever the member chose before, by name."""
    top = [c.condition for c in ctx.core.browse_conditions(page_size=FORM_CONDITIONS,
                                                           order="count")]
    return sorted(set(top) | set(chosen), key=str.casefold)


def consent() -> ConsentText:
    """The current consent text of the volunteer registry and its version."""
    return ConsentText(version=CURRENT_CONSENT, text=consent_text())


def my_registration(request: Request, account: MemberDep) -> RegistrationView:
    """My volunteer registration (404 when I have none or am not signed in)."""
    with web_context(request).core.engine.connect() as conn:
        found = registry.registration(conn, account.id)
    if found is None:
        raise not_found()
    return found


def put_registration(request: Request, body: Registration, account: MemberDep
                     ) -> RegistrationView:
    """Join the volunteer registry, or change my registration. `consent_version` must be
    the current consent text's version; age and sex come from my profile."""
    ctx = web_context(request)
    try:
        place = gazetteer().resolve(body.place)
    except SearchQueryError as exc:
        raise ProblemException(422, str(exc), "invalid-place") from None
    known = set(_conditions(ctx)) if body.conditions else set()
    try:
        with ctx.core.engine.begin() as conn:
            view = registry.register(conn, account.id, body, _profile(ctx, account), place,
                                     known, utcnow())
    except VolunteerError as exc:
        raise ProblemException(422, str(exc), "validation") from None
    return view


def withdraw(request: Request, account: MemberDep) -> Response:
    """Withdraw from the volunteer registry: out of every list at once."""
    ctx = web_context(request)
    with ctx.core.engine.begin() as conn:
        registry.withdraw(conn, account.id, utcnow())
    return Response(status_code=204)


def my_consents(request: Request, account: MemberDep) -> list[ConsentRecord]:
    """My consent records: each consent given or withdrawn, when, and the text version."""
    with web_context(request).core.engine.connect() as conn:
        return registry.consents(conn, account.id)


def volunteer_counts(request: Request, admin: AdminDep) -> RegistryCounts:
    """Volunteers per category and per area (admins only; counts below the minimum are
    null, never names)."""
    with web_context(request).core.engine.connect() as conn:
        return registry.counts(conn)


def volunteer_page(request: Request, account: AccountDep) -> VolunteerPage:
    ctx = web_context(request)
    if account is None:
        return VolunteerPage(signed_in=False, registration=None, consent=consent(),
                             consents=[], conditions=[])
    profile = _profile(ctx, account)
    with ctx.core.engine.connect() as conn:
        found = registry.registration(conn, account.id)
        records = registry.consents(conn, account.id)
    return VolunteerPage(signed_in=True, registration=found, consent=consent(),
                         consents=records,
                         conditions=_form_conditions(ctx, found.conditions if found else []),
                         profile_age=profile.age, profile_sex=profile.sex)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


async def post_volunteer(request: Request, account: MemberDep) -> Response:
    form = await request.form(max_files=0, max_fields=500)
    conditions = [v for v in form.getlist("conditions") if isinstance(v, str) and v]
    terms = form.get("terms")
    try:
        body = Registration.model_validate({
            "conditions": conditions,
            "terms": _lines(terms) if isinstance(terms, str) else [],
            "place": form.get("place") or "", "radius_km": form.get("radius_km") or 100,
            "healthy": form.get("healthy") == "yes",
            "consent_version": form.get("consent_version")
            if form.get("consent") == "yes" else ""})
    except ValidationError as exc:
        return _page_error(request, account, "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]))
    from starlette.concurrency import run_in_threadpool

    try:
        await run_in_threadpool(put_registration, request, body, account)
    except ProblemException as exc:
        return _page_error(request, account, str(exc.detail))
    return RedirectResponse("/volunteer?saved=1", status_code=303)


def _page_error(request: Request, account: AccountInfo, message: str) -> Response:
    return web_context(request).renderer.page(
        request, "volunteer.html", status_code=422, page=volunteer_page(request, account),
        error=message)


def post_withdraw(request: Request, account: MemberDep) -> RedirectResponse:
    withdraw(request, account)
    return RedirectResponse("/volunteer?withdrawn=1", status_code=303)


def register(api: APIRouter, pages: APIRouter) -> None:
    own = problem_responses(404)
    changing = problem_responses(403, 404, 422)
    tags: list[str | Enum] = ["volunteers"]
    api.add_api_route("/volunteer/consent", consent, methods=["GET"],
                      response_model=ConsentText, tags=tags, summary="The consent text")
    api.add_api_route("/volunteer", my_registration, methods=["GET"],
                      response_model=RegistrationView, responses=own, tags=tags,
                      summary="My volunteer registration")
    api.add_api_route("/volunteer", put_registration, methods=["PUT"],
                      response_model=RegistrationView, responses=changing,
                      dependencies=[CsrfDep], tags=tags, summary="Join or change")
    api.add_api_route("/volunteer", withdraw, methods=["DELETE"], status_code=204,
                      responses=changing, dependencies=[CsrfDep], tags=tags,
                      summary="Withdraw (one click)")
    api.add_api_route("/volunteer/consents", my_consents, methods=["GET"],
                      response_model=list[ConsentRecord], responses=own, tags=tags,
                      summary="My consent records")
    api.add_api_route("/admin/volunteers", volunteer_counts, methods=["GET"],
                      response_model=RegistryCounts, responses=own, tags=tags,
                      summary="Volunteer counts per category and area (admins)")
    add_page_route(pages, "/volunteer", volunteer_page, "volunteer.html")
    add_page_route(pages, "/admin/volunteers", volunteer_counts, "volunteer_admin.html")
    form: dict[str, Any] = {"dependencies": [CsrfDep], "include_in_schema": False,
            "response_class": Response, "response_model": None}
    pages.add_api_route("/volunteer", post_volunteer, methods=["POST"], **form)
    pages.add_api_route("/volunteer/withdraw", post_withdraw, methods=["POST"], **form)
