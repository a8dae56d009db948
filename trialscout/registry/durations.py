"""Ages in the registry ("18 Years", "6 Months", "N/A") as durations in days.

A missing or "N/A" bound means *no bound*, which is different from zero; callers get None.
"""

from __future__ import annotations

import re

from trialscout.criteria.units import DAYS_PER_UNIT

_UNIT_DAYS = DAYS_PER_UNIT
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+?)s?\s*$")
MAX_AGE_DAYS = 150 * DAYS_PER_UNIT["year"]


class AgeError(ValueError):
    pass


def age_to_days(text: str | None) -> float | None:
    """Parse a registry age; None for a missing bound. Raise AgeError for nonsense."""
    if text is None:
        return None
    cleaned = text.strip()
    if cleaned == "" or cleaned.upper() in {"N/A", "NA", "NONE"}:
        return None
    match = _AGE.match(cleaned)
    if not match:
        raise AgeError(f"unreadable age {text!r}")
    amount, unit = float(match.group(1)), match.group(2).lower()
    if unit not in _UNIT_DAYS:
        raise AgeError(f"unknown age unit in {text!r}")
    days = amount * _UNIT_DAYS[unit]
    if days > MAX_AGE_DAYS:
        raise AgeError(f"absurd age {text!r}")
    return days


def years_to_days(years: float) -> float:
    return years * _UNIT_DAYS["year"]
