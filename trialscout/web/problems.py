"""Errors as RFC 9457 problem details for the API, and as a readable page for browsers.

Validation details name the parameter and the rule, never echo the value sent: a value
may be health data.
"""

from __future__ import annotations

import logging
import traceback
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:trialscout:problem:"
log = logging.getLogger("trialscout.web")


class ProblemError(BaseModel):
    loc: list[str | int] = Field(description="Where the invalid input is, e.g. [query, age].")
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(default="about:blank", description="URI of the problem type.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemError] | None = Field(
        default=None, description="For validation problems: each invalid input.")


class ProblemException(StarletteHTTPException):
    """An HTTP error with a problem type of its own (csrf, too-large, not-found ...)."""

    def __init__(self, status_code: int, detail: str, problem_type: str,
                 headers: dict[str, str] | None = None,
                 errors: list[ProblemError] | None = None) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)
        self.problem_type = problem_type
        self.errors = errors


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem+json for the given status codes."""
    return {code: {"model": Problem, "description": HTTPStatus(code).phrase,
                   "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref":
                                                               "#/components/schemas/Problem"}}}}
            for code in codes}


def wants_problem(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def problem(status: int, detail: str | None = None, *, problem_type: str | None = None,
            instance: str | None = None, errors: list[ProblemError] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = Problem(type=f"{PROBLEM_BASE}{problem_type}" if problem_type else "about:blank",
                   title=title, status=status, detail=detail, instance=instance, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def validation_errors(exc: RequestValidationError) -> list[ProblemError]:
    out = []
    for error in exc.errors():
        loc = [part if isinstance(part, int | str) else str(part) for part in error.get("loc", ())]
        out.append(ProblemError(loc=loc, msg=str(error.get("msg", "invalid")),
                                type=str(error.get("type", "value_error"))))
    return out


def default_type(status: int) -> str | None:
    return {404: "not-found", 405: "method-not-allowed", 413: "too-large",
            403: "forbidden"}.get(status)


def http_problem(request: Request, exc: StarletteHTTPException) -> Response:
    problem_type = getattr(exc, "problem_type", None) or default_type(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail in (None, "Not Found"):
        detail = f"Nothing lives at {request.url.path}."
    return problem(exc.status_code, detail, problem_type=problem_type,
                   instance=request.url.path, headers=getattr(exc, "headers", None),
                   errors=getattr(exc, "errors", None))


def validation_problem(request: Request, exc: RequestValidationError) -> Response:
    return problem(422, "The request has invalid parameters.", problem_type="validation",
                   instance=request.url.path, errors=validation_errors(exc))


def server_problem(request: Request, exc: Exception) -> Response:
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unhandled %s on %s %s (message withheld: it may hold personal data)\n%s",
              type(exc).__name__, request.method, request.url.path, frames)
    return problem(500, "Something went wrong on our side.", instance=request.url.path)
