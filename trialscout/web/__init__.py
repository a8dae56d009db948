"""The web app and JSON API. Only this package (and the CLI) may import FastAPI and Jinja."""

from trialscout.web.factory import create_web_app

__all__ = ["create_web_app"]
