"""ASGI middleware: security headers, the request-size limit, the session cookie, access log.

Written as plain ASGI callables rather than BaseHTTPMiddleware so they add no task per
request. The access log records method, path, status and time only: query strings may hold
a visitor's age, sex or place, and bodies their answers.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trialscout.web.problems import PROBLEM_MEDIA_TYPE, ProblemException

access_log = logging.getLogger("trialscout.web.access")

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'; object-src 'none'")
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'; object-src 'none'")
STATIC_PREFIXES = ("/static/", "/docs-assets/")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, docs_path: str = "/docs") -> None:
        self.app = app
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        static = path.startswith(STATIC_PREFIXES)
        csp = DOCS_CSP if path == self.docs_path else PAGE_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = csp
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Frame-Options"] = "DENY"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Cross-Origin-Resource-Policy"] = "same-origin"
                if scope.get("scheme") == "https":
                    headers["Strict-Transport-Security"] = "max-age=31536000"
                headers["Permissions-Policy"] = (
                    "geolocation=(), camera=(), microphone=(), payment=(), usb=()")
                if "cache-control" not in headers:
                    headers["Cache-Control"] = ("public, max-age=3600" if static
                                                else "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestTooLarge(ProblemException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.", "too-large")


class BodySizeLimit:
    """Refuse bodies over ``limit`` bytes, whether announced by Content-Length or streamed.

    Paths starting with one of ``upload_prefixes`` (patient record uploads: a real FHIR
    bundle is often several megabytes) may send up to ``upload_limit`` bytes instead.
    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int | None = None,
                 upload_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = max(limit, upload_limit or limit)
        self.upload_prefixes = upload_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.upload_limit if path.startswith(self.upload_prefixes) else self.limit
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _plain_problem(send, 400, "The Content-Length header is not a number.")
                    return
                if declared > limit:
                    await _plain_problem(send, 413, RequestTooLarge(limit).detail)
                    return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        await self.app(scope, counted, send)


async def _plain_problem(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"type": "urn:trialscout:problem:" + ("too-large" if status == 413
                                                             else "bad-request"),
                       "title": HTTPStatus(status).phrase, "status": status,
                       "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class SessionCookie:
    """Set the session cookie when a handler asked for it via ``request.state``, with the
    session's CSRF token in the ``X-CSRF-Token`` header (API clients read the new one there
    after the id is rotated)."""

    def __init__(self, app: ASGIApp, cookie: Callable[[Scope, str], str]) -> None:
        self.app = app
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                state: dict[str, Any] = scope.get("state") or {}
                token = state.get("issue_session")
                if token:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self.cookie(scope, token))
                    csrf = state.get("issue_csrf")
                    if csrf:
                        headers["X-CSRF-Token"] = csrf
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            access_log.info("%s %s %d %.1fms", scope.get("method"),
                            loggable_path(scope.get("path", "")), status,
                            (time.perf_counter() - started) * 1000)


def loggable_path(path: str) -> str:
    """A request path as one log line: a decoded ``%0A`` could otherwise forge a line."""
    if path.isprintable():
        return path
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in path)


class RelativeRedirects:
    """Make redirects to this site relative (``/guides``, not ``http://<Host>/guides``).

    Starlette's trailing-slash redirect builds an absolute URL from the request's Host
    header, which a client chooses: a forged Host would send the browser elsewhere.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = MutableHeaders(scope=message)
                location = headers.get("location")
                if location is not None:
                    parts = urlsplit(location)
                    if parts.scheme or parts.netloc:
                        path = parts.path or "/"
                        headers["location"] = path + (f"?{parts.query}" if parts.query else "")
            await send(message)

        await self.app(scope, receive, send_relative)
