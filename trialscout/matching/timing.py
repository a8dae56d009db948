"""Whether something in the record happened in the time a criterion asks about: windows
("within 6 months", "more than 2 years ago", "currently") and durations."""

from __future__ import annotations

from datetime import date, timedelta

from trialscout.criteria.model import TimeWindow
from trialscout.matching.outcome import SYMBOL, UNIT_DAYS, compare


def window_days(window: TimeWindow | None) -> float | None:
    if window is None:
        return None
    if window.days is not None:
        return window.days
    if window.amount is not None and window.unit is not None:
        return window.amount * UNIT_DAYS[window.unit]
    return None



def timing_ok(window: TimeWindow | None, start: date | None, end: date | None,
               active: bool | None, ref: date, event: bool) -> bool | None:
    """Whether something that happened (start..end, or still ``active``) fits the window."""
    if window is None or window.relation == "ever":
        return True
    days = window_days(window)
    if window.relation == "current":
        if end is not None and end < ref:
            return False
        return True if active else None
    if window.relation == "within":
        if days is None:
            return None
        cutoff = ref - timedelta(days=days)
        if event:
            moment = end or start
            return None if moment is None else moment >= cutoff
        if end is not None:
            return end >= cutoff
        if active:
            return True
        if start is not None and start >= cutoff:
            return True
        return None
    if window.relation == "before":
        if days is None or start is None:
            return None
        return start <= ref - timedelta(days=days)
    if window.relation == "duration":
        if days is None or start is None:
            return None
        return compare(float((ref - start).days), window.comparator or "ge", days)
    return None



def window_text(window: TimeWindow) -> str:
    if window.relation == "current":
        return " (currently)"
    if window.relation == "ever":
        return ""
    amount = f"{window.amount:g} {window.unit}s" if window.amount is not None and \
        window.unit else "the stated time"
    return {"within": f" within {amount}", "before": f" more than {amount} ago",
            "duration": f" for {SYMBOL.get(window.comparator or 'ge', '≥')} {amount}"}.get(
        window.relation, "")

