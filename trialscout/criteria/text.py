"""Cleaning an item's text for matching while keeping the way back to source offsets.

Registry text carries markdown escapes (``\\>``), HTML entities, several spellings of
"greater than or equal" (``>=``, ``\\>/=``, ``≥``) and wrapped lines. Patterns run on a
cleaned copy; :class:`Clean` maps any span of the copy back to the original text, so
evidence spans always point at what the registry wrote.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Final

_ONE_TO_ONE: Final = str.maketrans({
    "\n": " ", "\r": " ", "\t": " ", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "﹣": "-", "－": "-",
    "＞": ">", "＜": "<", "≧": "≥", "≦": "≤", "⩾": "≥", "⩽": "≤", "＝": "=",
    "×": "x", "✕": "x", "’": "'", "‘": "'", "`": "'", "“": '"', "”": '"',
    "µ": "u", "μ": "u", "²": "2", "³": "3", "⁹": "9", "⁶": "6", "¹": "1", "⁰": "0", "⁻": "-",
    "：": ":", "；": ";", "，": ",", "（": "(", "）": ")", "·": ".", "・": " ", "º": "°",
})
_MULTI: Final = re.compile(
    r"(?P<ge>\\?>\s?/?\s?\\?=|=\s?\\?>|\\?>\s?or\s?=)"
    r"|(?P<le>\\?<\s?/?\s?\\?=|=\s?\\?<|\\?<\s?or\s?=)"
    r"|\\(?P<esc>[<>=*_#+\-.()\[\]!~^|&%$'\"/])"
    r"|&(?P<ent>gt|lt|amp|ge|le|quot|nbsp|#39|apos);"
    r"|(?P<ws>\s{2,})"
)
_TRANSLATED: Final = frozenset(map(chr, _ONE_TO_ONE))
_MULTI_CHARS: Final = re.compile(r"[<>\\&]")
_ENTITIES: Final = {"gt": ">", "lt": "<", "amp": "&", "ge": "≥", "le": "≤", "quot": '"',
             "nbsp": " ",
             "#39": "'", "apos": "'"}


class Clean:
    """A cleaned copy of ``source[start:end]`` and its offset map.

    A plain class rather than a dataclass, as :class:`~trialscout.criteria.mentions.Mention`
    (one is made per item).
    """

    __slots__ = ("_literal", "_norm", "_src", "_src_end", "start", "text")

    def __init__(self, text: str, start: int, norm: list[int] | None = None,
                 src: list[int] | None = None, src_end: list[int] | None = None,
                 literal: list[bool] | None = None) -> None:
        self.text = text
        self.start = start
        self._norm = norm
        self._src = src
        self._src_end = src_end
        self._literal = literal

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Source offsets of the cleaned span ``[a, b)``."""
        if self._norm is None:
            return self.start + a, self.start + b
        return self._to_source(a, False), self._to_source(b - 1, True) if b > a else \
            self._to_source(a, False)

    def _to_source(self, pos: int, end: bool) -> int:
        assert self._norm is not None and self._src is not None
        assert self._src_end is not None and self._literal is not None
        i = max(0, bisect_right(self._norm, pos) - 1)
        if self._literal[i]:
            return self.start + self._src[i] + (pos - self._norm[i]) + (1 if end else 0)
        return self.start + (self._src_end[i] if end else self._src[i])


def clean(source: str, start: int = 0, end: int | None = None) -> Clean:
    """Clean ``source[start:end]``: one spelling per comparator, no escapes, single spaces."""
    raw = source[start:end]
    if not _TRANSLATED.isdisjoint(raw):
        raw = raw.translate(_ONE_TO_ONE)
    # Every _MULTI alternative needs one of "<>\\&" or two whitespace characters in a row;
    # both checks scan much faster than the alternation.
    if (_MULTI_CHARS.search(raw) is None and " ".join(raw.split()) == raw) or \
            _MULTI.search(raw) is None:
        return Clean(raw, start)
    out: list[str] = []
    norm: list[int] = []
    src: list[int] = []
    src_end: list[int] = []
    literal: list[bool] = []
    n = 0
    last = 0
    for match in _MULTI.finditer(raw):
        a, b = match.span()
        if a > last:
            norm.append(n)
            src.append(last)
            src_end.append(a)
            literal.append(True)
            out.append(raw[last:a])
            n += a - last
        if match.group("ge"):
            piece = "≥"
        elif match.group("le"):
            piece = "≤"
        elif match.group("esc"):
            piece = match.group("esc")
        elif match.group("ent"):
            piece = _ENTITIES[match.group("ent")]
        else:
            piece = " "
        norm.append(n)
        src.append(a)
        src_end.append(b)
        literal.append(False)
        out.append(piece)
        n += len(piece)
        last = b
    if last < len(raw):
        norm.append(n)
        src.append(last)
        src_end.append(len(raw))
        literal.append(True)
        out.append(raw[last:])
    return Clean("".join(out), start, norm, src, src_end, literal)
