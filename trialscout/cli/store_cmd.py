"""Store commands: import, migrate, stats, settings and demo."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trialscout.cli import (
    app_from_context,
    cli,
    console,
    database_url,
    err_console,
    fail,
    settings_from_context,
)
from trialscout.sample import sample_path
from trialscout.settings import settings_table


@cli.command("import")
def import_command(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(
        help="Files or directories: API v2 .json/.jsonl/.jsonl.gz, the bulk ZIP, legacy XML.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit non-zero if any record is rejected.")] = False,
) -> None:
    """Import ClinicalTrials.gov records. Re-importing the same records changes nothing."""
    for path in paths:
        if not path.exists():
            fail(f"no such file or directory: {path}")
    app = app_from_context(ctx)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(bar_width=None),
                  TextColumn("{task.completed}"), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task("importing records", total=None)

        def parsing(done: int, total: int) -> None:
            progress.update(task, description="parsing criteria", completed=done, total=total)

        report = app.import_paths(paths, on_item=lambda: progress.advance(task),
                                  on_parse=parsing)
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
    else:
        for rejection in report.rejected:
            err_console.print(f"[yellow]rejected[/] {escape(str(rejection))}", highlight=False,
                          soft_wrap=True)
        console.print(f"imported {report.imported}, updated {report.updated}, "
                      f"unchanged {report.unchanged}, older than stored {report.stale}, "
                      f"rejected {len(report.rejected)}; "
                      f"criteria parsed for {report.criteria_parsed} trials")
    if report.stored == 0 and report.rejected:
        raise typer.Exit(1)
    if strict and report.rejected:
        raise typer.Exit(1)


@cli.command("migrate")
def migrate_command(ctx: typer.Context) -> None:
    """Bring the database schema up to date (every command also does this)."""
    app_from_context(ctx)
    console.print("database is at the newest schema")


@cli.command("stats")
def stats_command(ctx: typer.Context) -> None:
    """How many trials the store holds."""
    app = app_from_context(ctx)
    console.print(f"{app.trial_count()} trials in {app.settings.database_url}")


@cli.command("settings")
def settings_command(
    markdown: Annotated[bool, typer.Option(
        "--markdown", help="Print a Markdown table (as in the README).")] = False,
) -> None:
    """List every setting with its environment variable, default and meaning."""
    if markdown:
        print("| setting | environment variable | default | meaning |")
        print("|---|---|---|---|")
        for name, env, default, text in settings_table():
            print(f"| `{name}` | `{env}` | `{default}` | {text} |")
        return
    table = Table("setting", "environment", "default", "help", show_lines=False)
    for column in table.columns:
        column.overflow = "fold"
    for row in settings_table():
        table.add_row(*row)
    console.print(table)


def load_sample(ctx: typer.Context, database: str) -> str:
    """Load the sample into a fresh demo store (a SQLite file is recreated; another
    database gets the sample added, which changes nothing on a rerun). Returns the URL."""
    url = database_url(database)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
    ctx.obj = {**(ctx.obj or {}), "database_url": url}
    app = app_from_context(ctx)
    report = app.import_paths([sample_path()])
    console.print(f"loaded {report.imported} sample trials (fictional demonstration data) "
                  f"into {database}")
    app.close()
    return url


def demo_hint(database: str) -> str:
    """How to point the CLI at the demo's store (the default store is not the demo's)."""
    option = shlex.quote(database)
    url = shlex.quote(database_url(database))
    return (f"The demo's trials are in {database}, not in your default store. Use them from "
            f"the CLI with --database, e.g.\n  trialscout --database {option} search "
            f"osteoporosis\n  trialscout --database {option} summary NCT09000001\n"
            f"or for a whole shell: export TRIALSCOUT_DATABASE_URL={url}")


@cli.command("demo")
def demo_command(
    ctx: typer.Context,
    database: Annotated[str, typer.Option(
        help="Where to load the sample: a SQLite file (recreated) or a database URL.")
    ] = "trialscout-demo.db",
    host: Annotated[str | None, typer.Option(help="Address to listen on (setting host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (setting port).")] = None,
    serve: Annotated[bool, typer.Option(help="Serve the web app after loading.")] = True,
) -> None:
    """Load the bundled sample trials (fictional) into their own store and serve them.

    The demo never writes to your default store, so fictional trials cannot mix with real
    ones; it prints the --database option that points the other commands at its data."""
    try:
        from trialscout.cli.web_cmd import check_port, serve_app
    except ImportError:
        serve = False
    if serve:
        settings = settings_from_context(ctx)
        check_port(host or settings.host, port or settings.port)
    load_sample(ctx, database)
    console.print(demo_hint(database), highlight=False)
    if serve:
        serve_app(ctx, host=host, port=port)
