"""Import with the reading done in a second process while this one writes.

Reading a record (decompressing, JSON, the ``Trial`` model, its document JSON, the
compressed raw record, the facet values) is about two thirds of an import's CPU, and
writing it to the database the rest. With two cores the two halves overlap: a reader
process turns the source files into batches of plain rows (``StoreRecord``) and passes
them, in file order, through a small bounded queue to the writer, which commits them as an
inline import would. Memory stays constant (a few batches in flight), and the store ends
up exactly as after an inline import. Small imports are read inline, since starting the
process costs about a second.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from trialscout.registry.importer import Batch, read_batches, relaxed_gc
from trialscout.registry.sources import iter_path

PROCESS_MIN_BYTES = 4_000_000
QUEUE_BATCHES = 4
_POLL_SECONDS = 1.0


class ReaderProcessError(RuntimeError):
    """The reader process failed or stopped before it finished the sources."""


def source_bytes(paths: Iterable[Path]) -> int:
    """The size of the files an import would read (0 for paths that do not exist)."""
    total = 0
    for path in paths:
        try:
            if path.is_dir():
                total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            elif path.exists():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def use_reader_process(paths: list[Path], enabled: bool) -> bool:
    """Whether the import is large enough, and the machine has the cores, to read apart."""
    return (enabled and (os.cpu_count() or 1) > 1
            and source_bytes(paths) >= PROCESS_MIN_BYTES)


def _items(paths: list[str], limit: int | None) -> Iterator[Any]:
    items: Iterator[Any] = (item for path in paths for item in iter_path(Path(path)))
    return itertools.islice(items, limit) if limit is not None else items


def _read_into(paths: list[str], size: int, limit: int | None, out: Any) -> None:
    """The reader process: every batch of ``paths``, then ``done`` (or the traceback)."""
    try:
        with relaxed_gc():
            for batch in read_batches(_items(paths, limit), size):
                out.put(("batch", batch))
        out.put(("done", None))
    except BaseException:  # noqa: BLE001 - the writer reports it
        out.put(("error", traceback.format_exc()))


def batches_inline(paths: list[Path], size: int, limit: int | None = None,
                   on_item: Callable[[], None] | None = None) -> Iterator[Batch]:
    return read_batches(_items([str(p) for p in paths], limit), size, on_item)


def batches_from_process(paths: list[Path], size: int, limit: int | None = None,
                         on_item: Callable[[], None] | None = None) -> Iterator[Batch]:
    """The batches of ``paths``, read and normalized in a reader process."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue(maxsize=QUEUE_BATCHES)
    process = context.Process(target=_read_into, name="trialscout-import-reader",
                              args=([str(p) for p in paths], size, limit, out), daemon=True)
    process.start()
    try:
        while True:
            kind, payload = _next_message(out, process)
            if kind == "done":
                return
            if kind == "error":
                raise ReaderProcessError(f"reading the sources failed:\n{payload}")
            if on_item:
                for _ in range(payload[2]):
                    on_item()
            yield payload
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=10)
        out.close()


def _next_message(out: Any, process: Any) -> tuple[str, Any]:
    while True:
        try:
            message: tuple[str, Any] = out.get(timeout=_POLL_SECONDS)
            return message
        except queue.Empty:
            if process.is_alive():
                continue
        try:
            message = out.get(timeout=_POLL_SECONDS)
            return message
        except queue.Empty:
            raise ReaderProcessError(
                f"the import's reader process stopped (exit code {process.exitcode})"
            ) from None
