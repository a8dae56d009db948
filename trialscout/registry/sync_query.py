"""What a sync asks the registry for, in one normalized form.

The same filters, however they were typed, give the same :meth:`SyncQuery.key`, so an
incremental sync finds the previous run of *its* query and an interrupted one is resumed
rather than restarted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from trialscout.registry.enums import OVERALL_STATUSES, legacy_token
from trialscout.registry.sync_errors import SyncConfigError

_SPACES = re.compile(r"\s+")


def _clean_text(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = _SPACES.sub(" ", text).strip()
    return cleaned or None


def parse_statuses(values: Iterable[str]) -> tuple[str, ...]:
    """'recruiting', 'Active, not recruiting', 'RECRUITING,COMPLETED' -> sorted API enum
    values, or a SyncConfigError that lists the valid ones."""
    found: set[str] = set()
    for value in values:
        if legacy_token(value) in OVERALL_STATUSES:
            found.add(legacy_token(value))
            continue
        for part in value.split(","):
            if not part.strip():
                continue
            token = legacy_token(part)
            if token not in OVERALL_STATUSES:
                allowed = ", ".join(sorted(OVERALL_STATUSES))
                raise SyncConfigError(f"unknown status {part.strip()!r}; expected one of: "
                                      f"{allowed}")
            found.add(token)
    return tuple(sorted(found))


@dataclass(frozen=True)
class SyncQuery:
    """The filters of one sync. Build with :meth:`build` so values are normalized."""

    condition: str | None = None
    term: str | None = None
    statuses: tuple[str, ...] = ()

    @classmethod
    def build(cls, condition: str | None = None, term: str | None = None,
              statuses: Iterable[str] = ()) -> SyncQuery:
        return cls(_clean_text(condition), _clean_text(term), parse_statuses(statuses))

    def api_params(self) -> dict[str, str]:
        """The filter part of a ``/studies`` request (no paging, no date range)."""
        params: dict[str, str] = {}
        if self.condition:
            params["query.cond"] = self.condition
        if self.term:
            params["query.term"] = self.term
        if self.statuses:
            params["filter.overallStatus"] = ",".join(self.statuses)
        return params

    def key(self) -> str:
        """sha256 of the normalized filters; search text is case-insensitive, so is the key."""
        normalized = {name: value.casefold() if name.startswith("query.") else value
                      for name, value in self.api_params().items()}
        return hashlib.sha256(json.dumps(normalized, sort_keys=True).encode()).hexdigest()

    def params_json(self) -> str:
        return json.dumps(self.api_params(), sort_keys=True)


def since_after(previous_start: datetime) -> date:
    """The first update date to fetch: a day before the previous run began, for clock skew
    and records posted while it ran."""
    return previous_start.date() - timedelta(days=1)


def since_filter(since: date | str) -> str:
    day = since if isinstance(since, str) else since.isoformat()
    return f"AREA[LastUpdatePostDate]RANGE[{day},MAX]"
