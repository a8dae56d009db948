"""`trialscout alerts run` (one pass, for cron) and `trialscout worker` (passes forever)."""

from __future__ import annotations

import json
import signal
import threading
from typing import Annotated, Any

import typer

from trialscout.cli import app_from_context, cli, console

alerts_cli = typer.Typer(no_args_is_help=True,
                         help="Alerts for saved searches: compute, email, inspect.")
cli.add_typer(alerts_cli, name="alerts")


def _line(report: Any) -> str:
    text = (f"{report.changes} changes, {report.alerts} new alerts, "
            f"{report.emails_queued} emails composed; sent {report.sent}, "
            f"deferred {report.deferred}, failed {report.failed}")
    if report.uncertain:
        text += (f", {report.uncertain} uncertain (a crash during sending: maybe delivered, "
                 "not sent again; --resend-uncertain sends them)")
    if not report.smtp_configured:
        text += " (smtp_host is not set: emails wait in the outbox)"
    return text


@alerts_cli.command("run")
def run_command(
    ctx: typer.Context,
    send: Annotated[bool, typer.Option("--send/--no-send",
                                       help="Send the due emails over SMTP.")] = True,
    resend_uncertain: Annotated[bool, typer.Option(
        "--resend-uncertain", help="Send again the messages a crash left uncertain.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """One pass: alerts from the latest changes, then email what is due. Safe to rerun."""
    from trialscout.alerts.service import AlertService

    app = app_from_context(ctx)
    report = AlertService(app).run(deliver=send, resend_uncertain=resend_uncertain)
    if as_json:
        console.print_json(report.model_dump_json())
    else:
        console.print(_line(report), highlight=False)


@alerts_cli.command("outbox")
def outbox_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Messages in the outbox by state (pending, sent, failed, uncertain, suppressed)."""
    from trialscout.mail.outbox import outbox_counts

    app = app_from_context(ctx)
    with app.engine.connect() as conn:
        counts = outbox_counts(conn)
    if as_json:
        console.print_json(json.dumps(counts))
    else:
        console.print(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty",
                      highlight=False)


@cli.command("worker")
def worker_command(
    ctx: typer.Context,
    interval: Annotated[float, typer.Option(
        "--interval", min=1.0, max=86_400.0,
        help="Seconds between two passes.")] = 60.0,
    passes: Annotated[int | None, typer.Option(
        "--passes", min=1, help="Stop after this many passes (default: run until "
        "stopped).")] = None,
) -> None:
    """Run alert passes continuously beside `serve` (SIGTERM or Ctrl-C stops after the
    current pass)."""
    from trialscout.alerts.service import AlertService

    app = app_from_context(ctx)
    service = AlertService(app)
    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    done = 0
    while not stop.is_set():
        try:
            report = service.run()
        except Exception as exc:  # noqa: BLE001 - a worker keeps going; the next pass retries
            console.print(f"pass failed: {type(exc).__name__}: {exc}", highlight=False,
                          markup=False)
        else:
            console.print(_line(report), highlight=False, markup=False)
        done += 1
        if passes is not None and done >= passes:
            break
        stop.wait(interval)
    app.close()
