"""An ASGI factory for multi-worker servers: each worker builds its app from the environment.

Used as ``uvicorn trialscout.web.asgi:create_from_environment --factory``.
"""

from __future__ import annotations

from fastapi import FastAPI

from trialscout.app import create_app
from trialscout.web.factory import create_web_app


def create_from_environment() -> FastAPI:
    return create_web_app(create_app())
