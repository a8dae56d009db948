"""The pieces of `trialscout sync` that need no server: queries, backoff, page decoding."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscout.registry.enums import OVERALL_STATUSES, STATUS_LABELS
from trialscout.registry.sync_errors import FetchError, SyncConfigError, SyncGaveUp
from trialscout.registry.sync_http import (
    Backoff,
    Page,
    RetryNotice,
    check_base_url,
    fetch_page,
    parse_page,
    parse_retry_after,
)
from trialscout.registry.sync_query import SyncQuery, parse_statuses, since_after, since_filter

STATUSES = sorted(OVERALL_STATUSES)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


# --- statuses and query keys ---------------------------------------------------------------

@settings(max_examples=40)
@given(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=6), st.data())
def test_statuses_accept_any_spelling_and_grouping(chosen: list[str], data: st.DataObject
                                                   ) -> None:
    spelled = [data.draw(st.sampled_from([s, s.lower(), s.title(), f"  {s} "])) for s in chosen]
    split = data.draw(st.integers(0, len(spelled)))
    values = [",".join(spelled[:split]), *spelled[split:]]
    assert parse_statuses(values) == tuple(sorted(set(chosen)))


@pytest.mark.parametrize("label", sorted(STATUS_LABELS.values()))
def test_statuses_accept_registry_labels(label: str) -> None:
    (token,) = parse_statuses([label])
    assert STATUS_LABELS[token] == label


@settings(max_examples=40)
@given(st.lists(st.text(max_size=30), max_size=4))
def test_statuses_either_parse_or_fail_clearly(values: list[str]) -> None:
    try:
        parsed = parse_statuses(values)
    except SyncConfigError as exc:
        assert "expected one of" in str(exc) and "RECRUITING" in str(exc)
    else:
        assert set(parsed) <= OVERALL_STATUSES and list(parsed) == sorted(set(parsed))


def test_unknown_status_names_the_culprit_and_the_choices() -> None:
    with pytest.raises(SyncConfigError) as info:
        SyncQuery.build(statuses=["RECRUITING,RECRUITNG"])
    message = str(info.value)
    assert "'RECRUITNG'" in message
    assert all(status in message for status in STATUSES)


@settings(max_examples=40)
@given(st.sampled_from(["lung cancer", "Lung  Cancer", " LUNG CANCER\t", "lung\ncancer"]),
       st.permutations(["RECRUITING", "completed", "Not yet recruiting"]))
def test_same_filters_however_typed_give_the_same_key(condition: str, statuses: list[str]
                                                      ) -> None:
    query = SyncQuery.build(condition=condition, statuses=statuses)
    reference = SyncQuery.build(condition="lung cancer",
                                statuses=["COMPLETED", "NOT_YET_RECRUITING", "RECRUITING"])
    assert query.key() == reference.key()
    assert query.api_params()["filter.overallStatus"] == "COMPLETED,NOT_YET_RECRUITING,RECRUITING"


def test_different_filters_give_different_keys() -> None:
    queries = [SyncQuery.build(), SyncQuery.build(condition="asthma"),
               SyncQuery.build(term="asthma"), SyncQuery.build(statuses=["RECRUITING"]),
               SyncQuery.build(condition="asthma", statuses=["RECRUITING"])]
    assert len({q.key() for q in queries}) == len(queries)
    assert SyncQuery.build(condition="  ", term="").api_params() == {}


def test_since_is_a_day_before_the_previous_start() -> None:
    assert since_after(datetime(2024, 3, 1, 0, 5)) == date(2024, 2, 29)
    assert since_filter(date(2024, 2, 29)) == "AREA[LastUpdatePostDate]RANGE[2024-02-29,MAX]"


# --- backoff and Retry-After -----------------------------------------------------------------

@settings(max_examples=40)
@given(st.integers(0, 2000), st.floats(0.001, 100), st.floats(0.001, 1000),
       st.none() | st.floats(0, 5000), st.integers(0, 2**32))
def test_backoff_stays_within_full_jitter_bounds(retry: int, base: float, cap: float,
                                                 retry_after: float | None, seed: int) -> None:
    delay = Backoff(base, cap).delay(retry, random.Random(seed), retry_after)
    assert 0 <= delay <= cap
    if retry_after is None:
        assert delay <= base * 2.0 ** min(retry, 60)
    else:
        assert delay >= min(retry_after, cap)


def test_backoff_is_jittered_and_grows() -> None:
    rng = random.Random(7)
    backoff = Backoff(1.0, 1000.0)
    first = [backoff.delay(0, rng) for _ in range(200)]
    fifth = [backoff.delay(4, rng) for _ in range(200)]
    assert len(set(first)) > 150
    assert max(first) <= 1.0 < max(fifth) <= 16.0


@settings(max_examples=40)
@given(st.text(max_size=40))
def test_retry_after_never_raises(text: str) -> None:
    value = parse_retry_after(text)
    assert value is None or value >= 0


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True),
                             now=now) == pytest.approx(30)
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True),
                             now=now) == 0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


# --- page bodies and base URLs ---------------------------------------------------------------

@settings(max_examples=40)
@given(st.binary(max_size=200) | json_values.map(orjson.dumps))
def test_any_body_is_a_page_or_a_fetch_error(body: bytes) -> None:
    try:
        page = parse_page(body)
    except FetchError as exc:
        assert exc.retryable == (not _is_json(body))
    else:
        assert isinstance(page.studies, list)
        assert page.next_token is None or isinstance(page.next_token, str)


def _is_json(body: bytes) -> bool:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True


@settings(max_examples=40)
@given(st.lists(json_values, max_size=5), st.none() | st.text(min_size=1, max_size=20),
       st.none() | st.integers(0, 10**6))
def test_page_fields_survive_decoding(studies: list[Any], token: str | None,
                                      total: int | None) -> None:
    document: dict[str, Any] = {"studies": studies}
    if token is not None:
        document["nextPageToken"] = token
    if total is not None:
        document["totalCount"] = total
    assert parse_page(orjson.dumps(document)) == Page(studies, token, total)


def test_truncated_body_is_retryable_but_wrong_shape_is_not() -> None:
    body = orjson.dumps({"studies": [{"a": 1}], "nextPageToken": "x"})
    with pytest.raises(FetchError) as cut:
        parse_page(body[:-5])
    assert cut.value.retryable
    with pytest.raises(FetchError) as shape:
        parse_page(b'{"error": "nope"}')
    assert not shape.value.retryable


@settings(max_examples=40)
@given(st.text(max_size=60))
def test_base_url_is_checked_without_crashing(text: str) -> None:
    try:
        url = check_base_url(text)
    except SyncConfigError as exc:
        assert "ctgov_base_url" in str(exc)
    else:
        assert url.startswith(("http://", "https://")) and not url.endswith("/")


@pytest.mark.parametrize("bad", ["", "clinicaltrials.gov/api/v2", "ftp://example.org/api",
                                 "http://", "https://exa mple.org"])
def test_bad_base_urls_are_refused(bad: str) -> None:
    with pytest.raises(SyncConfigError):
        check_base_url(bad)


# --- the retry loop --------------------------------------------------------------------------

class ScriptedSource:
    """Answers from a script: an exception to raise or a page to return, one per call."""

    def __init__(self, script: list[FetchError | Page]) -> None:
        self.script = list(script)
        self.calls = 0

    def get(self, params: dict[str, str]) -> Page:
        self.calls += 1
        step = self.script.pop(0)
        if isinstance(step, FetchError):
            raise step
        return step


PAGE = Page([{"x": 1}], None, 1)


@settings(max_examples=40)
@given(st.integers(1, 8), st.integers(0, 10), st.integers(0, 2**32))
def test_retries_until_success_or_the_attempt_limit(attempts: int, failures: int,
                                                    seed: int) -> None:
    source = ScriptedSource([FetchError("HTTP 503", retryable=True)] * failures + [PAGE])
    sleeps: list[float] = []
    notices: list[RetryNotice] = []
    backoff = Backoff(0.5, 4.0)
    if failures < attempts:
        page, retries = fetch_page(source, {}, page=3, attempts=attempts, backoff=backoff,
                                   sleep=sleeps.append, rng=random.Random(seed),
                                   on_retry=notices.append)
        assert page is PAGE and retries == failures
    else:
        with pytest.raises(SyncGaveUp) as info:
            fetch_page(source, {}, page=3, attempts=attempts, backoff=backoff,
                       sleep=sleeps.append, rng=random.Random(seed), on_retry=notices.append)
        assert info.value.attempts == attempts and info.value.page == 3
        assert "HTTP 503" in str(info.value) and f"{attempts} attempt" in str(info.value)
    assert source.calls == min(failures + 1, attempts)
    assert len(sleeps) == source.calls - 1 == len(notices)
    assert all(0 <= s <= 4.0 for s in sleeps)
    assert [n.delay for n in notices] == sleeps


def test_retry_after_sets_the_wait() -> None:
    source = ScriptedSource([FetchError("HTTP 429", retryable=True, retry_after=9.0), PAGE])
    sleeps: list[float] = []
    fetch_page(source, {}, page=1, attempts=3, backoff=Backoff(0.1, 60.0), sleep=sleeps.append)
    assert sleeps == [9.0]


def test_non_retryable_errors_stop_at_once() -> None:
    source = ScriptedSource([FetchError("HTTP 404", retryable=False), PAGE])
    sleeps: list[float] = []
    with pytest.raises(FetchError, match="404"):
        fetch_page(source, {}, page=1, attempts=5, backoff=Backoff(1, 2), sleep=sleeps.append)
    assert source.calls == 1 and sleeps == []
