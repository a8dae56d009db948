"""Build the FastAPI app from a TrialScout app: nothing exists until this is called."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRouter
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from trialscout.app import TrialScout
from trialscout.search.errors import IndexNotPublished
from trialscout.search.location import builds_index
from trialscout.search.places import gazetteer
from trialscout.sessions import SessionStore, questions
from trialscout.web import (
    docs_routes,
    guide_routes,
    notes_routes,
    search_routes,
    session_routes,
    share_routes,
    shortlist_routes,
    trial_routes,
)
from trialscout.web.context import WebContext
from trialscout.web.middleware import (
    AccessLog,
    BodySizeLimit,
    RelativeRedirects,
    SecurityHeaders,
    SessionCookie,
)
from trialscout.web.page_cache import PageCache
from trialscout.web.problems import (
    PROBLEM_MEDIA_TYPE,
    Problem,
    http_problem,
    server_problem,
    validation_errors,
    validation_problem,
    wants_problem,
)
from trialscout.web.rendering import STATIC_DIR, Renderer
from trialscout.web.visitor import session_cookie_header

API_PREFIX = "/api/v1"
SESSION_PURGE_SECONDS = 3600
UPLOAD_PATHS = ("/profile/record", f"{API_PREFIX}/profile/record", f"{API_PREFIX}/patients/")
def _holds_sample(app: TrialScout) -> bool:
    """Whether the store holds the bundled (fictional) sample trials: the demo."""
    from sqlalchemy import bindparam, text

    from trialscout.web.rendering import fictional_ids

    query = text("SELECT 1 FROM trials WHERE nct_id IN :ids LIMIT 1").bindparams(
        bindparam("ids", expanding=True))
    try:
        with app.engine.connect() as conn:
            return conn.execute(query, {"ids": sorted(fictional_ids())}).first() is not None
    except Exception:  # noqa: BLE001 - no trials table yet: not the demo
        return False


DESCRIPTION = """\
Everything the TrialScout pages do, as JSON. Errors are RFC 9457 problem details
(`application/problem+json`); lists are paginated with `page`, `page_size` and `total`.

**Sessions and CSRF.** Self-check answers and the profile belong to an anonymous session
whose id travels in the HttpOnly cookie `ts_session` (the server stores only its hash).
Every `POST`, `PUT` and `DELETE` must send that cookie *and* the session's CSRF token in
the `X-CSRF-Token` header; get both from `GET /api/v1/session` (pages carry the token in
`<meta name="csrf-token">`). Requests without a valid token get a 403 problem of type
`urn:trialscout:problem:csrf`. Only ids the server issued are accepted (an id a client
makes up is replaced). Saving the profile, uploading a medical history and forgetting the
session rotate the id: the response sets the new cookie and carries the new CSRF token in
its `X-CSRF-Token` header, which the next write must send (the old id no longer reaches
the data). Bodies over the configured `max_request_bytes` get 413
(patient record uploads may be up to `max_upload_bytes`).

**Your data.** `/profile`, `/profile/record` and `/matches` always mean the calling
session's own profile, medical history and matches; `/patients/{patient_id}` answers 404
unless that record belongs to the calling session.

