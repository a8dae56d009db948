"""`trialscout serve`: the web app and JSON API under uvicorn."""

from __future__ import annotations

import errno
import os
import secrets
import socket
from typing import Annotated

import typer

from trialscout.cli import app_from_context, cli, console, fail, settings_from_context
from trialscout.settings import ENV_PREFIX


def check_port(host: str, port: int) -> None:
    """Fail with the setting to change when ``host:port`` cannot be listened on, before
    anything is loaded or "serving on" is printed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host!r}: {exc.strerror}. Choose another address with "
             "--host (setting host, TRIALSCOUT_HOST).")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is already in use. Choose another with --port "
                     f"(e.g. --port {port + 1}; setting port, TRIALSCOUT_PORT), or stop the "
                     "program using it.")
            fail(f"cannot listen on {host}:{port} ({exc.strerror}). Change --host or --port "
                 "(settings host and port).")


def serve_app(ctx: typer.Context, host: str | None = None, port: int | None = None,
              workers: int | None = None) -> None:
    """Serve the store chosen by the global options; used by `serve` and `demo`."""
    import uvicorn

    overrides = dict(ctx.obj or {})
    overrides.update({k: v for k, v in (("host", host), ("port", port),
                                        ("web_workers", workers)) if v is not None})
    ctx.obj = overrides
    settings = settings_from_context(ctx)
    check_port(settings.host, settings.port)
    app = app_from_context(ctx)
    console.print(f"TrialScout: {app.trial_count()} trials, serving on "
                  f"http://{settings.host}:{settings.port}/  (API docs: /docs)")
    if settings.web_workers > 1:
        # Workers are separate processes: they read settings from the environment, and
        # must share one secret key or a CSRF token from one would fail on another.
        for name, value in overrides.items():
            if value is not None:
                os.environ[ENV_PREFIX + name.upper()] = str(value)
        os.environ.setdefault(ENV_PREFIX + "SECRET_KEY",
                              settings.secret_key or secrets.token_urlsafe(32))
        app.close()
        uvicorn.run("trialscout.web.asgi:create_from_environment", factory=True,
                    host=settings.host, port=settings.port, workers=settings.web_workers,
                    access_log=False, log_level=settings.log_level.lower(),
                    server_header=False)
        return
    from trialscout.web import create_web_app

    uvicorn.run(create_web_app(app), host=settings.host, port=settings.port,
                access_log=False, log_level=settings.log_level.lower(), server_header=False)


@cli.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (setting host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (setting port).")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Worker processes (setting web_workers).")] = None,
) -> None:
    """Serve the web app and the JSON API (/api/v1, documented at /docs)."""
    serve_app(ctx, host=host, port=port, workers=workers)
