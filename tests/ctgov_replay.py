"""A local stand-in for the ClinicalTrials.gov API v2 ``/studies`` endpoint, with faults.

It is a real HTTP server on 127.0.0.1 (ephemeral port, own thread) serving pages built
from the first studies of ``../shared/data/ctgov/studies.jsonl.gz``. It honours
``pageSize``, opaque ``pageToken``s, ``countTotal``, ``query.cond``, ``query.term``,
``filter.overallStatus`` and the ``AREA[LastUpdatePostDate]RANGE[date,MAX]`` advanced
filter. The shared studies carry no dates, so each one gets a deterministic
``lastUpdatePostDateStruct``; :meth:`ReplayServer.touch` moves studies to a newer date (and
changes their title) to play an upstream update.

Faults are scripted per request number or per page: HTTP errors (with Retry-After),
truncated JSON, a connection dropped mid-body, a response slower than the client's
timeout, and a stall that holds a request until :attr:`ReplayServer.release` is set (for
kill tests). Every request is recorded with its parameters and the page it resolved to.
"""

from __future__ import annotations

import base64
import copy
import functools
import gzip
import hashlib
import itertools
import re
import socket
import sys
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from sqlalchemy import select

from trialscout.app import TrialScout
from trialscout.store.tables import TrialFacetRow, TrialHistoryRow, TrialRow, TrialSiteRow

BASE_DATE = date(2019, 1, 1)
DEFAULT_PAGE_SIZE = 10
_ADVANCED = re.compile(r"^AREA\[LastUpdatePostDate\]RANGE\[(\d{4}-\d{2}-\d{2}),MAX\]$")
_FILTER_PARAMS = ("query.cond", "query.term", "filter.overallStatus", "filter.advanced")


def base_update_date(index: int) -> date:
    """The update date the server gives the study at ``index``: spread over two years."""
    return BASE_DATE + timedelta(days=(index * 37) % 730)


@functools.lru_cache(maxsize=4)
def _load(path: str, limit: int) -> tuple[bytes, ...]:
    with gzip.open(path, "rb") as stream:
        return tuple(line for line in itertools.islice(stream, limit) if line.strip())


def load_studies(shared_data: Path, limit: int = 2500) -> list[dict[str, Any]]:
    """The first ``limit`` shared studies, each with a deterministic last-update date."""
    studies = []
    for index, line in enumerate(_load(str(shared_data / "ctgov" / "studies.jsonl.gz"), limit)):
        study = orjson.loads(line)
        status = study.setdefault("protocolSection", {}).setdefault("statusModule", {})
        status["lastUpdatePostDateStruct"] = {"date": base_update_date(index).isoformat(),
                                              "type": "ACTUAL"}
        studies.append(study)
    return studies


def nct_id(study: Any) -> str | None:
    try:
        return str(study["protocolSection"]["identificationModule"]["nctId"])
    except (KeyError, TypeError):
        return None


