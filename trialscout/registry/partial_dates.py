"""Registry dates that may lack a day or a month ("2021-03", "March 2021").

They are kept as written at their own precision; ``sort_key`` gives the earliest day they
could mean, which is what filters such as "started after" compare against.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_WORDY = re.compile(r"^([A-Za-z]+)\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})$")


class PartialDateError(ValueError):
    pass


def parse_partial_date(text: str) -> str:
    """Normalize a registry date to ISO at its own precision: YYYY, YYYY-MM or YYYY-MM-DD."""
    cleaned = text.strip()
    match = _ISO.match(cleaned)
    if match:
        year, month, day = match.groups()
        _check(int(year), int(month) if month else None, int(day) if day else None, text)
        return cleaned
    match = _WORDY.match(cleaned)
    if match:
        month_name, day, year = match.groups()
        month = _MONTHS.get(month_name.lower())
        if month is None:
            raise PartialDateError(f"unknown month in date {text!r}")
        _check(int(year), month, int(day) if day else None, text)
        if day:
            return f"{int(year):04d}-{month:02d}-{int(day):02d}"
        return f"{int(year):04d}-{month:02d}"
    raise PartialDateError(f"unreadable date {text!r}")


def _check(year: int, month: int | None, day: int | None, text: str) -> None:
    if not 1800 <= year <= 2200:
        raise PartialDateError(f"year out of range in date {text!r}")
    if month is not None and not 1 <= month <= 12:
        raise PartialDateError(f"month out of range in date {text!r}")
    if day is not None and month is not None:
        try:
            date(year, month, day)
        except ValueError as exc:
            raise PartialDateError(f"invalid day in date {text!r}") from exc


def sort_key(value: str | None) -> date | None:
    """The first day a partial date could mean, for ordering and range filters."""
    if not value:
        return None
    parts = [int(p) for p in value.split("-")]
    while len(parts) < 3:
        parts.append(1)
    return date(parts[0], parts[1], parts[2])


PartialDate = Annotated[str, AfterValidator(parse_partial_date)]
