"""`trialscout sync`: fetch new and updated trials from the ClinicalTrials.gov API."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from trialscout.cli import app_from_context, cli, console, err_console, fail
from trialscout.registry.sync import SyncProgress, SyncReport
from trialscout.registry.sync_errors import SyncConfigError, SyncError
from trialscout.registry.sync_http import RetryNotice
from trialscout.registry.sync_query import SyncQuery

RESUME_HINT = "pages stored so far are kept; run the same command again to resume"


def _summary(report: SyncReport) -> str:
    where = f"{report.pages} page{'s' if report.pages != 1 else ''}"
    if report.resumed_from_page is not None:
        where += f" (resumed at page {report.resumed_from_page})"
    scope = f"updated since {report.since}" if report.since else "full"
    return (f"synced {where}, {scope}: imported {report.imported}, updated {report.updated}, "
            f"unchanged {report.unchanged}, older than stored {report.stale}, "
            f"rejected {len(report.rejected)}")


@cli.command("sync")
def sync_command(
    ctx: typer.Context,
    condition: Annotated[str | None, typer.Option(
        "--condition", help="Only studies about this condition (API query.cond).")] = None,
    term: Annotated[str | None, typer.Option(
        "--term", help="Only studies matching this search text (API query.term).")] = None,
    status: Annotated[list[str] | None, typer.Option(
        "--status", help="Only studies with this overall status, e.g. RECRUITING; repeat the "
        "option or separate values with commas.")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="Fetch every matching study, not only those updated since the last "
        "finished sync of the same filters.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Sync trials from ClinicalTrials.gov. Interrupted syncs resume where they stopped."""
    try:
        query = SyncQuery.build(condition, term, status or [])
    except SyncConfigError as exc:
        fail(str(exc))
    app = app_from_context(ctx)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with Progress(TextColumn("[bold]syncing"), BarColumn(bar_width=None),
                  TextColumn("{task.fields[pages]} pages, {task.completed} studies"),
                  TimeElapsedColumn(), console=err_console, transient=True,
                  disable=as_json) as progress:
        task = progress.add_task("sync", total=None, pages=0)

        def on_page(step: SyncProgress) -> None:
            progress.update(task, completed=step.studies_seen, total=step.total,
                            pages=step.pages_done)

        def on_retry(notice: RetryNotice) -> None:
            err_console.print(f"[yellow]retrying[/] page {notice.page} in {notice.delay:.1f}s "
                              f"(attempt {notice.attempt} failed: {notice.reason})",
                              highlight=False, soft_wrap=True)

        try:
            report = app.sync(query, full=full, on_page=on_page, on_retry=on_retry)
        except SyncConfigError as exc:
            fail(str(exc))
        except SyncError as exc:
            fail(f"sync failed: {exc}\n{RESUME_HINT}")
        except KeyboardInterrupt:
            fail(f"interrupted; {RESUME_HINT}", code=130)
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
        return
    for rejection in report.rejected:
        err_console.print(f"[yellow]rejected[/] {escape(str(rejection))}", highlight=False,
                          soft_wrap=True)
    console.print(_summary(report), highlight=False)
