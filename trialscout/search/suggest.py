""""Did you mean": spelling suggestions from the index's own words.

When a query finds nothing, each of its words that no indexed trial contains is compared
with the words the index does contain (same first letter, similar length, difflib ratio at
least ``MIN_RATIO``); the closest one replaces it. The suggestion is offered only when the
corrected query finds trials, so it never leads to another empty page. The candidates are
the index's own vocabulary, so a suggestion is always a word some trial uses.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

import numpy as np

from trialscout.search.analysis import words
from trialscout.search.segment import Segment
from trialscout.search.view import IndexView
from trialscout.search.vocab import MappedVocab

MIN_RATIO = 0.8
MIN_LENGTH = 4
_KEY = "suggest_by_initial"
_WORD = re.compile(r"[a-z]+")


class _Words:
    """A segment's words by first letter, built on first use and kept with the segment."""

    def __init__(self, segment: Segment) -> None:
        self.all = frozenset(segment.surface_sorted)
        self.by_initial: dict[str, list[str]] = {}
        for word in segment.surface_sorted:
            if len(word) >= MIN_LENGTH and _WORD.fullmatch(word):
                self.by_initial.setdefault(word[0], []).append(word)


def _words(segment: Segment) -> _Words:
    cached = segment.extra.get(_KEY)
    if isinstance(cached, _Words):
        return cached
    made = segment.extra[_KEY] = _Words(segment)
    return made


def _known(view: IndexView, word: str) -> bool:
    return any(seg.surface.get(word) is not None if isinstance(seg.surface, MappedVocab)
               else word in _words(seg).all for seg in view.segments)


def _mapped_candidates(vocab: MappedVocab, word: str) -> list[str]:
    """Words of a memory-mapped vocabulary with ``word``'s initial and a length within two
    that could pass difflib's cutoff, found in its sorted order without decoding the
    others: only lowercase ASCII words of ``MIN_LENGTH`` letters or more whose letters
    overlap ``word``'s enough (difflib's own ``quick_ratio`` bound, computed for all the
    candidates at once) are decoded and compared by difflib."""
    lo = vocab.lower_bound(word[:1])
    hi = vocab.lower_bound(word[:1] + "\uffff")
    ids = np.asarray(vocab.order[lo:hi])
    size = vocab.offsets[ids + 1] - vocab.offsets[ids]
    keep = (np.abs(size - len(word)) <= 2) & (size >= MIN_LENGTH)
    near, size = ids[keep], size[keep]
    if len(near) and word.isascii():
        near = near[_letter_bound(vocab, near, size, word)]
    found = (vocab.key(int(i)) for i in near)
    return [w for w in found if len(w) >= MIN_LENGTH and _WORD.fullmatch(w)]


def _letter_bound(vocab: MappedVocab, ids: np.ndarray, size: np.ndarray, word: str
                  ) -> np.ndarray:
    """Mask over ``ids``: words of letters a-z only whose letters shared with ``word``
    (counted with repeats) give ``2 * shared / (len + len(word)) >= MIN_RATIO``, the
    upper bound difflib checks before its full ratio."""
    starts = vocab.offsets[ids]
    total = int(size.sum())
    at = np.repeat(starts - (np.cumsum(size) - size), size) + np.arange(total)
    letters = vocab.blob[at].astype(np.int64) - ord("a")
    owner = np.repeat(np.arange(len(ids)), size)
    plain = np.ones(len(ids), dtype=bool)
    plain[owner[(letters < 0) | (letters >= 26)]] = False
    letters = np.clip(letters, 0, 25)
    counts = np.bincount(owner * 26 + letters, minlength=len(ids) * 26).reshape(-1, 26)
    mine = np.bincount(np.frombuffer(word.encode("ascii"), dtype=np.uint8).astype(np.int64)
                       - ord("a"), minlength=26)[:26] if _WORD.fullmatch(word) else None
    if mine is None:
        return plain
    shared = np.minimum(counts, mine).sum(axis=1)
    return plain & (2.0 * shared / (size + len(word)) >= MIN_RATIO)


def closest_word(view: IndexView, word: str) -> str | None:
    """The indexed word closest to ``word`` (None when none is close enough)."""
    candidates: set[str] = set()
    for segment in view.segments:
        if isinstance(segment.surface, MappedVocab):
            candidates.update(_mapped_candidates(segment.surface, word))
            continue
        for known in _words(segment).by_initial.get(word[:1], ()):
            if abs(len(known) - len(word)) <= 2:
                candidates.add(known)
    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=MIN_RATIO)
    return found[0] if found else None


def suggest(view: IndexView, query: str, finds: Callable[[str], bool]) -> str | None:
    """A corrected ``query`` that ``finds`` trials, or None."""
    changed = False
    out: list[str] = []
    for token in query.split():
        folded = words(token)
        if (len(folded) == 1 and len(folded[0]) >= MIN_LENGTH and _WORD.fullmatch(folded[0])
                and not _known(view, folded[0])):
            better = closest_word(view, folded[0])
            if better is not None:
                out.append(better)
                changed = True
                continue
        out.append(token)
    if not changed:
        return None
    corrected = " ".join(out)
    return corrected if finds(corrected) else None
