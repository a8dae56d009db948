"""Fast longest-match lookup of word phrases over an item's tokens.

Cue lists (negation, temporal words, sex, comparators...) hold hundreds of phrases. Running
them as regular-expression alternations costs a scan per phrase list per item; looking
token sequences up in a dictionary costs a few hash lookups per token, whatever the list
size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, NamedTuple, TypeVar

from trialscout.criteria.lexicon import TOKEN, Token

P = TypeVar("P")
_JOINERS = frozenset({" ", "-", "/", " / ", " - ", "'", "  "})


class PhraseMatch(NamedTuple, Generic[P]):
    first: int
    last: int
    start: int
    end: int
    payload: P


def phrase_key(phrase: str) -> str:
    return " ".join(m.group().lower() for m in TOKEN.finditer(phrase))


class PhraseMatcher(Generic[P]):
    """Phrases (as token sequences) to payloads; the first payload given for a key wins."""

    def __init__(self, phrases: Iterable[tuple[str, P]]) -> None:
        self.table: dict[str, P] = {}
        self.prefixes: set[str] = set()
        for phrase, payload in phrases:
            key = phrase_key(phrase)
            if not key or key in self.table:
                continue
            self.table[key] = payload
            parts = key.split(" ")
            for n in range(1, len(parts) + 1):
                self.prefixes.add(" ".join(parts[:n]))

    def find(self, text: str, tokens: list[Token]) -> list[PhraseMatch[P]]:
        out: list[PhraseMatch[P]] = []
        n = len(tokens)
        i = 0
        prefixes = self.prefixes
        table = self.table
        while i < n:
            key = tokens[i].low
            if key not in prefixes:
                i += 1
                continue
            best = -1
            payload: P | None = None
            j = i
            while True:
                hit = table.get(key)
                if hit is not None:
                    best, payload = j, hit
                j += 1
                if j >= n or text[tokens[j - 1].end:tokens[j].start] not in _JOINERS:
                    break
                key = key + " " + tokens[j].low
                if key not in prefixes:
                    break
            if best < 0 or payload is None:
                i += 1
                continue
            out.append(PhraseMatch(i, best, tokens[i].start, tokens[best].end, payload))
            i = best + 1
        return out

    def ending_at(self, text: str, tokens: list[Token], last: int, max_words: int = 6
                  ) -> PhraseMatch[P] | None:
        """The longest phrase whose last token is ``tokens[last]``."""
        best: PhraseMatch[P] | None = None
        key = ""
        for first in range(last, max(-1, last - max_words), -1):
            if first < last and text[tokens[first].end:tokens[first + 1].start] not in _JOINERS:
                break
            key = tokens[first].low + (" " + key if key else "")
            hit = self.table.get(key)
            if hit is not None:
                best = PhraseMatch(first, last, tokens[first].start, tokens[last].end, hit)
        return best
