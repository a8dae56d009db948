"""Who is signed in: the account (and its role) behind a request, for any route.

Routes that serve per-user objects take the owner key from :func:`request_owner`
(``account:<id>`` when signed in, else ``session:<hash>`` of the anonymous session) and
must answer 404 for objects of any other owner. :func:`require_account` and
:func:`require_role` refuse with 404 too, so a refusal never tells whether something exists.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from trialscout.accounts.lookup import AccountInfo, session_account
from trialscout.accounts.owners import owner_for
from trialscout.sessions.tokens import hash_session_token
from trialscout.web.context import web_context
from trialscout.web.problems import ProblemException
from trialscout.web.visitor import current_visitor, issue_session_cookie, known_session

_UNSET = object()


def current_account(request: Request) -> AccountInfo | None:
    """The enabled account the request's session is signed in to, or None."""
    cached = getattr(request.state, "account", _UNSET)
    if cached is None or isinstance(cached, AccountInfo):
        return cached
    token = known_session(request)
    account = None
    if token:
        ctx = web_context(request)
        with ctx.core.engine.connect() as conn:
            account = session_account(conn, hash_session_token(token), ctx.sessions.max_age)
    request.state.account = account
    return account


def forget_cached_account(request: Request) -> None:
    """Drop the per-request cache (after sign-in or sign-out changed the answer)."""
    if hasattr(request.state, "account"):
        del request.state.account


def request_owner(request: Request) -> str:
    """The owner key of this request's per-user objects. An anonymous visitor gets a session
    (its cookie is sent with the response) so that what they create stays theirs."""
    account = current_account(request)
    if account is not None:
        return account.owner
    visitor = current_visitor(request)
    if visitor.is_new:
        issue_session_cookie(request, visitor)
    return owner_for(hash_session_token(visitor.token), None)


def not_found() -> ProblemException:
    return ProblemException(404, "Not found.", "not-found")


def require_account(request: Request) -> AccountInfo:
    """The signed-in account; 404 for anonymous visitors."""
    account = current_account(request)
    if account is None:
        raise not_found()
    return account


def require_role(*roles: str) -> Callable[[Request], Coroutine[Any, Any, AccountInfo]]:
    """A dependency: the signed-in account if its role is one of ``roles``, else 404."""

    async def check(request: Request) -> AccountInfo:
        account = require_account(request)
        if not account.has_role(*roles):
            raise not_found()
        return account

    return check


AccountDep = Annotated[AccountInfo | None, Depends(current_account)]
MemberDep = Annotated[AccountInfo, Depends(require_account)]
AdminDep = Annotated[AccountInfo, Depends(require_role("admin"))]
CoordinatorDep = Annotated[AccountInfo, Depends(require_role("coordinator", "admin"))]
OwnerDep = Annotated[str, Depends(request_owner)]
