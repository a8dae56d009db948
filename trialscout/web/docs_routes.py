"""The API documentation page, served without a CDN.

Swagger UI's files come from the fastapi-offline package (installed from PyPI); a small
script of ours starts it, because the CSP forbids inline scripts.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_ASSETS = "/docs-assets"


def swagger_assets() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:
        return None
    folder = Path(fastapi_offline.__file__).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def register(web: FastAPI) -> None:
    assets = swagger_assets()
    if assets is not None:
        web.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    def docs(request: Request) -> HTMLResponse:
        renderer = request.app.state.trialscout.renderer
        return renderer.page(request, "docs.html",
                             assets=DOCS_ASSETS if assets is not None else None)

    web.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False,
                      response_class=HTMLResponse)
