"""Where in a note's text things are: the words before a position and the spans already
claimed by a mention, each answered without rescanning the text (so that reading a note
stays linear in its length)."""

from __future__ import annotations

import bisect
import re

_WORD = re.compile(r"[\w'/+-]+")


def words_before(text: str, position: int, count: int) -> list[re.Match[str]]:
    """The last ``count`` words of ``text[:position]``, nearest first.

    Reads a window that widens until it holds ``count`` whole words (or reaches the
    start), so the cost depends on those words, not on ``position``."""
    size = 64
    while True:
        low = max(0, position - size)
        words = list(_WORD.finditer(text, low, position))
        if low > 0 and words and words[0].start() == low:
            words = words[1:]
        if len(words) >= count or low == 0:
            return words[::-1][:count]
        size *= 4


class Spans:
    """Spans of a sentence already claimed by a mention, for overlap tests in log time.

    ``force`` records a span unconditionally (spans may then overlap); ``take`` records a
    span only when it overlaps none recorded so far, and says whether it did."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._longest = 0

    def force(self, start: int, end: int) -> None:
        at = bisect.bisect_right(self._starts, start)
        self._starts.insert(at, start)
        self._ends.insert(at, end)
        self._longest = max(self._longest, end - start)

    def overlaps(self, start: int, end: int) -> bool:
        at = bisect.bisect_left(self._starts, end)
        low = start - self._longest
        while at > 0 and self._starts[at - 1] >= low:
            at -= 1
            if self._ends[at] > start:
                return True
        return False

    def take(self, start: int, end: int) -> bool:
        if self.overlaps(start, end):
            return False
        self.force(start, end)
        return True


class Containing:
    """Of the head spans, the first (in reading order) that strictly widens a mention."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        order = sorted(range(len(spans)), key=lambda i: spans[i][0])
        self._spans = spans
        self._order = order
        self._starts = [spans[i][0] for i in order]
        self._longest = max((e - s for s, e in spans), default=0)

    def first(self, start: int, end: int, text: str) -> tuple[int, int] | None:
        at = bisect.bisect_left(self._starts, start)
        low = end - self._longest
        best: int | None = None
        while at > 0 and self._starts[at - 1] >= low:
            at -= 1
            index = self._order[at]
            s, e = self._spans[index]
            if end <= e and "," not in text[s:start] and (best is None or index < best):
                best = index
        return None if best is None else self._spans[best]
