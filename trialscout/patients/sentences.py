"""Split a clinical note into sentences with their offsets, so evidence can point at them.

Notes that already number their sentences ("0. A 58-year-old woman ...", as in the TrialGPT
sets) keep those numbers; otherwise sentences are numbered from 0 in reading order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBERED = re.compile(r"^\s*(\d{1,4})\.\s+(?=\S)")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-*•]\s)")
_ABBREVIATIONS = frozenset({
    "dr", "mr", "mrs", "ms", "st", "vs", "e.g", "i.e", "approx", "no", "fig", "pt", "pts",
    "p.o", "b.i.d", "t.i.d", "q.d", "q.i.d", "h.s", "a.m", "p.m", "etc", "inc", "jr", "sr",
    "u.s", "dept", "hosp", "mg", "ml", "yo", "y.o",
})


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int
    end: int
    text: str


def _numbered(text: str) -> list[Sentence] | None:
    lines = [(m.start(), m.group()) for m in re.finditer(r"[^\n]+", text)]
    if len(lines) < 2:
        return None
    out = []
    for offset, line in lines:
        match = _NUMBERED.match(line)
        if match is None:
            return None
        body_start = offset + match.end()
        body = line[match.end():].rstrip()
        out.append(Sentence(int(match.group(1)), body_start, body_start + len(body), body))
    return out


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` with exact offsets; empty pieces are dropped."""
    numbered = _numbered(text)
    if numbered is not None:
        return numbered
    pieces: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start:match.start()].rstrip()
        last_word = re.search(r"([A-Za-z.]+)\.$", before)
        if last_word and last_word.group(1).lower().rstrip(".") in _ABBREVIATIONS \
                and "\n" not in match.group():
            continue
        pieces.append((start, match.start()))
        start = match.end()
    pieces.append((start, len(text)))
    out: list[Sentence] = []
    for begin, end in pieces:
        chunk = text[begin:end]
        stripped = chunk.strip()
        if not stripped:
            continue
        lead = len(chunk) - len(chunk.lstrip())
        s = begin + lead
        out.append(Sentence(len(out), s, s + len(stripped), stripped))
    return out
