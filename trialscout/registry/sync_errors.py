"""Why a sync stopped. The CLI shows these as one readable line, never a traceback."""

from __future__ import annotations


class SyncError(Exception):
    """A sync could not go on; committed pages stay stored and the run can be resumed."""


class SyncConfigError(SyncError, ValueError):
    """The sync was asked for something it cannot do (bad status, bad base URL, page size)."""


class FetchError(SyncError):
    """A page request failed. ``retryable`` says whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


class SyncGaveUp(SyncError):
    """Every attempt at one page failed; the last reason is kept for the message."""

    def __init__(self, page: int, attempts: int, reason: str) -> None:
        super().__init__(f"gave up on page {page} after {attempts} attempt"
                         f"{'s' if attempts != 1 else ''}: {reason}")
        self.page = page
        self.attempts = attempts
        self.reason = reason
