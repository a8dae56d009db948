"""Talking to the ClinicalTrials.gov API v2 ``/studies`` endpoint, politely and stubbornly.

One request is :meth:`StudiesClient.get`; :func:`fetch_page` retries it with full-jitter
exponential backoff on what is worth retrying (429, 5xx, timeouts, dropped connections,
bodies that are not JSON) and stops at once on what is not (404, redirects, a body that is
JSON but not a page). Sleeping and randomness are injected so tests run instantly.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
import orjson

from trialscout import __version__
from trialscout.registry.sync_errors import FetchError, SyncConfigError, SyncGaveUp

USER_AGENT = f"TrialScout/{__version__}"
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page:
    """One decoded ``/studies`` answer."""

    studies: list[Any]
    next_token: str | None
    total: int | None


@dataclass(frozen=True)
class RetryNotice:
    """Told to the caller before each wait, so a progress display can say why it paused."""

    page: int
    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True)
class Backoff:
    """Full jitter: wait a random time in [0, min(cap, base * 2**retry)]."""

    base: float
    cap: float

    def delay(self, retry: int, rng: random.Random, retry_after: float | None = None) -> float:
        ceiling = self.cap if retry >= 60 else min(self.cap, self.base * 2 ** retry)
        wait = rng.uniform(0.0, ceiling)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return max(0.0, min(wait, self.cap))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    except OverflowError:
        return None
    return max(0.0, seconds)


def parse_page(body: bytes) -> Page:
    """Decode a page; a body that is not JSON is retryable (it was probably cut short)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FetchError(f"invalid JSON body ({len(body)} bytes): {exc}", retryable=True) from exc
    if not isinstance(document, dict) or not isinstance(document.get("studies"), list):
        raise FetchError("the answer is JSON but not a /studies page (no 'studies' list)",
                         retryable=False)
    token = document.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise FetchError(f"nextPageToken is not text: {token!r}", retryable=False)
    total = document.get("totalCount")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        total = None
    return Page(studies=document["studies"], next_token=token or None, total=total)


def check_base_url(base_url: str) -> str:
    """The base URL without its trailing slash, or a SyncConfigError saying what is wrong."""
    if any(char.isspace() for char in base_url.strip()):
        raise SyncConfigError(f"ctgov_base_url must not contain spaces, got {base_url!r}")
    try:
        url = httpx.URL(base_url.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise SyncConfigError(f"ctgov_base_url {base_url!r} is not a valid URL: {exc}") from exc
    if url.scheme not in {"http", "https"} or not url.host:
        raise SyncConfigError(f"ctgov_base_url must be an http:// or https:// URL with a host, "
                              f"got {base_url!r}")
    return str(url).rstrip("/")


def _excerpt(body: bytes, limit: int = 200) -> str:
    text = " ".join(body[:limit * 2].decode("utf-8", "replace").split())
    return text[:limit]


class StudiesClient:
    """A sync httpx client bound to ``{base_url}/studies``; it follows no redirects, so
    nothing is ever sent to another host."""

    def __init__(self, base_url: str, *, timeout: float,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = check_base_url(base_url) + "/studies"
        self.timeout = timeout
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=False, transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"})

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> StudiesClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get(self, params: dict[str, str]) -> Page:
        """One attempt; raises FetchError saying whether another attempt may help."""
        try:
            response = self._client.get(self.url, params=params)
        except httpx.TimeoutException as exc:
            raise FetchError(f"no answer from {self.url} within {self.timeout:g}s "
                             f"({type(exc).__name__})", retryable=True) from exc
        except httpx.UnsupportedProtocol as exc:
            raise FetchError(f"cannot request {self.url}: {exc}", retryable=False) from exc
        except httpx.ConnectError as exc:
            raise FetchError(f"cannot connect to {self.url}: {exc}", retryable=True) from exc
        except httpx.RequestError as exc:
            raise FetchError(f"connection to {self.url} dropped: {exc}",
                             retryable=True) from exc
        code = response.status_code
        if code == 200:
            return parse_page(response.content)
        label = f"HTTP {code} {response.reason_phrase}".strip()
        if code == 429 or code >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise FetchError(f"{label} from {self.url}", retryable=True, retry_after=retry_after,
                             status=code)
        if 300 <= code < 400:
            where = response.headers.get("Location", "elsewhere")
            raise FetchError(f"{label}: {self.url} redirects to {where}; set ctgov_base_url to "
                             f"the API's own address", retryable=False, status=code)
        detail = _excerpt(response.content)
        hint = " (is ctgov_base_url right?)" if code == 404 else ""
        raise FetchError(f"{label} from {self.url}{hint}" + (f": {detail}" if detail else ""),
                         retryable=False, status=code)


class PageSource(Protocol):
    def get(self, params: dict[str, str]) -> Page: ...


def fetch_page(
    client: PageSource,
    params: dict[str, str],
    *,
    page: int,
    attempts: int,
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> tuple[Page, int]:
    """The page and how many retries it took, or SyncGaveUp after ``attempts`` failures."""
    chance = rng or random.Random()
    for attempt in range(1, attempts + 1):
        try:
            return client.get(params), attempt - 1
        except FetchError as exc:
            if not exc.retryable:
                raise
            if attempt == attempts:
                raise SyncGaveUp(page, attempts, exc.reason) from exc
            delay = backoff.delay(attempt - 1, chance, exc.retry_after)
            if on_retry:
                on_retry(RetryNotice(page, attempt, delay, exc.reason))
            sleep(delay)
    raise AssertionError("unreachable: attempts must be at least 1")
