"""What every route needs, hung on the FastAPI app's state by the factory (never a global)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from trialscout.app import TrialScout
from trialscout.sessions import SessionStore

if TYPE_CHECKING:
    from trialscout.web.page_cache import PageCache
    from trialscout.web.rendering import Renderer


@dataclass
class WebContext:
    core: TrialScout
    sessions: SessionStore
    secret: bytes
    renderer: Renderer
    cookie_max_age: int
    page_cache: PageCache


def web_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.trialscout
    return context
