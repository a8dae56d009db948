"""Fast longest-match lookup of word phrases over an item's tokens.

Cue lists (negation, temporal words, sex, comparators...) hold hundreds of phrases. Running
them as regular-expression alternations costs a scan per phrase list per item; looking
token sequences up in a dictionary costs a few hash lookups per token, whatever the list
size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import compress, count
from operator import itemgetter
from typing import Final, Generic, NamedTuple, TypeVar

from trialscout.criteria.tokens import TOKEN, Token

P = TypeVar("P")
_JOINERS: Final = frozenset({" ", "-", "/", " / ", " - ", "'", "  "})
_LOW: Final = itemgetter(0)


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
        """Longest non-overlapping phrases, left to right."""
        out: list[PhraseMatch[P]] = []
        prefixes = self.prefixes
        after = 0
        for i, tok in enumerate(tokens):
            if i < after or tok.low not in prefixes:
                continue
            match = self.longest_at(text, tokens, i)
            if match is not None:
                out.append(match)
                after = match.last + 1
        return out

    def longest_at(self, text: str, tokens: list[Token], i: int) -> PhraseMatch[P] | None:
        """The longest phrase starting at ``tokens[i]``, if any."""
        prefixes = self.prefixes
        table = self.table
        n = len(tokens)
        key = tokens[i].low
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
            return None
        return PhraseMatch(i, best, tokens[i].start, tokens[best].end, payload)

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


class PhraseSet(Generic[P]):
    """Several phrase matchers run in one pass over the tokens.

    ``find`` returns, for each matcher in order, exactly what its own ``find`` would: the
    pass only visits the tokens that start a phrase of some matcher.
    """

    def __init__(self, matchers: Sequence[PhraseMatcher[P]]) -> None:
        self.matchers = list(matchers)
        first: dict[str, list[tuple[int, P | None]]] = {}
        for index, matcher in enumerate(self.matchers):
            heads = {key.split(" ", 1)[0] for key in matcher.prefixes if " " in key}
            for key in matcher.prefixes:
                if " " not in key:
                    # a word that starts no longer phrase matches alone or not at all:
                    # its payload is known here (None: look further on)
                    single = None if key in heads else matcher.table.get(key)
                    first.setdefault(key, []).append((index, single))
        self.first = {key: tuple(plan) for key, plan in first.items()}
        self.first_words = frozenset(self.first)

    def find(self, text: str, tokens: list[Token], words: set[str] | None = None
             ) -> list[list[PhraseMatch[P]]]:
        """Each matcher's matches (``words``: the tokens' lows, if known)."""
        results: list[list[PhraseMatch[P]]] = [[] for _ in self.matchers]
        first = self.first
        hits = (words if words is not None else {t.low for t in tokens}) & self.first_words
        if not hits:
            return results
        starts = compress(count(), map(hits.__contains__, map(_LOW, tokens)))
        matchers = self.matchers
        after = [0] * len(matchers)
        for i in starts:
            tok = tokens[i]
            for index, single in first[tok.low]:
                if i < after[index]:
                    continue
                if single is not None:
                    results[index].append(PhraseMatch(i, i, tok.start, tok.end, single))
                    after[index] = i + 1
                    continue
                match = matchers[index].longest_at(text, tokens, i)
                if match is not None:
                    results[index].append(match)
                    after[index] = match.last + 1
        return results
