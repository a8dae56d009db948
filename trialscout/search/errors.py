"""Errors a search caller can show to a user as they are."""

from __future__ import annotations


class SearchQueryError(ValueError):
    """The query or a filter cannot be understood; the message says why, in plain words."""


class UnknownPlaceError(SearchQueryError):
    """A "near" place is not in the offline gazetteer; ``suggestions`` lists close names."""

    def __init__(self, place: str, suggestions: list[str]) -> None:
        self.place = place
        self.suggestions = suggestions
        hint = f" Did you mean: {'; '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown place {place!r}: give a city (\"Boston, MA\", \"Paris, "
                         f"France\"), a US state, a country or \"lat,lon\".{hint}")


class IndexNotPublished(RuntimeError):
    """A process that only opens published snapshots (a web worker of a shared deployment)
    found none for this store: ``trialscout index`` has not run yet."""
