"""Accounts on the web: sign-up, verification, sign-in (password or emailed link), reset,
sign-out (here or everywhere), the account page, "Export my data", "Delete my account".

Every sign-in gives the browser a new session id (``_sign_in``): the anonymous session's
data moves into the account and the old id stops working, so an id planted before sign-in
is worthless after it. Sign-out issues a fresh anonymous id. Links in emails open a page
with a button: the POST uses the link up, so mail scanners that fetch links do not.
Answers that could tell whether an address has an account are the same either way.
Account routes answer 404 to anonymous visitors.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from trialscout.accounts.data import delete_account, export_account
from trialscout.accounts.inputs import AccountInputError
from trialscout.accounts.lookup import AccountInfo
from trialscout.accounts.service import (
    AccountPolicy,
    AccountService,
    LinkInvalid,
    LockedOut,
    NotVerified,
    SignInRefused,
)
from trialscout.sessions.tokens import csrf_token, issue_session_id
from trialscout.web.account_views import (
    Accepted,
    AccountView,
    Credentials,
    DeleteBody,
    EmailBody,
    FormPage,
    ResetBody,
    TokenBody,
)
from trialscout.web.accounts_context import (
    MemberDep,
    current_account,
    forget_cached_account,
)
from trialscout.web.context import WebContext, web_context
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.rendering import add_page_route
from trialscout.web.visitor import (
    CsrfDep,
    Visitor,
    VisitorDep,
    current_visitor,
    form_fields,
    issue_session_cookie,
)

FormDep = Annotated[dict[str, str], Depends(form_fields)]
TokenQuery = Annotated[str | None, Query(max_length=100)]


def account_service(ctx: WebContext) -> AccountService:
    return AccountService(ctx.core.engine, AccountPolicy.from_settings(ctx.core.settings))


def _deliver_soon(background: BackgroundTasks, ctx: WebContext) -> None:
    """Send what was queued right after the response (the worker would send it too)."""
    if ctx.core.settings.smtp_host:
        from trialscout.mail.delivery import deliver_pending

        background.add_task(deliver_pending, ctx.core, limit=50)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _sign_in(request: Request, visitor: Visitor, account: AccountInfo) -> AccountView:
    """Give the browser a new session id linked to ``account``; the old session's data
    moves into the account and the old id is deleted."""
    ctx = web_context(request)
    token = issue_session_id(ctx.secret)
    account_service(ctx).start_session(None if visitor.is_new else visitor.token, token,
                                       account.id)
    fresh = Visitor(token, True, csrf_token(ctx.secret, token))
    request.state.visitor = fresh
    issue_session_cookie(request, fresh)
    forget_cached_account(request)
    return AccountView(id=account.id, email=account.email, role=account.role,
                       verified=account.verified, csrf_token=fresh.csrf_token)


def _new_anonymous_session(request: Request) -> Visitor:
    ctx = web_context(request)
    token = issue_session_id(ctx.secret)
    fresh = Visitor(token, True, csrf_token(ctx.secret, token))
    request.state.visitor = fresh
    issue_session_cookie(request, fresh)
    forget_cached_account(request)
    return fresh


def _input_problem(exc: Exception) -> ProblemException:
    return ProblemException(422, str(exc), "validation")


# ---------------------------------------------------------------------- API handlers
def sign_up(request: Request, body: Credentials, background: BackgroundTasks) -> Accepted:
    """Create an account; a verification link is emailed. The answer is the same whether
    or not the address already has an account (which gets a note instead)."""
    ctx = web_context(request)
    try:
        account_service(ctx).sign_up(body.email, body.password)
    except AccountInputError as exc:
        raise _input_problem(exc) from None
    _deliver_soon(background, ctx)
    return Accepted()


def verify(request: Request, body: TokenBody) -> Response:
    """Confirm the email address with the token of the emailed link (works once)."""
    try:
        account_service(web_context(request)).verify(body.token)
    except LinkInvalid as exc:
        raise ProblemException(410, str(exc), "link-invalid") from None
    return Response(status_code=204)


def _authenticate(request: Request, email: str, password: str,
                  background: BackgroundTasks) -> AccountInfo:
    ctx = web_context(request)
    try:
        return account_service(ctx).authenticate(email, password, _client(request))
    except LockedOut as exc:
        raise ProblemException(429, str(exc), "locked",
                               headers={"Retry-After": str(exc.retry_after)}) from None
    except NotVerified as exc:  # the right password: telling it apart leaks nothing
        _deliver_soon(background, ctx)
        raise ProblemException(403, str(exc), "not-verified") from None
    except SignInRefused as exc:
        _deliver_soon(background, ctx)
        raise ProblemException(401, str(exc), "sign-in-refused") from None


def sign_in(request: Request, body: Credentials, visitor: VisitorDep,
            background: BackgroundTasks) -> AccountView:
    """Sign in with email address and password. The session id is rotated: the response
    sets the new cookie, and the new CSRF token is in the body and `X-CSRF-Token`."""
    account = _authenticate(request, body.email, body.password, background)
    return _sign_in(request, visitor, account)


def request_link(request: Request, body: EmailBody, background: BackgroundTasks,
                 purpose: str) -> Accepted:
    ctx = web_context(request)
    account_service(ctx).request_link(body.email, purpose)
    _deliver_soon(background, ctx)
    return Accepted()


def request_reset(request: Request, body: EmailBody, background: BackgroundTasks) -> Accepted:
    """Email a password-reset link (the answer is the same for unknown addresses)."""
    return request_link(request, body, background, "reset")


def request_signin_link(request: Request, body: EmailBody,
                        background: BackgroundTasks) -> Accepted:
    """Email a sign-in link (the answer is the same for unknown addresses)."""
    return request_link(request, body, background, "signin")


def reset_password(request: Request, body: ResetBody) -> Response:
    """Choose a new password with the token of the emailed link (works once). Every session
    of the account ends."""
    try:
        account_service(web_context(request)).reset_password(body.token, body.password)
    except AccountInputError as exc:
        raise _input_problem(exc) from None
    except LinkInvalid as exc:
        raise ProblemException(410, str(exc), "link-invalid") from None
    return Response(status_code=204)


def use_signin_link(request: Request, body: TokenBody, visitor: VisitorDep) -> AccountView:
    """Sign in with the token of an emailed sign-in link (works once); rotates the session."""
    try:
        account = account_service(web_context(request)).use_signin_link(body.token)
    except LinkInvalid as exc:
        raise ProblemException(410, str(exc), "link-invalid") from None
    return _sign_in(request, visitor, account)


def sign_out(request: Request, visitor: VisitorDep) -> Response:
    """Sign out of this browser; a new anonymous session id is issued."""
    account_service(web_context(request)).end_session(visitor.token)
    _new_anonymous_session(request)
    return Response(status_code=204)


def sign_out_everywhere(request: Request, account: MemberDep) -> Response:
    """End every session of my account, this one included."""
    account_service(web_context(request)).end_all_sessions(account.id)
    _new_anonymous_session(request)
    return Response(status_code=204)


def account_view(request: Request, account: MemberDep) -> AccountView:
    """My account (404 when not signed in)."""
    return AccountView(id=account.id, email=account.email, role=account.role,
                       verified=account.verified,
                       csrf_token=current_visitor(request).csrf_token)


def export_data(request: Request, account: MemberDep) -> Response:
    """Export my data: one JSON file with everything kept about my account."""
    with web_context(request).core.engine.connect() as conn:
        data: dict[str, Any] = export_account(conn, account.id)
    return Response(json.dumps(data, indent=2, ensure_ascii=False),
                    media_type="application/json", headers={
                        "Content-Disposition": 'attachment; filename="trialscout-my-data.json"',
                        "Cache-Control": "no-store"})


def delete_my_account(request: Request, body: DeleteBody, account: MemberDep) -> Response:
    """Delete my account and every personal row (one transaction); signs out."""
    with web_context(request).core.engine.begin() as conn:
        delete_account(conn, account.id)
    _new_anonymous_session(request)
    return Response(status_code=204)


# ---------------------------------------------------------------------- pages
def form_page(form: str) -> Any:
    def page(request: Request, token: TokenQuery = None) -> FormPage:
        ok = True
        if token and form in ("reset",):
            ok = account_service(web_context(request)).check_link(token, form)
        return FormPage(form=form, token=token, token_ok=ok)

    page.__name__ = f"{form}_form"
    page.__doc__ = f"The {form} form."
    return page


def token_page(form: str) -> Any:
    handler = form_page(form)

    def page(request: Request, token: TokenQuery = None) -> Response:
        response = web_context(request).renderer.page(request, "account_token.html",
                                                      page=handler(request, token))
        response.headers["Cache-Control"] = "no-store"
        return response

    page.__name__ = f"{form}_page"
    return page


def account_page(request: Request, account: MemberDep) -> AccountView:
    return account_view(request, account)


def _render(request: Request, template: str, status: int, **page: Any) -> Response:
    return web_context(request).renderer.page(request, template, status_code=status,
                                              page=FormPage(**page))


def post_signup(request: Request, fields: FormDep, background: BackgroundTasks) -> Response:
    email = fields.get("email", "")
    try:
        account_service(web_context(request)).sign_up(email, fields.get("password", ""))
    except AccountInputError as exc:
        return _render(request, "account_signup.html", 422, form="signup", error=str(exc),
                       email=email[:300])
    _deliver_soon(background, web_context(request))
    return RedirectResponse("/account/signin?sent=verify", status_code=303)


def post_signin(request: Request, fields: FormDep, visitor: VisitorDep,
                background: BackgroundTasks) -> Response:
    email = fields.get("email", "")
    try:
        account = _authenticate(request, email, fields.get("password", ""), background)
    except ProblemException as exc:
        response = _render(request, "account_signin.html", exc.status_code, form="signin",
                           error=str(exc.detail), email=email[:300])
        response.headers.update(exc.headers or {})
        return response
    _sign_in(request, visitor, account)
    return RedirectResponse("/account?signed_in=1", status_code=303)


def post_verify(request: Request, fields: FormDep) -> Response:
    try:
        account_service(web_context(request)).verify(fields.get("token", "")[:200])
    except LinkInvalid as exc:
        return _render(request, "account_token.html", 410, form="verify", error=str(exc),
                       token_ok=False)
    return RedirectResponse("/account/signin?verified=1", status_code=303)


def post_link_request(purpose: str) -> Any:
    def handler(request: Request, fields: FormDep, background: BackgroundTasks) -> Response:
        ctx = web_context(request)
        account_service(ctx).request_link(fields.get("email", "")[:300], purpose)
        _deliver_soon(background, ctx)
        return RedirectResponse(f"/account/{'reset' if purpose == 'reset' else 'link'}"
                                "?sent=1", status_code=303)

    handler.__name__ = f"post_{purpose}_request"
    return handler


def post_reset(request: Request, fields: FormDep) -> Response:
    token = fields.get("token", "")[:200]
    try:
        account_service(web_context(request)).reset_password(token,
                                                             fields.get("password", ""))
    except AccountInputError as exc:
        return _render(request, "account_token.html", 422, form="reset", token=token,
                       error=str(exc))
    except LinkInvalid as exc:
        return _render(request, "account_token.html", 410, form="reset", error=str(exc),
                       token_ok=False)
    return RedirectResponse("/account/signin?reset=1", status_code=303)


def post_link(request: Request, fields: FormDep, visitor: VisitorDep) -> Response:
    try:
        account = account_service(web_context(request)).use_signin_link(
            fields.get("token", "")[:200])
    except LinkInvalid as exc:
        return _render(request, "account_token.html", 410, form="link", error=str(exc),
                       token_ok=False)
    _sign_in(request, visitor, account)
    return RedirectResponse("/account?signed_in=1", status_code=303)


def post_signout(request: Request, visitor: VisitorDep) -> RedirectResponse:
    sign_out(request, visitor)
    return RedirectResponse("/account/signin?signed_out=1", status_code=303)


def post_signout_everywhere(request: Request, account: MemberDep) -> RedirectResponse:
    sign_out_everywhere(request, account)
    return RedirectResponse("/account/signin?signed_out=all", status_code=303)


def post_delete(request: Request, fields: FormDep, account: MemberDep) -> Response:
    if fields.get("confirm") != "yes":
        return web_context(request).renderer.page(
            request, "account.html", status_code=422,
            page=account_view(request, account),
            error="Tick the box to confirm that you want to delete your account.")
    with web_context(request).core.engine.begin() as conn:
        delete_account(conn, account.id)
    _new_anonymous_session(request)
    return RedirectResponse("/?account=deleted", status_code=303)


def register(api: APIRouter, pages: APIRouter) -> None:
    public = problem_responses(403, 422)
    own = problem_responses(403, 404, 422)
    tags: list[str | Enum] = ["account"]
    api.add_api_route("/account/signup", sign_up, methods=["POST"], status_code=202,
                      response_model=Accepted, responses=public, dependencies=[CsrfDep],
                      tags=tags, summary="Sign up")
    api.add_api_route("/account/verify", verify, methods=["POST"], status_code=204,
                      responses=problem_responses(403, 410, 422), dependencies=[CsrfDep],
                      tags=tags, summary="Confirm my email address")
    api.add_api_route("/account/signin", sign_in, methods=["POST"], response_model=AccountView,
                      responses=problem_responses(401, 403, 422, 429),
                      dependencies=[CsrfDep], tags=tags, summary="Sign in")
    api.add_api_route("/account/reset-request", request_reset, methods=["POST"],
                      status_code=202, response_model=Accepted, responses=public,
                      dependencies=[CsrfDep], tags=tags, summary="Email me a reset link")
    api.add_api_route("/account/reset", reset_password, methods=["POST"], status_code=204,
                      responses=problem_responses(403, 410, 422), dependencies=[CsrfDep],
                      tags=tags, summary="Choose a new password")
    api.add_api_route("/account/link-request", request_signin_link, methods=["POST"],
                      status_code=202, response_model=Accepted, responses=public,
                      dependencies=[CsrfDep], tags=tags, summary="Email me a sign-in link")
    api.add_api_route("/account/link", use_signin_link, methods=["POST"],
                      response_model=AccountView, responses=problem_responses(403, 410, 422),
                      dependencies=[CsrfDep], tags=tags, summary="Sign in with an emailed link")
    api.add_api_route("/account/signout", sign_out, methods=["POST"], status_code=204,
                      responses=public, dependencies=[CsrfDep], tags=tags, summary="Sign out")
    api.add_api_route("/account/signout-everywhere", sign_out_everywhere, methods=["POST"],
                      status_code=204, responses=own, dependencies=[CsrfDep], tags=tags,
                      summary="Sign out everywhere")
    api.add_api_route("/account", account_view, methods=["GET"], response_model=AccountView,
                      responses=problem_responses(404), tags=tags, summary="My account")
    api.add_api_route("/account", delete_my_account, methods=["DELETE"], status_code=204,
                      responses=own, dependencies=[CsrfDep], tags=tags,
                      summary="Delete my account")
    api.add_api_route("/account/export", export_data, methods=["GET"],
                      response_class=Response, responses=problem_responses(404), tags=tags,
                      summary="Export my data (one JSON file)")
    pages.add_api_route("/account/export", export_data, methods=["GET"],
                        response_class=Response, include_in_schema=False,
                        name="page_export_data")
    add_page_route(pages, "/account", account_page, "account.html")
    add_page_route(pages, "/account/signup", form_page("signup"), "account_signup.html")
    add_page_route(pages, "/account/signin", form_page("signin"), "account_signin.html")
    for form_name in ("verify", "reset", "link"):  # never cached: a link's state changes
        pages.add_api_route(f"/account/{form_name}", token_page(form_name), methods=["GET"],
                            response_class=Response, include_in_schema=False)
    form: dict[str, Any] = {"dependencies": [CsrfDep], "include_in_schema": False,
            "response_class": Response, "response_model": None}
    pages.add_api_route("/account/signup", post_signup, methods=["POST"], **form)
    pages.add_api_route("/account/signin", post_signin, methods=["POST"], **form)
    pages.add_api_route("/account/verify", post_verify, methods=["POST"], **form)
    pages.add_api_route("/account/reset", post_reset, methods=["POST"], **form)
    pages.add_api_route("/account/reset-request", post_link_request("reset"),
                        methods=["POST"], **form)
    pages.add_api_route("/account/link", post_link, methods=["POST"], **form)
    pages.add_api_route("/account/link-request", post_link_request("signin"),
                        methods=["POST"], **form)
    pages.add_api_route("/account/signout", post_signout, methods=["POST"], **form)
    pages.add_api_route("/account/signout-everywhere", post_signout_everywhere,
                        methods=["POST"], **form)
    pages.add_api_route("/account/delete", post_delete, methods=["POST"], **form)


__all__ = ["current_account", "register"]
