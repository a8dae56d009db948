"""Matching a filter value ("diabetes", "Prolia", "Amgen") against facet values.

A facet value matches when the filter's words, stemmed, appear in it as a contiguous run:
condition "osteoporosis" matches "Postmenopausal Osteoporosis". The filter is first widened
to every form of the concept it names, so condition "T2D" matches "Diabetes Mellitus,
Type 2" and intervention "Prolia" matches "Denosumab".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trialscout.search.analysis import Analyzer, spellings, words
from trialscout.search.synonyms import SynonymIndex
from trialscout.search.vocab import MappedVocab, Vocab


def stem_key(analyzer: Analyzer, text: str) -> tuple[str, ...]:
    found = words(text)
    return tuple(analyzer.stems(spellings(found)[0])) if found else ()


def _contains(hay: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    if n > len(hay):
        return False
    first = needle[0]
    return any(hay[i] == first and hay[i:i + n] == needle for i in range(len(hay) - n + 1))


@dataclass
class ValueIndex:
    """Stemmed words of every value in one vocabulary, with an inverted list per word."""

    analyzer: Analyzer
    offset: int = 0
    keys: list[tuple[str, ...]] = field(default_factory=list)
    inverted: dict[str, list[int]] = field(default_factory=dict)

    def extend(self, vocab: Vocab | MappedVocab, start: int) -> None:
        """Index the values ``start..len(vocab)``; ``start`` must follow what is indexed."""
        if not self.keys:
            self.offset = start
        for vid in range(start, len(vocab)):
            key = stem_key(self.analyzer, vocab.key(vid))
            self.keys.append(key)
            for word in set(key):
                self.inverted.setdefault(word, []).append(vid)

    def match(self, needle: tuple[str, ...]) -> set[int]:
        if not needle:
            return set()
        lists = [self.inverted.get(w) for w in set(needle)]
        if any(lst is None for lst in lists):
            return set()
        lists.sort(key=len)  # type: ignore[arg-type]
        found = set(lists[0] or ())
        for lst in lists[1:]:
            found.intersection_update(lst or ())
            if not found:
                return found
        return {vid for vid in found if _contains(self.keys[vid - self.offset], needle)}


def needles(text: str, analyzer: Analyzer, synonyms: SynonymIndex) -> list[tuple[str, ...]]:
    """The filter text's own words plus every form of the concept it names."""
    own = stem_key(analyzer, text)
    out = [own] if own else []
    concepts = synonyms.concepts(own, text)
    for form in synonyms.expansions(concepts):
        key = tuple(analyzer.stems(spellings(list(form))[0]))
        if key and key not in out:
            out.append(key)
    return out


def matching_values(index: ValueIndex, text: str, analyzer: Analyzer,
                    synonyms: SynonymIndex) -> np.ndarray:
    found: set[int] = set()
    for needle in needles(text, analyzer, synonyms):
        found |= index.match(needle)
    return np.asarray(sorted(found), dtype=np.int64)
