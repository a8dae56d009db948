"""Split a clinical note into sentences with their offsets, so evidence can point at them.

Notes that already number their sentences ("0. A 58-year-old woman ...", as in the TrialGPT
sets) keep those numbers; otherwise sentences are numbered from 0 in reading order.

A "sentence" longer than ``MAX_SENTENCE`` characters (a pasted list with no full stops, or
hostile input) is cut at clause boundaries into pieces of at most that length: everything
that reads a sentence (cue scopes, noun phrases, concept mentions) then costs a bounded
amount per piece, so reading a note stays linear in its length. Real clinical sentences are
far shorter, so they are never cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBERED = re.compile(r"^\s*(\d{1,4})\.\s+(?=\S)")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-*•]\s)")
MAX_SENTENCE = 1_000
_LAST_WORD = re.compile(r"([A-Za-z.]+)\.$")
_CLAUSE = re.compile(r"[;,:]\s+")
_SPACE = re.compile(r"\s+")
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
        if len(body) > MAX_SENTENCE:
            return None
        out.append(Sentence(int(match.group(1)), body_start, body_start + len(body), body))
    return out


def _pieces(text: str) -> list[tuple[int, int]]:
    """``text`` as one span, or cut into spans of at most ``MAX_SENTENCE`` characters at
    the last clause break (``;``, ``,``, ``:``) in each, else the last space, else hard."""
    if len(text) <= MAX_SENTENCE:
        return [(0, len(text))]
    out: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > MAX_SENTENCE:
        limit = start + MAX_SENTENCE
        cut = -1
        for pattern in (_CLAUSE, _SPACE):
            for found in pattern.finditer(text, start + MAX_SENTENCE // 2, limit):
                cut = found.end()
            if cut > 0:
                break
        if cut <= start:
            cut = limit
        piece = text[start:cut].rstrip()
        if piece:
            out.append((start, start + len(piece)))
        start = cut
        while start < len(text) and text[start].isspace():
            start += 1
    if start < len(text):
        out.append((start, len(text)))
    return out


def _after_abbreviation(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` ends in an abbreviation ("Dr.", "e.g."); only its last
    few characters are looked at, so a run of abbreviations costs linear time."""
    window = max(start, end - 40)
    last_word = _LAST_WORD.search(text[window:end].rstrip())
    if last_word is None:
        return False
    if last_word.start() == 0 and window > start and (text[window - 1].isalpha()
                                                      or text[window - 1] == "."):
        return False
    return last_word.group(1).lower().rstrip(".") in _ABBREVIATIONS


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` with exact offsets; empty pieces are dropped."""
    numbered = _numbered(text)
    if numbered is not None:
        return numbered
    pieces: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if "\n" not in match.group() and _after_abbreviation(text, start, match.start()):
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
        for cut_start, cut_end in _pieces(stripped):
            out.append(Sentence(len(out), s + cut_start, s + cut_end,
                                stripped[cut_start:cut_end]))
    return out
