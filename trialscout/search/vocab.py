"""Append-only string <-> id maps that a delta segment can extend without copying its base."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


class Vocab:
    """Ids of ``base`` stay valid; new keys get ids from ``len(base)`` upwards.

    ``display`` keeps, per id, the first spelling seen for a key (facet values are grouped by
    a folded key but shown as written).
    """

    def __init__(self, base: Vocab | MappedVocab | None = None) -> None:
        self.base = base
        self.offset = len(base) if base is not None else 0
        self.ids: dict[str, int] = {}
        self.keys: list[str] = []
        self.display: list[str] = []

    @classmethod
    def from_lists(cls, keys: list[str], display: list[str] | None = None, *,
                   base: Vocab | MappedVocab | None = None) -> Vocab:
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


_REMEMBERED = 20_000


class MappedVocab:
    """A read-only vocabulary over memory-mapped arrays, shared by every worker.

    ``blob`` holds the keys' UTF-8 bytes back to back, ``offsets`` where each starts (one
    more than the keys), ``order`` the ids sorted by key (UTF-8 byte order is code point
    order, so it is Python's string order). A lookup is a binary search; nothing becomes a
    Python object until it is asked for, which keeps millions of words out of each
    worker's private memory.
    """

    base = None
    offset = 0

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, order: np.ndarray,
                 display: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """``display``: (blob, offsets) of each id's label when it differs from its key
        (facet values: a folded key, shown as first written)."""
        self.blob = blob
        self.offsets = offsets
        self.order = order
        self._display = display
        self.keys = _Keys(self)
        self.display: Sequence[str] = self.keys if display is None else _Labels(self)
        self.sorted_keys = _SortedKeys(self)
        self._found: dict[str, int | None] = {}

    @staticmethod
    def arrays(keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(blob, offsets, order) for ``keys``: what :class:`MappedVocab` maps."""
        encoded = [k.encode("utf-8") for k in keys]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        order = np.asarray(sorted(range(len(encoded)), key=encoded.__getitem__), dtype=np.int64)
        return blob, offsets, order

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _bytes(self, i: int) -> bytes:
        return self.blob[int(self.offsets[i]):int(self.offsets[i + 1])].tobytes()

    def key(self, i: int) -> str:
        return self._bytes(i).decode("utf-8")

    def label(self, i: int) -> str:
        if self._display is None:
            return self.key(i)
        blob, offsets = self._display
        return blob[int(offsets[i]):int(offsets[i + 1])].tobytes().decode("utf-8")

    def lower_bound(self, key: str) -> int:
        """Position in ``order`` of the first key >= ``key``."""
        target = key.encode("utf-8")
        lo, hi = 0, len(self.order)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._bytes(int(self.order[mid])) < target:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def get(self, key: str) -> int | None:
        """The id of ``key`` (None when absent); the words queries ask for are remembered,
        a bounded few, since a search looks up the same ones again and again."""
        if key in self._found:
            return self._found[key]
        found = None
        at = self.lower_bound(key)
        if at < len(self.order):
            i = int(self.order[at])
            if self._bytes(i) == key.encode("utf-8"):
                found = i
        if len(self._found) >= _REMEMBERED:
            self._found.clear()
        self._found[key] = found
        return found

    def items(self) -> Iterable[tuple[int, str]]:
        return ((i, self.key(i)) for i in range(len(self)))


class _Keys(Sequence[str]):
    """Keys by id, decoded on access."""

    def __init__(self, vocab: MappedVocab) -> None:
        self.vocab = vocab

    def __len__(self) -> int:
        return len(self.vocab)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.vocab.key(j) for j in range(*i.indices(len(self)))]
        return self.vocab.key(i if i >= 0 else len(self) + i)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


class _Labels(_Keys):
    """Labels by id, decoded on access."""

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.vocab.label(j) for j in range(*i.indices(len(self)))]
        return self.vocab.label(i if i >= 0 else len(self) + i)


class _SortedKeys(_Keys):
    """Keys in sorted order (what ``bisect`` needs), decoded on access."""

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.vocab.key(int(self.vocab.order[j])) for j in range(*i.indices(len(self)))]
        return self.vocab.key(int(self.vocab.order[i]))


class NctIds(Sequence[str]):
    """NCT ids rebuilt from their numbers (``NCT`` and eight digits), not kept as strings."""

    def __init__(self, nums: np.ndarray) -> None:
        self.nums = nums

    def __len__(self) -> int:
        return len(self.nums)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [f"NCT{int(n):08d}" for n in self.nums[i]]
        return f"NCT{int(self.nums[i]):08d}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    @staticmethod
    def fits(ids: Sequence[str], nums: np.ndarray) -> bool:
        return len(ids) == len(nums) and all(
            f"NCT{int(n):08d}" == i for i, n in zip(ids, nums, strict=True))
