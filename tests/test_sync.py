"""`TrialScout.sync` against the local ClinicalTrials.gov replay server."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select, update

from tests.ctgov_replay import Fault, ReplayServer, load_studies, nct_id, store_snapshot
from trialscout.app import TrialScout, create_app
from trialscout.registry.importer import content_hash
from trialscout.registry.sync import SyncProgress, SyncQuery
from trialscout.registry.sync_errors import FetchError, SyncConfigError, SyncError, SyncGaveUp
from trialscout.store.tables import SyncRunRow, TrialRow

STUDIES = 120
PAGE_SIZE = 30
PAGES = STUDIES // PAGE_SIZE
RUNS = SyncRunRow.__table__


@pytest.fixture(scope="module")
def studies(shared_data: Path) -> list[dict[str, Any]]:
    return load_studies(shared_data, STUDIES)


@pytest.fixture
def server(studies: list[dict[str, Any]]) -> Iterator[ReplayServer]:
    with ReplayServer(studies) as replay:
        yield replay


def use(app: TrialScout, server: ReplayServer, **settings: Any) -> TrialScout:
    """Point an app at the replay server, with small pages and retries that do not sleep."""
    app.settings = dataclasses.replace(app.settings, ctgov_base_url=server.base_url,
                                       sync_page_size=PAGE_SIZE, sync_backoff_base=0.5,
                                       sync_backoff_max=30.0, **settings)
    return app


class Sleeps(list[float]):
    """Records the waits a sync asked for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def run_row(app: TrialScout, run_id: int) -> Any:
    with app.connect() as conn:
        return conn.execute(select(RUNS).where(RUNS.c.id == run_id)).one()


@pytest.fixture(scope="module")
def clean(studies: list[dict[str, Any]]) -> dict[str, Any]:
    """The store after one fault-free full sync: what every other sync must end up as."""
    with ReplayServer(studies) as replay:
        app = use(create_app(database_url="sqlite://"), replay)
        app.sync(sleep=Sleeps())
        snapshot = store_snapshot(app)
        app.close()
    return snapshot


def test_full_sync_stores_every_study(backend_app: TrialScout, server: ReplayServer,
                                      studies: list[dict[str, Any]]) -> None:
    app = use(backend_app, server)
    changed: list[str] = []
    app.write_hooks.append(lambda conn, ids: changed.extend(ids))
    report = app.sync(sleep=Sleeps())

    assert (report.imported, report.pages, report.studies, report.total) == (
        STUDIES, PAGES, STUDIES, STUDIES)
    assert report.rejected == [] and report.resumed_from_page is None and report.since is None
    assert sorted(changed) == sorted(nct_id(s) or "" for s in studies)
    with app.connect() as conn:
        stored = dict(conn.execute(select(TrialRow.nct_id, TrialRow.content_hash)).all())
    assert stored == {nct_id(s): content_hash(s) for s in studies}

    assert server.pages_requested() == list(range(1, PAGES + 1))
    for request in server.requests:
        assert request.params["format"] == "json"
        assert request.params["pageSize"] == str(PAGE_SIZE)
        assert "filter.advanced" not in request.params
        assert request.headers["User-Agent"].startswith("TrialScout/")
    assert "pageToken" not in server.requests[0].params
    assert all(r.params.get("pageToken") for r in server.requests[1:])

    row = run_row(app, report.run_id)
    assert (row.status, row.pages_done, row.studies_seen, row.page_token) == (
        "done", PAGES, STUDIES, None)
    assert row.finished_at is not None and row.finished_at >= row.started_at


def test_second_sync_fetches_only_updates_since_the_previous_start(
        app: TrialScout, server: ReplayServer, studies: list[dict[str, Any]]) -> None:
    use(app, server)
    ids = [nct_id(s) or "" for s in studies]
    first = app.sync(sleep=Sleeps(), clock=lambda: datetime(2024, 3, 10, 23, 30))
    assert first.imported == STUDIES

    server.touch([ids[3], ids[100]], date(2024, 3, 9))
    server.touch([ids[110]], date(2024, 3, 12))
    server.touch([ids[7]], date(2024, 3, 8))
    server.requests.clear()
    second = app.sync(sleep=Sleeps(), clock=lambda: datetime(2024, 3, 12, 8, 0))

    assert second.since == "2024-03-09"
    assert (second.studies, second.updated, second.imported, second.pages) == (3, 3, 0, 1)
    assert [r.params["filter.advanced"] for r in server.requests] == [
        "AREA[LastUpdatePostDate]RANGE[2024-03-09,MAX]"]
    trial = app.trial(ids[110])
    assert trial is not None and trial.brief_title and trial.brief_title.endswith(
        "(rev 2024-03-12)")
    untouched = app.trial(ids[7])
    assert untouched is not None and "(rev" not in (untouched.brief_title or "")

    server.requests.clear()
    third = app.sync(sleep=Sleeps(), clock=lambda: datetime(2024, 3, 20, 8, 0))
    assert third.since == "2024-03-11"
    assert (third.studies, third.unchanged) == (1, 1)

    server.requests.clear()
    full = app.sync(full=True, sleep=Sleeps())
    assert full.since is None and "filter.advanced" not in server.requests[0].params
    assert (full.studies, full.updated, full.unchanged) == (STUDIES, 1, STUDIES - 1)


