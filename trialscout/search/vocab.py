"""Append-only string <-> id maps that a delta segment can extend without copying its base."""

from __future__ import annotations

from collections.abc import Iterable


class Vocab:
    """Ids of ``base`` stay valid; new keys get ids from ``len(base)`` upwards.

    ``display`` keeps, per id, the first spelling seen for a key (facet values are grouped by
    a folded key but shown as written).
    """

    def __init__(self, base: Vocab | None = None) -> None:
        self.base = base
        self.offset = len(base) if base is not None else 0
        self.ids: dict[str, int] = {}
        self.keys: list[str] = []
        self.display: list[str] = []

    @classmethod
    def from_lists(cls, keys: list[str], display: list[str] | None = None, *,
                   base: Vocab | None = None) -> Vocab:
        vocab = cls(base)
        vocab.keys = keys
        vocab.display = display if display is not None else keys
        vocab.ids = {k: vocab.offset + i for i, k in enumerate(keys)}
        return vocab

    def __len__(self) -> int:
        return self.offset + len(self.keys)

    def get(self, key: str) -> int | None:
        if self.base is not None:
            found = self.base.get(key)
            if found is not None:
                return found
        return self.ids.get(key)

    def add(self, key: str, display: str | None = None) -> int:
        found = self.get(key)
        if found is None:
            found = self.offset + len(self.keys)
            self.ids[key] = found
            self.keys.append(key)
            self.display.append(display if display is not None else key)
        return found

    def key(self, i: int) -> str:
        if i < self.offset and self.base is not None:
            return self.base.key(i)
        return self.keys[i - self.offset]

    def label(self, i: int) -> str:
        if i < self.offset and self.base is not None:
            return self.base.label(i)
        return self.display[i - self.offset]

    def items(self) -> Iterable[tuple[int, str]]:
        if self.base is not None:
            yield from self.base.items()
        yield from ((self.offset + i, k) for i, k in enumerate(self.keys))
