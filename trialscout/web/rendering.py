"""Server-side HTML: the Jinja environment, its filters, and pages that share API handlers.

Autoescaping is on for every template, so registry text (titles, criteria, contacts) can
never become markup. The one filter that returns markup is ``markdown``, for our own guide
Markdown only: markdown-it renders it with raw HTML disabled (any tag in it comes out as
text). Registry text, visitors' questions and answers are never passed through it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from trialscout.guides.content import render_markdown
from trialscout.registry.enums import PHASE_LABELS, STATUS_LABELS
from trialscout.web.context import web_context
from trialscout.web.facets import facet_groups, hidden_params
from trialscout.web.formatting import (
    fmt_date,
    fmt_distance,
    label,
    pathquote,
    place_href,
    status_tone,
    trial_href,
    url_with,
)
from trialscout.web.visitor import current_visitor, issue_session_cookie

STATIC_DIR = Path(__file__).parent / "static"


def _asset_versions() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10]
            for p in STATIC_DIR.iterdir() if p.is_file()}


def guide_markdown(text: str) -> Markup:
    """Guide Markdown as HTML; raw HTML in it is escaped by markdown-it, never passed on."""
    return Markup(render_markdown(text))  # safe: markdown-it with html disabled


@functools.cache
def fictional_ids() -> frozenset[str]:
    """The NCT ids of the bundled sample: made up, so never linked to the registry."""
    from trialscout.sample import sample_path

    found: set[str] = set()
    for line in sample_path().read_text("utf-8").splitlines():
        if line.strip():
            ident = json.loads(line)["protocolSection"]["identificationModule"]["nctId"]
            found.add(str(ident))
    return frozenset(found)


class Renderer:
    def __init__(self, demo_data: bool = False) -> None:
        """``demo_data``: the store holds the fictional sample, so every page says so."""
        self.env = Environment(
            loader=PackageLoader("trialscout.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False,
        )
        versions = _asset_versions()
        self.env.filters.update(label=label, status_tone=status_tone, fmt_date=fmt_date,
                                fmt_distance=fmt_distance, pathquote=pathquote,
                                markdown=guide_markdown)
        self.env.globals.update(
            url_with=url_with, trial_href=trial_href, place_href=place_href,
            facet_groups=facet_groups,
            hidden_params=hidden_params,
            static=lambda name: f"/static/{name}?v={versions.get(name, '0')}",
            status_labels=STATUS_LABELS, phase_labels=PHASE_LABELS, demo_data=demo_data,
            is_fictional=lambda nct_id: nct_id in fictional_ids())

    def render(self, request: Request, template: str, csrf_token: str, **context: Any) -> str:
        return self.env.get_template(template).render(request=request, csrf_token=csrf_token,
                                                      **context)

    def respond(self, request: Request, html: str, status_code: int = 200,
                placeholder: str | None = None) -> HTMLResponse:
        """Send ``html``, with the visitor's CSRF token in place of ``placeholder``."""
        visitor = current_visitor(request)
        if visitor.is_new:
            issue_session_cookie(request, visitor)
        if placeholder:
            html = html.replace(placeholder, visitor.csrf_token)
        return HTMLResponse(html, status_code=status_code)

    def page(self, request: Request, template: str, status_code: int = 200,
             **context: Any) -> HTMLResponse:
        html = self.render(request, template, current_visitor(request).csrf_token, **context)
        return self.respond(request, html, status_code)


def add_page_route(router: APIRouter, path: str, handler: Callable[..., Any], template: str,
                   *, name: str | None = None,
                   cache_extra: Callable[[Request], str] | None = None) -> None:
    """Serve ``handler``'s result as HTML at ``path``, with the handler's own parameters.

    The API route registers the same handler, so a page shows exactly what the API returns:
    the two cannot drift, and both validate input the same way. ``cache_extra`` adds to the
    page-cache key what else the page depends on besides the store's search generation (for
    a guide: its published answers).
    """
    if "request" not in inspect.signature(handler).parameters:
        raise TypeError(f"{handler.__name__} needs a `request: Request` parameter")

    @functools.wraps(handler)
    def page(*args: Any, **kwargs: Any) -> HTMLResponse:
        request: Request = kwargs["request"]
        ctx = web_context(request)
        cache, key = ctx.page_cache, None
        visitor = current_visitor(request)
        if cache.enabled and not ctx.sessions.has_data(None if visitor.is_new
                                                       else visitor.token):
            query = request.url.query
            if cache_extra is not None:
                query = f"{query}\x00{cache_extra(request)}"
            key = cache.key(ctx.core.engine, request.url.path,
                            f"{query}\x01{ctx.core.search_engine.published}")
            cached = cache.get(key)
            if cached is not None:
                return ctx.renderer.respond(request, cached, placeholder=cache.placeholder)
        result = handler(*args, **kwargs)
        if key is None:
            return ctx.renderer.page(request, template, page=result)
        html = ctx.renderer.render(request, template, cache.placeholder, page=result)
        cache.put(key, html)
        return ctx.renderer.respond(request, html, placeholder=cache.placeholder)

    router.add_api_route(path, page, methods=["GET"], response_class=HTMLResponse,
                         response_model=None, include_in_schema=False,
                         name=name or f"page_{handler.__name__}")
