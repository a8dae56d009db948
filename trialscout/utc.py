"""Datetimes at the API boundary: naive UTC inside, explicit UTC in JSON.

The store keeps naive UTC datetimes (SQLite has no time zones), so models hold them naive
and code compares them with a naive UTC "now". JSON must still say which zone a time is in
(RFC 3339 ``date-time``, as the OpenAPI schema promises), so serialization adds the offset,
and validation turns any offset back into naive UTC: a value read back from stored JSON
compares like one from a column.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema


def naive_utc(value: datetime) -> datetime:
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def utc_text(value: datetime) -> str:
    return naive_utc(value).replace(tzinfo=UTC).isoformat()


UtcDateTime = Annotated[
    datetime,
    AfterValidator(naive_utc),
    PlainSerializer(utc_text, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
