"""Walk import paths and yield one item per source record, in constant memory.

Handles API v2 JSON (a single study, a ``/studies`` page, a list), JSON Lines (optionally
gzipped), the bulk ZIP of one JSON file per study, and legacy XML as files, directories
and zips. A record that cannot even be read becomes an item carrying its error, so the
importer can report it and go on.
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


def _hint(data: bytes) -> str | None:
    match = _NCT_HINT.search(data[:4000])
    return match.group().decode() if match else None


def _bad(location: str, line: int | None, kind: str, reason: str, data: bytes) -> SourceItem:
    return SourceItem(location, line, kind, error=RecordError(reason, _hint(data)))


def iter_json_document(data: bytes, location: str) -> Iterator[SourceItem]:
    """A .json file: one study, a /studies page, or a list of studies."""
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
    for number, line in enumerate(stream, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        try:
            study = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            yield _bad(location, number, "api_v2", f"malformed JSON: {exc}", stripped)
            continue
        yield SourceItem(location, number, "api_v2", payload=study, raw=stripped)


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
                if not name.endswith((".json", ".xml")):
                    continue
                data = archive.read(info)
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
        elif name.endswith(".json"):
            yield from iter_json_document(path.read_bytes(), location)
        elif name.endswith(".xml"):
            yield from iter_xml(path.read_bytes(), location)
        else:
            yield SourceItem(location, None, "unknown",
                             error=RecordError("unsupported file type (expected .json, .jsonl, "
                                               ".jsonl.gz, .zip or .xml)"))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        yield SourceItem(location, None, "unknown", error=RecordError(f"unreadable file: {exc}"))
