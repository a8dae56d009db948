"""API datetimes: naive UTC inside, an explicit offset in JSON, and back again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from trialscout.utc import UtcDateTime


class Stamp(BaseModel):
    at: UtcDateTime


def test_naive_values_are_written_with_their_utc_offset() -> None:
    assert Stamp(at=datetime(2026, 12, 7, 10, 15)).model_dump_json() == \
        '{"at":"2026-12-07T10:15:00+00:00"}'
    schema = Stamp.model_json_schema()["properties"]["at"]
    assert schema["type"] == "string" and schema["format"] == "date-time"


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
       st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_any_offset_reads_back_as_the_same_instant_in_naive_utc(moment: datetime,
                                                                minutes: int) -> None:
    zone = timezone(timedelta(minutes=minutes))
    aware = moment.replace(tzinfo=zone)
    stamp = Stamp(at=aware)
    assert stamp.at.tzinfo is None
    assert stamp.at == aware.astimezone(UTC).replace(tzinfo=None)
    assert Stamp.model_validate_json(stamp.model_dump_json()).at == stamp.at