**Questions.** `POST /api/v1/guides/{slug}/questions` is rate limited per session and per
day; over the limit it answers 429 (`urn:trialscout:problem:rate-limited`) with a
`Retry-After` header in seconds.
"""


def _package_version() -> str:
    try:
        return version("trialscout")
    except PackageNotFoundError:
        return "0"


WARM_UP_STUDY = {"protocolSection": {
    "identificationModule": {"nctId": "NCT00000000", "briefTitle": "Warm-up"},
    "conditionsModule": {"conditions": ["Osteoporosis"]},
    "armsInterventionsModule": {"interventions": [{"type": "DRUG", "name": "Denosumab"}]}}}


async def _purge_sessions(sessions: SessionStore) -> None:
    """Delete expired sessions (and the patient records linked to them) every hour, so a
    long-running server keeps no health data past ``session_max_age_days``."""
    while True:
        await asyncio.sleep(SESSION_PURGE_SECONDS)
        try:
            await asyncio.to_thread(sessions.purge_expired)
        except Exception:  # noqa: BLE001 - try again at the next interval
            logging.getLogger("trialscout.web").warning("session purge failed", exc_info=False)


def _warm_up(app: TrialScout) -> None:
    """Load the search index, the criteria vocabularies, what matching loads (the note
    reader, the clinical knowledge base), the gazetteer, the summary writer's dictionary
    and the related-trials index before the first visitor needs them.

    With ``web_warm_up=wait`` (the default) a worker does this before it accepts
    connections, so no request waits behind a cold index."""
    try:
        app.search_engine.view()
        questions.warm_up()
        from trialscout.matching.engine import warm_up as warm_up_matching

        warm_up_matching()
        gazetteer()
        from trialscout.registry.api_v2 import trial_from_api_v2
        from trialscout.summaries.service import offline_summary

        offline_summary(trial_from_api_v2(WARM_UP_STUDY))
        app.similar.index()
    except Exception:  # noqa: BLE001 - a failed warm-up only means a slower first request
        logging.getLogger("trialscout.web").warning("warm-up failed", exc_info=False)
    _freeze_loaded_objects()


def _freeze_loaded_objects() -> None:
    """Move what warm-up loaded out of the cyclic collector's sight.

    The indexes and vocabularies are millions of long-lived objects; every full collection
    would walk them all again, a pause of a few hundred milliseconds that lands on
    whichever requests are in flight (the load benchmark's p99 went from 360 to 35 ms).
    They live as long as the server, so they are frozen; shutdown unfreezes them.
    """
    gc.collect()
    gc.freeze()


def unknown_query_params(exc: RequestValidationError) -> set[str]:
    """The query parameters a request was refused for only because the route lacks them."""
    return {str(e["loc"][-1]) for e in exc.errors()
            if e.get("type") == "extra_forbidden" and e.get("loc", ())[:1] == ("query",)}


def _error_handlers(web: FastAPI) -> None:
    def html_error(request: Request, status: int, detail: str | None,
                   errors: list[Any] | None = None) -> Response:
        renderer: Renderer = request.app.state.trialscout.renderer
        return renderer.page(request, "error.html", status_code=status, status=status,
                             detail=detail, errors=errors or [])

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if wants_problem(request) or exc.status_code in (405, 413):
            return http_problem(request, exc)
        return html_error(request, exc.status_code,
                          exc.detail if isinstance(exc.detail, str) else None)

    async def on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if wants_problem(request):
            return validation_problem(request, exc)
        unknown = unknown_query_params(exc)
        if request.method == "GET" and unknown and len(unknown) == len(exc.errors()):
            # Links from elsewhere carry tracking parameters (fbclid, utm_source): a page
            # ignores what it does not know, by sending the browser to the URL without them.
            kept = [(k, v) for k, v in request.query_params.multi_items() if k not in unknown]
            target = "/" + request.url.path.lstrip("/") + (f"?{urlencode(kept)}" if kept else "")
            return RedirectResponse(target, status_code=307)
        return html_error(request, 422, "Some of the values given are not valid.",
                          validation_errors(exc))

    async def on_crash(request: Request, exc: Exception) -> Response:
        return server_problem(request, exc)

    async def on_unpublished(request: Request, exc: Exception) -> Response:
        return await on_http(request, StarletteHTTPException(503, str(exc)))

    web.add_exception_handler(StarletteHTTPException, on_http)
    web.add_exception_handler(RequestValidationError, on_invalid)
    web.add_exception_handler(IndexNotPublished, on_unpublished)
    web.add_exception_handler(Exception, on_crash)


def _problem_openapi(web: FastAPI) -> None:
    """Document every error response as problem+json (FastAPI's default says JSON)."""
    original = web.openapi

    def openapi() -> dict[str, Any]:
        if web.openapi_schema:
            return web.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem_schema.pop("$defs", {}))
        components["Problem"] = problem_schema
        problem_ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    if code[:1] in {"4", "5"}:
                        response["content"] = {PROBLEM_MEDIA_TYPE: problem_ref}
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        web.openapi_schema = schema
        return schema

    web.openapi = openapi  # type: ignore[method-assign]


def create_web_app(app: TrialScout) -> FastAPI:
    """The web app (pages, JSON API, docs) over one TrialScout app."""
    settings = app.settings
    if not builds_index(settings, web=True):
        app.search_engine.builds = False
        app.similar.builds = False
    secret = (settings.secret_key.encode("utf-8") if settings.secret_key
              else secrets.token_bytes(32))
    max_age = timedelta(days=settings.session_max_age_days)
    sessions = SessionStore(app.engine, max_age)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sessions.purge_expired()
        if settings.web_warm_up == "wait":
            await asyncio.to_thread(_warm_up, app)
        elif settings.web_warm_up == "background":
            threading.Thread(target=_warm_up, args=(app,), name="trialscout-warm-up",
                             daemon=True).start()
        purging = asyncio.create_task(_purge_sessions(sessions))
        try:
            yield
        finally:
            purging.cancel()
            gc.unfreeze()

    web = FastAPI(title="TrialScout", version=_package_version(), description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  lifespan=lifespan)
    web.state.trialscout = WebContext(core=app, sessions=sessions, secret=secret,
                                      renderer=Renderer(demo_data=_holds_sample(app)),
                                      cookie_max_age=int(max_age.total_seconds()),
                                      page_cache=PageCache(settings.page_cache_size))
    _error_handlers(web)
    api, pages = APIRouter(prefix=API_PREFIX), APIRouter()
    for module in (search_routes, trial_routes, guide_routes, session_routes):
        module.register(api, pages)
    from trialscout.web import contact_routes, coordinator_routes

    for module in (contact_routes, coordinator_routes):
        module.register(api, pages)
    web.state.trialscout.renderer.env.globals["asked_count"] = contact_routes.asked_count
    from trialscout.web import alert_routes

    alert_routes.register(api, pages)
    for module in (notes_routes, share_routes, shortlist_routes):
        module.register(api, pages)
    from trialscout.web import account_routes, volunteer_routes

    for module in (account_routes, volunteer_routes):
        module.register(api, pages)
    web.state.trialscout.renderer.env.globals["signed_in"] = account_routes.current_account
    web.include_router(api)
    web.include_router(pages)
    web.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    docs_routes.register(web)
    _problem_openapi(web)
    web.add_middleware(SessionCookie,
                       cookie=session_cookie_header(int(max_age.total_seconds())))
    web.add_middleware(BodySizeLimit, limit=settings.max_request_bytes,
                       upload_limit=settings.max_upload_bytes,
                       upload_prefixes=UPLOAD_PATHS)
    web.add_middleware(SecurityHeaders)
    web.add_middleware(RelativeRedirects)
    web.add_middleware(AccessLog)
    return web