def test_each_query_has_its_own_incremental_state(app: TrialScout, server: ReplayServer
                                                  ) -> None:
    use(app, server)
    app.sync(sleep=Sleeps())
    server.requests.clear()
    report = app.sync(SyncQuery.build(condition="hiv"), sleep=Sleeps())
    assert report.since is None and "filter.advanced" not in server.requests[0].params
    again = app.sync(SyncQuery.build(condition=" HIV "), sleep=Sleeps())
    assert again.since is not None and again.query_key == report.query_key


FAULTS = {
    "429": Fault.http(429, retry_after="7"),
    "500": Fault.http(500),
    "503": Fault.http(503),
    "truncated": Fault.truncate(),
    "dropped": Fault.drop(),
    "slow": Fault.slow(5.0),
}


@pytest.mark.parametrize("kind", list(FAULTS))
def test_faults_are_retried_and_change_nothing(kind: str, app: TrialScout,
                                               server: ReplayServer,
                                               clean: dict[str, Any]) -> None:
    use(app, server, sync_timeout=0.4)
    server.fault_page(2, FAULTS[kind])
    sleeps = Sleeps()
    report = app.sync(sleep=sleeps)

    assert report.retries == 1 and len(sleeps) == 1
    assert server.pages_requested() == [1, 2, 2, *range(3, PAGES + 1)]
    assert server.requests[1].fault == FAULTS[kind].kind
    assert server.requests[1].params == server.requests[2].params
    if kind == "429":
        assert sleeps[0] == 7.0
    else:
        assert 0 <= sleeps[0] <= 0.5
    assert store_snapshot(app) == clean


def test_faults_scripted_by_request_number(app: TrialScout, server: ReplayServer,
                                           clean: dict[str, Any]) -> None:
    use(app, server)
    server.fault_request(1, Fault.http(503))
    server.fault_request(2, Fault.truncate())
    server.fault_request(4, Fault.drop())
    report = app.sync(sleep=Sleeps())
    assert report.retries == 3
    assert server.pages_requested() == [1, 1, 1, 2, 2, 3, 4]
    assert store_snapshot(app) == clean


def test_giving_up_keeps_committed_pages_and_a_rerun_resumes(
        backend_app: TrialScout, server: ReplayServer, clean: dict[str, Any]) -> None:
    app = use(backend_app, server, sync_max_retries=3)
    server.fault_page(3, *[Fault.http(503)] * 3)
    sleeps = Sleeps()
    with pytest.raises(SyncGaveUp) as info:
        app.sync(sleep=sleeps)
    assert "page 3 after 3 attempts" in str(info.value) and "503" in str(info.value)
    assert len(sleeps) == 2
    assert app.trial_count() == 2 * PAGE_SIZE
    failed_token = server.requests[-1].params["pageToken"]
    (run,) = _runs(app)
    assert (run.status, run.pages_done, run.page_token) == ("failed", 2, failed_token)
    assert "503" in (run.last_error or "")

    before = len(server.requests)
    progress: list[SyncProgress] = []
    report = app.sync(sleep=Sleeps(), on_page=progress.append)
    assert report.resumed_from_page == 3 and report.run_id == run.id
    assert [(p.pages_done, p.studies_seen) for p in progress] == [
        (page, page * PAGE_SIZE) for page in range(3, PAGES + 1)]
    assert server.requests[before].params["pageToken"] == failed_token
    assert server.pages_requested()[before:] == list(range(3, PAGES + 1))
    counts = Counter(server.pages_requested())
    assert counts[3] == 4 and all(counts[p] == 1 for p in range(1, PAGES + 1) if p != 3)
    (run,) = _runs(app)
    assert (run.status, run.pages_done, run.studies_seen) == ("done", PAGES, STUDIES)
    assert store_snapshot(app) == clean


def _runs(app: TrialScout) -> list[Any]:
    with app.connect() as conn:
        return list(conn.execute(select(RUNS).order_by(RUNS.c.id)))