def _module(study: Any, name: str) -> dict[str, Any]:
    try:
        value = study["protocolSection"][name]
    except (KeyError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def _texts(study: Any, *, summary: bool) -> list[str]:
    ident = _module(study, "identificationModule")
    conditions = _module(study, "conditionsModule")
    out = [ident.get("briefTitle"), ident.get("officialTitle")]
    out += list(conditions.get("conditions") or []) + list(conditions.get("keywords") or [])
    if summary:
        out.append(_module(study, "descriptionModule").get("briefSummary"))
    return [t.casefold() for t in out if isinstance(t, str)]


def _updated_on(study: Any) -> str:
    holder = _module(study, "statusModule").get("lastUpdatePostDateStruct") or {}
    return str(holder.get("date", "")) if isinstance(holder, dict) else ""


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour; build with the class methods."""

    kind: str
    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0

    @classmethod
    def http(cls, status: int, retry_after: str | None = None) -> Fault:
        return cls("status", status=status, retry_after=retry_after)

    @classmethod
    def truncate(cls) -> Fault:
        """200 with a JSON body cut in half (and a Content-Length that matches the cut)."""
        return cls("truncate")

    @classmethod
    def drop(cls) -> Fault:
        """200 announcing the full body, then the socket closes halfway through it."""
        return cls("drop")

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Answer correctly, but only after ``seconds`` (longer than the client waits)."""
        return cls("slow", delay=seconds)

    @classmethod
    def stall(cls) -> Fault:
        """Hold the request until ``release`` is set (or a minute passes)."""
        return cls("stall")


@dataclass
class Request:
    """One request the server received, as the tests see it."""

    number: int
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    page: int | None = None
    fault: str | None = None
    status: int = 200


@dataclass
class _Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    replay: ReplayServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Sockets the client (or a scripted fault) closed are expected; bugs are not."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        replay = self.server.replay
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        request = replay._record(parts.path, params, dict(self.headers.items()))
        answer = replay._answer(request)
        fault = replay._fault_for(request) if answer.status == 200 else None
        request.fault = fault.kind if fault else None
        request.status = fault.status if fault and fault.kind == "status" else answer.status
        try:
            self._send(answer, fault, replay)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def _head(self, status: int, length: int, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
        self.send_header("Content-Length", str(length))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, answer: _Answer, fault: Fault | None, replay: ReplayServer) -> None:
        body = answer.body
        if fault is None:
            self._head(answer.status, len(body), answer.headers)
            self.wfile.write(body)
            return
        if fault.kind == "status":
            text = f"scripted HTTP {fault.status}".encode()
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._head(fault.status, len(text), extra)
            self.wfile.write(text)
        elif fault.kind == "truncate":
            cut = body[: len(body) // 2]
            self._head(200, len(cut), {})
            self.wfile.write(cut)
        elif fault.kind == "drop":
            self._head(200, len(body), {})
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault.kind in {"slow", "stall"}:
            if fault.kind == "slow":
                replay.release.wait(fault.delay)
            else:
                replay.release.wait(60)
            self.close_connection = True
            self._head(200, len(body), {})
            self.wfile.write(body)
        else:
            raise ValueError(f"unknown fault {fault.kind!r}")


class ReplayServer:
    """Serve ``studies`` as ``/studies`` pages on 127.0.0.1 until :meth:`stop`."""

    def __init__(self, studies: Sequence[dict[str, Any]], *, prefix: str = "") -> None:
        self.studies = list(studies)
        self.prefix = prefix.rstrip("/")
        self.requests: list[Request] = []
        self.release = threading.Event()
        self._faults_by_request: dict[int, Fault] = {}
        self._faults_by_page: dict[int, list[Fault]] = {}
        self._lock = threading.Lock()
        self._epoch = 0
        self._http: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------
    def start(self) -> ReplayServer:
        http = _HTTPServer(("127.0.0.1", 0), _Handler)
        http.replay = self
        self._http = http
        self._thread = threading.Thread(target=http.serve_forever, name="ctgov-replay",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._http is not None, "server not started"
        return f"http://127.0.0.1:{self._http.server_address[1]}{self.prefix}"

    # scripting -----------------------------------------------------------------------
    def fault_request(self, number: int, fault: Fault) -> None:
        """Misbehave on the ``number``-th request (1-based, counting every request)."""
        self._faults_by_request[number] = fault

    def fault_page(self, page: int, *faults: Fault) -> None:
        """Misbehave on the next requests for ``page`` (1-based), one fault per request."""
        self._faults_by_page.setdefault(page, []).extend(faults)

    def touch(self, nct_ids: Iterable[str], day: date) -> None:
        """Play an upstream update: newer last-update date and a changed title."""
        wanted = set(nct_ids)
        for index, study in enumerate(self.studies):
            if nct_id(study) in wanted:
                changed = copy.deepcopy(study)
                proto = changed["protocolSection"]
                proto["statusModule"]["lastUpdatePostDateStruct"] = {
                    "date": day.isoformat(), "type": "ACTUAL"}
                ident = proto["identificationModule"]
                ident["briefTitle"] = f"{ident.get('briefTitle') or 'Untitled'} (rev {day})"
                self.studies[index] = changed
                wanted.discard(nct_id(study) or "")
        assert not wanted, f"unknown NCT ids {sorted(wanted)}"

    def expire_tokens(self) -> None:
        """Refuse every page token handed out so far (HTTP 400), like an expired cursor."""
        self._epoch += 1

    def replace(self, index: int, study: Any) -> None:
        """Serve ``study`` (anything JSON, even a broken record) at position ``index``."""
        self.studies[index] = study

    # inspection ----------------------------------------------------------------------
    def pages_requested(self) -> list[int | None]:
        return [r.page for r in self.requests]

    def token_requests(self) -> list[str | None]:
        return [r.params.get("pageToken") for r in self.requests]

    def served_ids(self, **params: str) -> list[str]:
        """The NCT ids a full listing with these filter params would return, in order."""
        return [nct_id(s) or "" for s in self._select(params)]

    # request handling (server thread) ---------------------------------------------------
    def _record(self, path: str, params: dict[str, str], headers: dict[str, str]) -> Request:
        with self._lock:
            request = Request(len(self.requests) + 1, path, params, headers)
            self.requests.append(request)
            return request

    def _fault_for(self, request: Request) -> Fault | None:
        with self._lock:
            fault = self._faults_by_request.pop(request.number, None)
            if fault is None and request.page is not None:
                queue = self._faults_by_page.get(request.page)
                if queue:
                    fault = queue.pop(0)
            return fault

    def _select(self, params: dict[str, str]) -> list[dict[str, Any]]:
        cond = params.get("query.cond", "").casefold().strip()
        term = params.get("query.term", "").casefold().strip()
        statuses = {s for s in params.get("filter.overallStatus", "").split(",") if s}
        since = ""
        if params.get("filter.advanced"):
            match = _ADVANCED.match(params["filter.advanced"])
            if match is None:
                raise _BadRequest(f"unsupported filter.advanced {params['filter.advanced']!r}")
            since = match.group(1)
        out = []
        for study in list(self.studies):
            if cond and not any(cond in t for t in _texts(study, summary=False)):
                continue
            if term and not any(term in t for t in _texts(study, summary=True)):
                continue
            if statuses and _module(study, "statusModule").get("overallStatus") not in statuses:
                continue
            if since and _updated_on(study) < since:
                continue
            out.append(study)
        return out

    def _fingerprint(self, params: dict[str, str]) -> str:
        material = orjson.dumps([self._epoch, {k: params.get(k, "") for k in _FILTER_PARAMS}])
        return hashlib.sha256(material).hexdigest()[:12]

    def _token(self, offset: int, params: dict[str, str]) -> str:
        raw = zlib.compress(orjson.dumps([offset, self._fingerprint(params)]))
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _offset(self, token: str, params: dict[str, str]) -> int:
        try:
            padded = token + "=" * (-len(token) % 4)
            offset, fingerprint = orjson.loads(zlib.decompress(base64.urlsafe_b64decode(padded)))
        except (ValueError, zlib.error, TypeError) as exc:
            raise _BadRequest(f"invalid pageToken {token!r}") from exc
        if fingerprint != self._fingerprint(params) or not isinstance(offset, int):
            raise _BadRequest("pageToken does not belong to this query")
        return offset

    def _answer(self, request: Request) -> _Answer:
        if request.path != f"{self.prefix}/studies":
            return _Answer(404, b"not found")
        params = request.params
        try:
            if params.get("format", "json") != "json":
                raise _BadRequest("only format=json is served")
            size_text = params.get("pageSize", str(DEFAULT_PAGE_SIZE))
            if not size_text.isdigit() or not 1 <= int(size_text) <= 1000:
                raise _BadRequest(f"pageSize must be 1..1000, got {size_text!r}")
            size = int(size_text)
            offset = self._offset(params["pageToken"], params) if params.get("pageToken") else 0
            selected = self._select(params)
        except _BadRequest as exc:
            return _Answer(400, str(exc).encode())
        request.page = offset // size + 1
        document: dict[str, Any] = {"studies": selected[offset:offset + size]}
        if params.get("countTotal") == "true":
            document["totalCount"] = len(selected)
        if offset + size < len(selected):
            document["nextPageToken"] = self._token(offset + size, params)
        return _Answer(200, orjson.dumps(document))


class _BadRequest(ValueError):
    pass


def store_snapshot(app: TrialScout) -> dict[str, Any]:
    """Everything a sync writes, minus timestamps: equal snapshots mean equal stores."""
    with app.connect() as conn:
        trials = [tuple(r) for r in conn.execute(
            select(TrialRow.nct_id, TrialRow.content_hash, TrialRow.document,
                   TrialRow.last_update).order_by(TrialRow.nct_id))]
        facets = sorted((tuple(r) for r in conn.execute(
            select(TrialFacetRow.nct_id, TrialFacetRow.field, TrialFacetRow.value_norm))), key=repr)
        sites = sorted((tuple(r) for r in conn.execute(
            select(TrialSiteRow.nct_id, TrialSiteRow.position, TrialSiteRow.facility))), key=repr)
        history = sorted((tuple(r) for r in conn.execute(
            select(TrialHistoryRow.nct_id, TrialHistoryRow.content_hash,
                   TrialHistoryRow.change))), key=repr)
    return {"trials": trials, "facets": facets, "sites": sites, "history": history}
