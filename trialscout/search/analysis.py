"""Text analysis shared by the index and the query parser, so both see the same terms.

Text is folded (Unicode compatibility form, accents removed, case folded) and split into
runs of letters and digits; a possessive "'s" is dropped; each word is stemmed with the
Snowball English stemmer so plurals and inflections meet ("diabetes"/"diabetic" ->
"diabet"). Letter/digit variants ("covid19" vs "COVID-19", "T2D" vs "T 2 D") are reconciled
at query time (:func:`spellings`), which keeps indexing a plain, fast split.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

import Stemmer

_COMBINING = re.compile(r"[\u0300-\u036f]")
_WORD = re.compile(r"[^\W_]+")
_PIECE = re.compile(r"[^\W\d_]+|\d+")
_APOSTROPHES = ("'", "’", "ʼ")
_ASCII_TABLE = bytes(ord(chr(i).lower()) if chr(i).isalnum() else 32 for i in range(128)) \
    + bytes(32 for _ in range(128))
MAX_SPELLINGS = 16


def fold(text: str) -> str:
    """Case- and accent-insensitive form of ``text`` (also used for facet and place keys)."""
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return text.casefold()


def words(text: str) -> list[str]:
    """The folded words of ``text``, unstemmed, in order; "Crohn's" -> ["crohn"]."""
    if text.isascii():
        found = text.encode("ascii").translate(_ASCII_TABLE).decode("ascii").split()
        if "'" not in text:
            return found
    else:
        found = _WORD.findall(fold(text))
        if not any(a in text for a in _APOSTROPHES):
            return found
    return [w for w in found if w != "s"]


def spellings(tokens: list[str]) -> list[list[str]]:
    """Ways the words of one query word may have been written in a record.

    ["covid", "19"] and ["covid19"] both give [["covid", "19"], ["covid19"]]; ["t2d"] gives
    t2d, t2 d, t 2d and t 2 d. The first spelling is always the fully split one.
    """
    pieces: list[str] = []
    joinable: list[bool] = []
    for token in tokens:
        parts = _PIECE.findall(token) or [token]
        for i, part in enumerate(parts):
            if pieces:
                joinable.append(i > 0 or (part[0].isdigit() != pieces[-1][-1].isdigit()))
            pieces.append(part)
    boundaries = [i for i, ok in enumerate(joinable) if ok]
    if not boundaries:
        return [pieces]
    if 2 ** len(boundaries) > MAX_SPELLINGS:
        merged = "".join(pieces)
        return [pieces, [merged]] if len(tokens) == 1 else [pieces, tokens]
    out: list[list[str]] = []
    for mask in itertools.product((False, True), repeat=len(boundaries)):
        joins = {b for b, join in zip(boundaries, mask, strict=True) if join}
        current = [pieces[0]]
        for i, piece in enumerate(pieces[1:]):
            if i in joins:
                current[-1] += piece
            else:
                current.append(piece)
        out.append(current)
    return out


class Analyzer:
    """Folds, splits and stems; stems are cached because vocabularies are small."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._cache: dict[str, str] = {}

    def stem(self, word: str) -> str:
        stem = self._cache.get(word)
        if stem is None:
            stem = word if word.isdigit() else self._stemmer.stemWord(word)
            if len(self._cache) < 2_000_000:
                self._cache[word] = stem
        return stem

    def stems(self, tokens: list[str]) -> list[str]:
        """Stem many words at once (the index path: one dict lookup per token)."""
        cache = self._cache
        missing = [w for w in set(tokens) if w not in cache]
        if missing:
            for word, stem in zip(missing, self._stemmer.stemWords(missing), strict=True):
                cache[word] = word if word.isdigit() else stem
        return list(map(cache.__getitem__, tokens))

    def terms(self, text: str) -> list[str]:
        return self.stems(words(text))
