"""Errors a form sends back to the person who filled it in.

Contact inquiries and guide questions both refuse input field by field and both limit how
often one person may send; the web and CLI shells catch these to re-show the form with the
message beside the field, or to answer 429 with ``Retry-After``.
"""

from __future__ import annotations


class FieldError(ValueError):
    """Input the form must send back; ``field`` names the input, ``message`` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class RateLimited(Exception):
    """Too many sends of ``what``; ``retry_after`` is the number of seconds to wait."""

    what = "requests"

    def __init__(self, retry_after: int, scope: str) -> None:
        super().__init__(f"too many {self.what} ({scope}); try again in {retry_after} s")
        self.retry_after = retry_after
        self.scope = scope
