"""Sentences that every note of a benchmark set carries, and the notes without them.

Some benchmark sets close every patient note with the same sentence (a consent and
compliance statement the set's authors added). Real notes do not carry it, and a criterion
about consent or compliance would be decided by it, so the criterion-matching evaluation
reports each set twice: with the notes as given and with such sentences removed. The rule
is general, not a list of phrases: a sentence is boilerplate when every distinct note of
the set carries it (compared case- and space-insensitively, without the sentence
numbering), and only a set of at least :data:`MIN_NOTES` distinct notes is looked at, so
that a small set's real sentences are never taken for boilerplate.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

MIN_NOTES = 3
_NUMBER = re.compile(r"^\s*\d+\s*[.)]\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


def _units(note: str) -> list[list[str]]:
    """The note's lines, each split into its sentences (text kept as written)."""
    return [_SENTENCE_END.split(line) for line in note.splitlines()]


def normalized(sentence: str) -> str:
    return " ".join(_NUMBER.sub("", sentence).casefold().split())


def shared_sentences(notes: Iterable[str], min_notes: int = MIN_NOTES) -> frozenset[str]:
    """The normalized sentences every distinct note carries (none for a small set)."""
    distinct = list(dict.fromkeys(n for n in notes if n.strip()))
    if len(distinct) < min_notes:
        return frozenset()
    counts: Counter[str] = Counter()
    for note in distinct:
        counts.update({normalized(s) for line in _units(note) for s in line if normalized(s)})
    return frozenset(s for s, n in counts.items() if n == len(distinct))


def without(note: str, shared: frozenset[str]) -> str:
    """``note`` without its shared sentences; lines (and their numbers) otherwise kept."""
    if not shared:
        return note
    lines = []
    for line in _units(note):
        kept = [s for s in line if normalized(s) not in shared]
        if any(normalized(s) for s in kept):
            lines.append(" ".join(kept))
    return "\n".join(lines)
