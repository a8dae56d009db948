"""Why a record was turned away. Readers and parsers raise it; the importer reports it."""

from __future__ import annotations


class RecordError(ValueError):
    """One source record cannot be used; the batch it came in goes on without it."""

    def __init__(self, reason: str, nct_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.nct_id = nct_id
