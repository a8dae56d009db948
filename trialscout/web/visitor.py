"""Who is asking: the anonymous session behind a request, and its CSRF token.

The session cookie is HttpOnly and SameSite=Lax and carries 256 random bits signed with the
server's secret key: an id the server did not issue is ignored and replaced, so nobody can
choose a visitor's id for them. The server stores only the id's hash. When the visitor's
data changes (profile saved, medical history uploaded, session forgotten) the id is
rotated: the data moves to a new id, the response sets the new cookie and carries the new
CSRF token in the ``X-CSRF-Token`` response header. State-changing requests must present
the CSRF token derived from the current session (form field ``csrf_token`` or header
``X-CSRF-Token``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import Scope

from trialscout.sessions.models import Profile
from trialscout.sessions.tokens import (
    csrf_matches,
    csrf_token,
    is_issued_session_id,
    issue_session_id,
)
from trialscout.web.context import web_context
from trialscout.web.problems import ProblemException

SESSION_COOKIE = "ts_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Visitor:
    token: str
    is_new: bool
    csrf_token: str


def current_visitor(request: Request) -> Visitor:
    cached = getattr(request.state, "visitor", None)
    if isinstance(cached, Visitor):
        return cached
    secret = web_context(request).secret
    raw = request.cookies.get(SESSION_COOKIE)
    if raw and is_issued_session_id(secret, raw):
        visitor = Visitor(raw, False, csrf_token(secret, raw))
    else:
        token = issue_session_id(secret)
        visitor = Visitor(token, True, csrf_token(secret, token))
    request.state.visitor = visitor
    return visitor


def known_session(request: Request) -> str | None:
    """The request's session id if this server issued it (reads only: no new id)."""
    raw = request.cookies.get(SESSION_COOKIE)
    return raw if raw and is_issued_session_id(web_context(request).secret, raw) else None


def issue_session_cookie(request: Request, visitor: Visitor) -> None:
    """Ask the SessionCookie middleware to (re)send the cookie with this response, and the
    session's CSRF token in the ``X-CSRF-Token`` response header."""
    request.state.issue_session = visitor.token
    request.state.issue_csrf = visitor.csrf_token


def rotate_session(request: Request, visitor: Visitor) -> Visitor:
    """Give the visitor a new session id holding the same data, after their data changed.

    A fresh id (made for this request) was never seen by anyone and is kept. The new id is
    sent as the cookie and its CSRF token as the ``X-CSRF-Token`` response header.
    """
    if not visitor.is_new:
        ctx = web_context(request)
        token = issue_session_id(ctx.secret)
        ctx.sessions.rotate(visitor.token, token)
        visitor = Visitor(token, True, csrf_token(ctx.secret, token))
        request.state.visitor = visitor
    issue_session_cookie(request, visitor)
    return visitor


def session_cookie_header(max_age: int) -> Callable[[Scope, str], str]:
    def build(scope: Scope, token: str) -> str:
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        return (f"{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; "
                f"SameSite=Lax{secure}")

    return build


async def require_csrf(request: Request) -> None:
    """Reject a state-changing request unless it carries this session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    candidate = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if candidate is None and content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        candidate = field if isinstance(field, str) else None
    raw = known_session(request)
    if not csrf_matches(web_context(request).secret, raw, candidate):
        raise ProblemException(
            403, "Missing or invalid CSRF token. Send the session cookie with the token from "
            "GET /api/v1/session in the X-CSRF-Token header (forms: the csrf_token field). "
            "Reload the page if it has been open for long.", "csrf")


VisitorDep = Annotated[Visitor, Depends(current_visitor)]
CsrfDep = Depends(require_csrf)


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted form's text fields (pages only; the API takes JSON)."""
    form = await request.form(max_files=0, max_fields=1000)
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


def visitor_profile(request: Request) -> Profile:
    token = known_session(request)
    return web_context(request).sessions.profile(token) if token else Profile()
