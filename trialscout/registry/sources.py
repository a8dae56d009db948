"""Walk import paths and yield one item per source record, in constant memory.

Handles API v2 JSON (a single study, a ``/studies`` page, a list), JSON Lines (optionally
gzipped), the bulk ZIP of one JSON file per study, and legacy XML as files, directories
and zips. A record that cannot even be read becomes an item carrying its error, so the
importer can report it and go on.

Every read is bounded: a line or a ZIP member larger than ``MAX_RECORD_BYTES`` (a real
study, results included, is a few MB) is rejected as a record without being held in
memory, so a small compressed file that expands to a gigabyte costs no more memory than
one record. A ``.json`` file is read whole, up to ``MAX_DOCUMENT_BYTES``.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from trialscout.registry.errors import RecordError

_NCT_HINT = re.compile(rb"NCT\d{8}")
_BOM = b"\xef\xbb\xbf"
MAX_RECORD_BYTES = 32 * 1024 * 1024
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
_CHUNK = 1024 * 1024


@dataclass
class SourceItem:
    """One record as found in a source, before it is normalized."""

    location: str
    line: int | None
    kind: str
    payload: Any = None
    raw: bytes = b""
    error: RecordError | None = None

    @property
    def where(self) -> str:
        return f"{self.location}:{self.line}" if self.line is not None else self.location


def nct_hint(data: bytes) -> str | None:
    """The first NCT id written near the start of a record that could not be read."""
    match = _NCT_HINT.search(data[:4000])
    return match.group().decode() if match else None


def _bad(location: str, line: int | None, kind: str, reason: str, data: bytes) -> SourceItem:
    return SourceItem(location, line, kind, error=RecordError(reason, nct_hint(data)))


def _too_large(location: str, line: int | None, kind: str, limit: int, head: bytes
               ) -> SourceItem:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return _bad(location, line, kind, f"larger than {size}: not read", head)


def _read_bounded(stream: Any, limit: int) -> bytes | None:
    """At most ``limit`` bytes of ``stream``, or None (the rest left unread) past that."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def _empty(location: str) -> SourceItem:
    return SourceItem(location, None, "unknown", error=RecordError("the file holds no records"))


def iter_json_document(data: bytes, location: str) -> Iterator[SourceItem]:
    """A .json file: one study, a /studies page, or a list of studies."""
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        yield _bad(location, None, "api_v2", f"malformed JSON: {exc}", data)
        return
    if isinstance(document, dict) and isinstance(document.get("studies"), list):
        studies: list[Any] = document["studies"]
    elif isinstance(document, list):
        studies = document
    else:
        studies = [document]
    for index, study in enumerate(studies):
        line = index + 1 if len(studies) > 1 or "studies" in location else None
        yield SourceItem(location, line, "api_v2", payload=study, raw=orjson.dumps(study))


def iter_json_lines(stream: io.BufferedIOBase | gzip.GzipFile, location: str
                    ) -> Iterator[SourceItem]:
    number, found = 0, False
    while True:
        line = stream.readline(MAX_RECORD_BYTES + 1)
        if not line:
            break
        number += 1
        if number == 1 and line.startswith(_BOM):
            line = line[len(_BOM):]
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            head = line[:4000]
            while line and not line.endswith(b"\n"):
                line = stream.readline(_CHUNK)
            yield _too_large(location, number, "api_v2", MAX_RECORD_BYTES, head)
            found = True
            continue
        stripped = line.strip()
        if not stripped:
            continue
        found = True
        try:
            study = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            yield _bad(location, number, "api_v2", f"malformed JSON: {exc}", stripped)
            continue
        yield SourceItem(location, number, "api_v2", payload=study, raw=stripped)
    if not found:
        yield _empty(location)


def iter_xml(data: bytes, location: str) -> Iterator[SourceItem]:
    yield SourceItem(location, None, "legacy_xml", payload=data, raw=data)


def iter_zip(path: Path) -> Iterator[SourceItem]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        yield SourceItem(str(path), None, "zip", error=RecordError(f"not a readable ZIP: {exc}"))
        return
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            location = f"{path}!{info.filename}"
            name = info.filename.lower()
            try:
                if name.endswith((".jsonl", ".ndjson", ".jsonl.gz")):
                    with archive.open(info) as member:
                        stream = gzip.GzipFile(fileobj=member) if name.endswith(".gz") else member
                        yield from iter_json_lines(stream, location)  # type: ignore[arg-type]
                    continue
                if name.endswith(".zip"):
                    yield SourceItem(location, None, "zip", error=RecordError(
                        "a ZIP inside a ZIP is not read: unpack it and import it on its own"))
                    continue
                if not name.endswith((".json", ".xml")):
                    continue
                with archive.open(info) as member:
                    read = _read_bounded(member, MAX_RECORD_BYTES)
                if read is None:
                    yield _too_large(location, None, "zip", MAX_RECORD_BYTES, b"")
                    continue
                data = read
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
                yield SourceItem(location, None, "zip",
                                 error=RecordError(f"unreadable ZIP member: {exc}"))
                continue
            if name.endswith(".json"):
                yield from iter_json_document(data, location)
            else:
                yield from iter_xml(data, location)


def iter_path(path: Path) -> Iterator[SourceItem]:
    """Every record under one path; directories are walked in name order."""
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            if child.name.lower().endswith(
                    (".json", ".jsonl", ".jsonl.gz", ".ndjson", ".xml", ".zip")):
                yield from iter_path(child)
        return
    name = path.name.lower()
    location = str(path)
    try:
        if name.endswith(".zip"):
            yield from iter_zip(path)
        elif name.endswith((".jsonl.gz", ".ndjson.gz")):
            with gzip.open(path, "rb") as stream:
                yield from iter_json_lines(stream, location)
        elif name.endswith((".jsonl", ".ndjson")):
            with path.open("rb") as stream:
                yield from iter_json_lines(stream, location)
        elif name.endswith((".json", ".xml")):
            with path.open("rb") as handle:
                data = _read_bounded(handle, MAX_DOCUMENT_BYTES)
            if data is None:
                yield _too_large(location, None, "unknown", MAX_DOCUMENT_BYTES, b"")
            elif not data.strip():
                yield _empty(location)
            elif name.endswith(".json"):
                yield from iter_json_document(data, location)
            else:
                yield from iter_xml(data, location)
        else:
            yield SourceItem(location, None, "unknown",
                             error=RecordError("unsupported file type (expected .json, .jsonl, "
                                               ".jsonl.gz, .zip or .xml)"))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        yield SourceItem(location, None, "unknown", error=RecordError(f"unreadable file: {exc}"))
