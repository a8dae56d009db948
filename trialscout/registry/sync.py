"""Keep the store in step with ClinicalTrials.gov: page through ``/studies`` and store each
page in one transaction together with the run's progress.

Because a page and its progress commit together, the store is never half-written and an
interrupted sync (network failure, Ctrl-C, a killed process) resumes at the first page it
had not stored. By default only records updated since the last finished run of the same
query are fetched. Each page goes through the same parsing, rejection reporting, writing
and write hooks as ``trialscout import``. A saved page token that the server no longer
accepts (HTTP 400, e.g. an expired cursor) starts the query over instead of failing on
every rerun.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from sqlalchemy import Connection, Engine

from trialscout.registry.errors import RecordError
from trialscout.registry.importer import ImportReport, Rejection, WriteHook, parse_item
from trialscout.registry.sources import SourceItem
from trialscout.registry.sync_errors import FetchError, SyncConfigError, SyncError
from trialscout.registry.sync_http import (
    MAX_PAGE_SIZE,
    Backoff,
    RetryNotice,
    StudiesClient,
    fetch_page,
)
from trialscout.registry.sync_query import SyncQuery, since_after, since_filter
from trialscout.registry.sync_state import (
    ABANDONED,
    FAILED,
    RUNNING,
    UNFINISHED,
    RunState,
    latest_done,
    latest_run,
    record_page,
    set_status,
    start_run,
)
from trialscout.settings import Settings
from trialscout.store.trials import BatchOutcome, StoreRecord, store_record, write_batch

log = logging.getLogger(__name__)

__all__ = ["SyncError", "SyncProgress", "SyncQuery", "SyncReport", "run_sync"]


@dataclass
class SyncReport(ImportReport):
    """An import report plus where the sync went: pages, resume point, date range."""

    run_id: int = 0
    query_key: str = ""
    pages: int = 0
    studies: int = 0
    retries: int = 0
    total: int | None = None
    resumed_from_page: int | None = None
    since: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "pages": self.pages, "studies": self.studies,
                "retries": self.retries, "total": self.total,
                "resumed_from_page": self.resumed_from_page, "since": self.since,
                "run_id": self.run_id, "query_key": self.query_key}


@dataclass(frozen=True)
class SyncProgress:
    """Told to the caller after each committed page; counts are for the whole run."""

    pages_done: int
    studies_seen: int
    total: int | None
    report: SyncReport


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _open_run(conn: Connection, query: SyncQuery, full: bool, now: datetime
              ) -> tuple[RunState, bool]:
    """Continue the query's unfinished run, or start a new one; True when continuing."""
    key = query.key()
    latest = latest_run(conn, key)
    if latest is not None and latest.status in UNFINISHED:
        if full and latest.since is not None:
            set_status(conn, latest.id, ABANDONED, "superseded by a --full sync")
        else:
            set_status(conn, latest.id, RUNNING)
            return latest, True
    since = None
    if not full:
        previous = latest_done(conn, key)
        if previous is not None:
            since = since_after(previous.started_at).isoformat()
    return start_run(conn, key, query.params_json(), since, now), False


def _parse_page(studies: Sequence[Any], page: int
                ) -> tuple[list[StoreRecord], list[Rejection]]:
    records: list[StoreRecord] = []
    rejected: list[Rejection] = []
    for position, study in enumerate(studies, start=1):
        item = SourceItem(f"page {page}", position, "api_v2", payload=study,
                          raw=orjson.dumps(study))
        try:
            records.append(store_record(parse_item(item)))
        except RecordError as exc:
            rejected.append(Rejection(item.location, position, exc.nct_id, exc.reason))
        except Exception as exc:  # noqa: BLE001 - a parser bug must not abort the page
            rejected.append(Rejection(item.location, position, None,
                                      f"unexpected error: {type(exc).__name__}: {exc}"))
    return records, rejected


def _write(conn: Connection, records: list[StoreRecord], batch_size: int,
           hooks: Sequence[WriteHook]) -> BatchOutcome:
    total = BatchOutcome()
    for start in range(0, len(records), batch_size):
        outcome = write_batch(conn, records[start:start + batch_size])
        if outcome.changed:
            for hook in hooks:
                hook(conn, outcome.changed)
        total.inserted += outcome.inserted
        total.updated += outcome.updated
        total.unchanged += outcome.unchanged
        total.stale += outcome.stale
    return total