def test_interrupt_marks_the_run_failed_and_resumes(app: TrialScout, server: ReplayServer,
                                                    clean: dict[str, Any]) -> None:
    use(app, server)
    server.fault_page(2, Fault.http(503))

    def ctrl_c(_seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        app.sync(sleep=ctrl_c)
    (run,) = _runs(app)
    assert (run.status, run.last_error, run.pages_done) == ("failed", "interrupted", 1)
    assert app.trial_count() == PAGE_SIZE
    report = app.sync(sleep=Sleeps())
    assert report.resumed_from_page == 2
    assert store_snapshot(app) == clean


def test_a_failing_page_write_leaves_no_trace(app: TrialScout, server: ReplayServer,
                                              clean: dict[str, Any]) -> None:
    use(app, server)
    calls: list[int] = []

    def hook(conn: Connection, ids: list[str]) -> None:
        calls.append(len(ids))
        if len(calls) == 2:
            raise RuntimeError("search index is full")

    app.write_hooks.append(hook)
    with pytest.raises(RuntimeError):
        app.sync(sleep=Sleeps())
    assert app.trial_count() == PAGE_SIZE
    (run,) = _runs(app)
    assert (run.status, run.pages_done, run.studies_seen) == ("failed", 1, PAGE_SIZE)
    assert "search index is full" in (run.last_error or "")
    report = app.sync(sleep=Sleeps())
    assert report.resumed_from_page == 2 and report.imported == STUDIES - PAGE_SIZE
    assert calls == [PAGE_SIZE] * (PAGES + 1)
    assert store_snapshot(app) == clean


def test_a_page_and_its_progress_commit_together(app: TrialScout, server: ReplayServer) -> None:
    """Another process moving the run on makes the page's own write roll back entirely."""
    use(app, server)
    calls: list[int] = []

    def meddle(conn: Connection, ids: list[str]) -> None:
        calls.append(len(ids))
        if len(calls) == 2:
            conn.execute(update(SyncRunRow).values(pages_done=SyncRunRow.pages_done + 5))

    app.write_hooks.append(meddle)
    with pytest.raises(SyncError, match="another process"):
        app.sync(sleep=Sleeps())
    assert app.trial_count() == PAGE_SIZE
    (run,) = _runs(app)
    assert (run.status, run.pages_done) == ("failed", 1)


def test_a_refused_saved_token_starts_the_query_over(app: TrialScout, server: ReplayServer,
                                                    clean: dict[str, Any]) -> None:
    use(app, server, sync_max_retries=1)
    server.fault_page(2, Fault.http(502))
    with pytest.raises(SyncGaveUp):
        app.sync(sleep=Sleeps())
    server.expire_tokens()
    before = len(server.requests)
    report = app.sync(sleep=Sleeps())
    assert [r.status for r in server.requests[before:]] == [400] + [200] * PAGES
    assert report.resumed_from_page is None and report.pages == PAGES
    assert (report.imported, report.unchanged) == (STUDIES - PAGE_SIZE, PAGE_SIZE)
    runs = _runs(app)
    assert [r.status for r in runs] == ["abandoned", "done"]
    assert "page token refused" in (runs[0].last_error or "")
    assert store_snapshot(app) == clean


def test_full_sync_abandons_an_unfinished_incremental_run(app: TrialScout,
                                                          server: ReplayServer) -> None:
    use(app, server, sync_max_retries=1)
    app.sync(sleep=Sleeps())
    server.touch([nct_id(s) or "" for s in server.studies[:60]], date.today())
    server.fault_page(2, Fault.http(500))
    with pytest.raises(SyncGaveUp):
        app.sync(sleep=Sleeps())
    report = app.sync(full=True, sleep=Sleeps())
    assert report.resumed_from_page is None and report.since is None
    assert [r.status for r in _runs(app)] == ["done", "abandoned", "done"]


def test_bad_records_are_reported_and_the_rest_of_the_page_kept(
        app: TrialScout, server: ReplayServer, studies: list[dict[str, Any]]) -> None:
    use(app, server)
    broken = dict(studies[40])
    broken["protocolSection"] = {**broken["protocolSection"],
                                 "designModule": {"phases": ["PHASE9"]}}
    server.replace(40, broken)
    server.replace(41, "not a study")
    server.replace(42, {"protocolSection": {"identificationModule": {"briefTitle": "No id"}}})
    report = app.sync(sleep=Sleeps())

    assert report.imported == STUDIES - 3 and report.pages == PAGES
    reasons = {(r.location, r.line, r.nct_id): r.reason for r in report.rejected}
    assert set(reasons) == {("page 2", 11, nct_id(studies[40])), ("page 2", 12, None),
                            ("page 2", 13, None)}
    assert "PHASE9" in reasons[("page 2", 11, nct_id(studies[40]))]
    assert "missing nctId" in reasons[("page 2", 13, None)]
    assert app.trial(nct_id(studies[39]) or "") is not None
    assert app.trial(nct_id(studies[43]) or "") is not None
    assert app.trial(nct_id(studies[40]) or "") is None
    (run,) = _runs(app)
    assert (run.status, run.studies_seen) == ("done", STUDIES)


def test_filters_reach_the_server(app: TrialScout, server: ReplayServer) -> None:
    use(app, server)
    query = SyncQuery.build(condition="  HIV ", term="hiv", statuses=[])
    report = app.sync(query, sleep=Sleeps())
    expected = server.served_ids(**{"query.cond": "HIV", "query.term": "hiv"})
    assert expected and report.imported == len(expected)
    for request in server.requests:
        assert request.params["query.cond"] == "HIV" and request.params["query.term"] == "hiv"
        assert "filter.overallStatus" not in request.params

    server.requests.clear()
    by_status = SyncQuery.build(statuses=["recruiting", "COMPLETED"])
    report = app.sync(by_status, sleep=Sleeps())
    assert [r.params["filter.overallStatus"] for r in server.requests] == ["COMPLETED,RECRUITING"]
    expected = server.served_ids(**{"filter.overallStatus": "COMPLETED,RECRUITING"})
    assert expected and report.studies == len(expected)


def test_invalid_status_is_refused_with_the_choices() -> None:
    with pytest.raises(SyncConfigError, match=r"unknown status 'done'.*RECRUITING"):
        SyncQuery.build(statuses=["RECRUITING", "done"])


def test_bad_base_urls_give_readable_errors(app: TrialScout, server: ReplayServer) -> None:
    use(app, server, sync_max_retries=2)
    app.settings = dataclasses.replace(app.settings, ctgov_base_url="clinicaltrials.gov")
    with pytest.raises(SyncConfigError, match="http"):
        app.sync(sleep=Sleeps())
    assert _runs(app) == []

    app.settings = dataclasses.replace(app.settings, ctgov_base_url=server.base_url + "/nope")
    with pytest.raises(FetchError, match=r"HTTP 404 .*ctgov_base_url"):
        app.sync(sleep=Sleeps())
    assert len(server.requests) == 1

    app.settings = dataclasses.replace(app.settings, ctgov_base_url=server.base_url)
    server.fault_request(2, Fault.http(301))
    with pytest.raises(FetchError, match="redirects"):
        app.sync(sleep=Sleeps())
    assert [r.status for r in server.requests] == [404, 301]

    closed = f"http://127.0.0.1:{_closed_port()}"
    app.settings = dataclasses.replace(app.settings, ctgov_base_url=closed)
    sleeps = Sleeps()
    with pytest.raises(SyncGaveUp, match="after 2 attempts: cannot connect"):
        app.sync(sleep=sleeps)
    assert len(sleeps) == 1


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_invalid_page_size_is_refused(app: TrialScout, server: ReplayServer) -> None:
    use(app, server)
    app.settings = dataclasses.replace(app.settings, sync_page_size=1001)
    with pytest.raises(SyncConfigError, match="sync_page_size"):
        app.sync(sleep=Sleeps())
    assert server.requests == []


@settings(max_examples=6, deadline=None)
@given(count=st.integers(0, 40), page_size=st.integers(1, 45), faulty=st.sets(st.integers(1, 8)))
def test_paging_never_loses_or_repeats_a_study(studies: list[dict[str, Any]], count: int,
                                               page_size: int, faulty: set[int]) -> None:
    with ReplayServer(studies[:count]) as replay:
        for number in faulty:
            replay.fault_request(number, Fault.drop())
        app = use(create_app(database_url="sqlite://"), replay)
        app.settings = dataclasses.replace(app.settings, sync_page_size=page_size,
                                           sync_max_retries=len(faulty) + 1)
        report = app.sync(sleep=Sleeps())
        pages = max(1, -(-count // page_size))
        assert (report.imported, report.pages, report.studies) == (count, pages, count)
        assert report.retries == len([n for n in faulty if n <= pages + report.retries])
        with app.connect() as conn:
            stored = conn.execute(select(TrialRow.nct_id).order_by(TrialRow.nct_id)).scalars()
            assert list(stored) == sorted(nct_id(s) or "" for s in studies[:count])
        app.close()
