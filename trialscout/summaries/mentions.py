"""Find the vocabulary concepts a piece of text names.

Summaries, similar trials and guides all need the same answer to "which drugs and
conditions does this text talk about?", and they must agree with each other, so one matcher
over the shared vocabulary serves all three. Matching is on whole words (never inside a
word), case-insensitive for names and synonyms, exact-case for abbreviations, and tolerant of
a plural on the last word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from trialscout.vocabulary import Vocabulary, normalize_term, vocabulary

_TOKEN = re.compile(r"[^\W_]+")
FACT_KINDS = frozenset({"condition", "drug", "drug_class"})


@dataclass(frozen=True)
class Mention:
    concept_id: str
    kind: str
    start: int
    end: int
    text: str


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


class ConceptMatcher:
    """An n-gram index of every surface form in a vocabulary."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self._folded: dict[tuple[str, ...], str] = {}
        self._exact: dict[tuple[str, ...], str] = {}
        self._lengths: dict[str, set[int]] = {}
        for form, concept, exact_case in vocab.surface_forms():
            if exact_case:
                key = tuple(t for t, _, _ in _tokens(form))
            else:
                key = tuple(normalize_term(form).split())
            if not key:
                continue
            table = self._exact if exact_case else self._folded
            table.setdefault(key, concept.id)
            self._lengths.setdefault(key[0].casefold(), set()).add(len(key))

    def _lookup(self, raw: list[str], folded: list[str]) -> str | None:
        key = tuple(folded)
        cid = self._folded.get(key)
        if cid is None:
            cid = self._exact.get(tuple(raw))
        if cid is None:
            last = folded[-1]
            for cut in ("es", "s"):
                if last.endswith(cut) and len(last) > len(cut) + 2:
                    cid = self._folded.get((*key[:-1], last[: -len(cut)]))
                    if cid:
                        break
        return cid

    def find(self, text: str, *, kinds: Iterable[str] | None = None,
             overlapping: bool = False) -> list[Mention]:
        """Mentions in ``text``; the longest wins unless ``overlapping`` asks for all."""
        wanted = frozenset(kinds) if kinds is not None else None
        toks = _tokens(text)
        raw = [t for t, _, _ in toks]
        folded = [t.casefold() for t in raw]
        out: list[Mention] = []
        i = 0
        while i < len(toks):
            lengths = sorted(self._lengths.get(folded[i], ()), reverse=True)
            best_end = i
            for n in lengths:
                if i + n > len(toks):
                    continue
                cid = self._lookup(raw[i:i + n], folded[i:i + n])
                if cid is None:
                    continue
                concept = self.vocab.by_id[cid]
                if wanted is not None and concept.kind not in wanted:
                    continue
                start, end = toks[i][1], toks[i + n - 1][2]
                out.append(Mention(cid, concept.kind, start, end, text[start:end]))
                best_end = max(best_end, i + n)
                if not overlapping:
                    break
            i = best_end if (best_end > i and not overlapping) else i + 1
        return out

    def concept_ids(self, text: str, *, kinds: Iterable[str] | None = None,
                    overlapping: bool = False) -> set[str]:
        return {m.concept_id for m in self.find(text, kinds=kinds, overlapping=overlapping)}


@lru_cache(maxsize=1)
def matcher() -> ConceptMatcher:
    """The matcher over the bundled vocabulary, built on first use."""
    return ConceptMatcher(vocabulary())