def _check(settings: Settings) -> None:
    if not 1 <= settings.sync_page_size <= MAX_PAGE_SIZE:
        raise SyncConfigError(f"sync_page_size must be between 1 and {MAX_PAGE_SIZE}, "
                              f"got {settings.sync_page_size}")
    if settings.sync_max_retries < 1:
        raise SyncConfigError("sync_max_retries must be at least 1")


def run_sync(
    engine: Engine,
    settings: Settings,
    query: SyncQuery,
    *,
    full: bool = False,
    hooks: Iterable[WriteHook] = (),
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    clock: Callable[[], datetime] = _utcnow,
    on_page: Callable[[SyncProgress], None] | None = None,
    on_retry: Callable[[RetryNotice], None] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> SyncReport:
    """Fetch and store every page of ``query``; raise SyncError (run kept for resuming)."""
    _check(settings)
    client = StudiesClient(settings.ctgov_base_url, timeout=settings.sync_timeout,
                           transport=transport)
    with client:
        with engine.begin() as conn:
            run, resumed = _open_run(conn, query, full, clock())
        while True:
            report = SyncReport(run_id=run.id, query_key=run.query_key, since=run.since,
                                resumed_from_page=run.pages_done + 1 if resumed else None)
            try:
                _pull(engine, settings, client, query, run, report, list(hooks),
                      sleep=sleep, rng=rng or random.Random(), clock=clock,
                      on_page=on_page, on_retry=on_retry)
            except FetchError as exc:
                if not (resumed and report.pages == 0 and run.page_token and exc.status == 400):
                    _mark_failed(engine, run.id, exc)
                    raise
                log.warning("the saved page token of sync run %s was refused (%s); "
                            "starting the query over", run.id, exc)
                with engine.begin() as conn:
                    set_status(conn, run.id, ABANDONED, f"saved page token refused: {exc}")
                    run, resumed = _open_run(conn, query, full, clock())
                continue
            except BaseException as exc:
                _mark_failed(engine, run.id, exc)
                raise
            return report


def _mark_failed(engine: Engine, run_id: int, exc: BaseException) -> None:
    """Keep the run resumable and say why it stopped."""
    reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else (
        str(exc) or type(exc).__name__)
    try:
        with engine.begin() as conn:
            set_status(conn, run_id, FAILED, reason)
    except Exception:  # the original error matters more
        log.exception("could not mark sync run %s as failed", run_id)


def _pull(engine: Engine, settings: Settings, client: StudiesClient, query: SyncQuery,
          run: RunState, report: SyncReport, hooks: list[WriteHook], *,
          sleep: Callable[[float], None], rng: random.Random, clock: Callable[[], datetime],
          on_page: Callable[[SyncProgress], None] | None,
          on_retry: Callable[[RetryNotice], None] | None) -> None:
    base = {"format": "json", "pageSize": str(settings.sync_page_size), **query.api_params()}
    if run.since:
        base["filter.advanced"] = since_filter(run.since)
    backoff = Backoff(settings.sync_backoff_base, settings.sync_backoff_max)
    token, pages_done, studies_seen = run.page_token, run.pages_done, run.studies_seen
    while True:
        params = {**base, "pageToken": token} if token else {**base, "countTotal": "true"}
        page, retries = fetch_page(client, params, page=pages_done + 1,
                                   attempts=settings.sync_max_retries, backoff=backoff,
                                   sleep=sleep, rng=rng, on_retry=on_retry)
        report.retries += retries
        if page.total is not None:
            report.total = page.total
        if page.next_token is not None and page.next_token == token:
            raise SyncError(f"the server sent page token {token!r} again; stopping "
                            "instead of looping")
        records, rejected = _parse_page(page.studies, pages_done + 1)
        with engine.begin() as conn:
            outcome = _write(conn, records, settings.import_batch_size, hooks)
            record_page(conn, run.id, pages_before=pages_done, next_token=page.next_token,
                        studies=len(page.studies), now=clock())
        pages_done += 1
        studies_seen += len(page.studies)
        report.add(outcome)
        report.rejected += rejected
        report.pages += 1
        report.studies += len(page.studies)
        if on_page:
            on_page(SyncProgress(pages_done, studies_seen, report.total, report))
        if page.next_token is None:
            return
        token = page.next_token
