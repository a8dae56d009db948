"""The stored form of a trial's document JSON: a zlib stream in a binary column.

The normalized ``Trial`` JSON was the largest part of a registry-sized store (about half of
the ``trials`` table). JSON of this kind compresses about fourfold, and zlib reads back far
faster than the document is parsed, so the column holds the compressed bytes and
:class:`PackedDocument` turns them back into the same JSON text on every read: code that
selects ``TrialRow.document`` still gets a ``str``.

Parsed criteria (``trial_criteria.document``) use the same type. Rows written before
packing hold text (JSON, or for parsed criteria the older ``z1:`` base85 form); they read
back unchanged, so an old store needs no rewrite.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import Dialect, LargeBinary
from sqlalchemy.types import TypeDecorator

DOCUMENT_LEVEL = 3
ZLIB_FIRST_BYTE = b"x"
_compress_fast: Callable[[bytes, int], bytes] | None
try:
    from isal.isal_zlib import compress as _isal_compress

    _compress_fast = _isal_compress
except ImportError:  # pragma: no cover - isal has wheels for the usual platforms
    _compress_fast = None


def pack_document(document: str, *, dense: bool = False) -> bytes:
    """Compress a document's JSON text: ISA-L when installed (the same zlib format, a few
    times faster to write), or with ``dense`` zlib level 6, which makes repetitive JSON
    such as parsed criteria a sixth smaller again. Any zlib reads both."""
    data = document.encode("utf-8")
    if _compress_fast is not None and not dense:
        return _compress_fast(data, DOCUMENT_LEVEL)
    return zlib.compress(data, 6)


def unpack_document(stored: bytes | str) -> str:
    """The JSON text of a stored document, packed or written before packing.

    A zlib stream (32 KB window) starts with the byte ``x``; text written before (JSON,
    or the older ``z1:`` packing of parsed criteria, which its own reader unpacks) never
    does.
    """
    if isinstance(stored, str):
        return stored
    data = bytes(stored)
    if data[:1] == ZLIB_FIRST_BYTE:
        return zlib.decompress(data).decode("utf-8")
    return data.decode("utf-8")


class PackedDocument(TypeDecorator[str]):
    """A JSON document stored compressed: ``str`` in, ``str`` out.

    Bytes given to it are taken as already packed (the importer's reader process packs
    documents, so the writer does not spend its time on it).
    """

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None or isinstance(value, bytes):
            return value
        return pack_document(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return unpack_document(value)
