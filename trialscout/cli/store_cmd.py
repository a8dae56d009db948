"""Store commands: import, migrate, stats, settings and demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trialscout.cli import app_from_context, cli, console, err_console, fail
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


def load_sample(ctx: typer.Context, database: Path) -> None:
    if database.exists():
        database.unlink()
    ctx.obj = {**(ctx.obj or {}), "database_url": f"sqlite:///{database}"}
    app = app_from_context(ctx)
    report = app.import_paths([sample_path()])
    console.print(f"loaded {report.imported} sample trials into {database}")


@cli.command("demo")
def demo_command(
    ctx: typer.Context,
    database: Annotated[Path, typer.Option(help="SQLite file to create for the demo.")] = Path(
        "trialscout-demo.db"),
    serve: Annotated[bool, typer.Option(help="Serve the web app after loading.")] = True,
) -> None:
    """Load the bundled sample trials into a fresh SQLite file and serve them."""
    load_sample(ctx, database)
    if not serve:
        return
    try:
        from trialscout.cli.web_cmd import serve_app
    except ImportError:
        console.print("the web app is not part of this build yet; the sample is loaded")
        return
    serve_app(ctx)
