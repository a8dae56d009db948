"""Reading an uploaded medical history off the event loop, within a time budget.

A note or a FHIR bundle is parsed in a worker thread, so searches keep being served while
it runs. At most ``PARSE_SLOTS`` uploads are read at once (one visitor sending many large
files cannot take every thread), and a request that has not got its answer within
``PARSE_SECONDS`` (waiting for a slot included) gets a 503 with ``Retry-After`` instead of
holding the connection. A thread cannot be stopped, so the budget bounds the request, and
the note size limit (``max_note_chars``; reading is linear) bounds the work itself.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request

from trialscout.patients.loader import LoadedPatient
from trialscout.web.context import web_context
from trialscout.web.patient_match import read_upload
from trialscout.web.problems import ProblemException

PARSE_SECONDS = 20.0
PARSE_SLOTS = 2
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary())


def _slots() -> anyio.CapacityLimiter:
    """The parse slots of the running event loop (one per server worker)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(PARSE_SLOTS)
    return limiter


class TooSlow(ProblemException):
    def __init__(self, seconds: float) -> None:
        super().__init__(503, f"Reading the medical history took longer than {seconds:g} "
                         "seconds. Try a shorter note or a smaller file, or try again later.",
                         "busy", headers={"Retry-After": "30"})


async def read_upload_off_loop(request: Request, *, note: str | None = None,
                               bundle: Any = None, raw: bytes | None = None,
                               where: tuple[str, ...] = ("body", "bundle"),
                               seconds: float | None = None) -> LoadedPatient:
    """``read_upload`` in a worker thread, with the ``max_note_chars`` setting and a budget."""
    budget = PARSE_SECONDS if seconds is None else seconds
    limit = web_context(request).core.settings.max_note_chars
    work = functools.partial(read_upload, note=note, bundle=bundle, raw=raw, where=where,
                             max_note_chars=limit)
    with anyio.move_on_after(budget):
        return await anyio.to_thread.run_sync(work, limiter=_slots(), abandon_on_cancel=True)
    raise TooSlow(budget)
