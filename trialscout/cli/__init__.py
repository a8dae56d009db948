"""The `trialscout` command: a thin shell over :mod:`trialscout.app`.

Each command group lives in its own module and registers itself on :data:`cli`;
commands build the app through :func:`app_from_context` and only call the core.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from trialscout.app import TrialScout, create_app
from trialscout.settings import SettingsError, load_settings

cli = typer.Typer(name="trialscout", no_args_is_help=True, add_completion=False,
                  help="Find clinical trials and match patients to them, offline.")
eval_cli = typer.Typer(no_args_is_help=True, help="Evaluate TrialScout on benchmark data.")
cli.add_typer(eval_cli, name="eval")
console = Console(emoji=False)  # ":cancer:" in a question key is text, not an emoji
err_console = Console(stderr=True, emoji=False)

COMMAND_MODULES = (
    "trialscout.cli.store_cmd",
    "trialscout.cli.sync_cmd",
    "trialscout.cli.search_cmd",
    "trialscout.cli.criteria_cmd",
    "trialscout.cli.patients_cmd",
    "trialscout.cli.web_cmd",
    "trialscout.cli.guides_cmd",
    "trialscout.cli.alerts_cmd",
    "trialscout.cli.users_cmd",
)


@cli.callback()
def _global(
    ctx: typer.Context,
    database: Annotated[str | None, typer.Option(
        "--database", help="Database URL, or the path of a SQLite file (default: "
        "TRIALSCOUT_DATABASE_URL or a SQLite file in the user data directory).")] = None,
    setting: Annotated[list[str] | None, typer.Option(
        "--set", help="Override any setting: --set name=value (see `trialscout settings`).")
    ] = None,
) -> None:
    overrides: dict[str, Any] = {"database_url": database_url(database) if database else None}
    for item in setting or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected name=value, got {item!r}", param_hint="--set")
        overrides[name.strip()] = value
    ctx.obj = overrides


def database_url(value: str) -> str:
    """``--database`` takes a URL (``postgresql+psycopg://...``, ``sqlite:///...``) or the
    path of a SQLite file, which becomes a ``sqlite:///`` URL with an absolute path."""
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def settings_from_context(ctx: typer.Context) -> Any:
    try:
        return load_settings(ctx.obj or {})
    except SettingsError as exc:
        fail(str(exc))


def app_from_context(ctx: typer.Context, *, migrate: bool = True) -> TrialScout:
    settings = settings_from_context(ctx)
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return create_app(settings, migrate=migrate)
    except Exception as exc:  # noqa: BLE001 - shown to the user as one readable line
        fail(f"cannot open the database {settings.database_url!r}: {exc}")


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False,
                      soft_wrap=True)
    raise typer.Exit(code)


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def main() -> None:
    _load_commands()
    cli()
