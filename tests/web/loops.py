"""Running a coroutine from a synchronous test, whatever loop the session left running."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any


def run_isolated(coroutine: Coroutine[Any, Any, Any]) -> None:
    """Run ``coroutine`` on a new loop in its own thread: the browser tests leave an event
    loop running in the main thread, where ``asyncio.run`` refuses to start."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
