"""Concept lookup for patient facts, over the shared vocabulary (trialscout.vocabulary).

Matching compares a criterion's concept with a patient's facts by concept id and the
vocabulary's is-a parents, so both sides must name concepts the same way: this module is
the one place patient import and matching find concepts in free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from trialscout.vocabulary import Vocabulary, normalize_term, vocabulary


def norm(text: str) -> str:
    """The vocabulary's lookup key (lower case, punctuation as single spaces)."""
    return normalize_term(text)


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    concept: str
    kind: str
    text: str


def _form_pattern(form: str) -> str:
    words = normalize_term(form).split()
    return r"[\W_]*".join(re.escape(w) for w in words)


class ConceptIndex:
    """Finds vocabulary concepts in text; plural forms of folded synonyms match too."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        folded: dict[str, str] = {}
        exact: dict[str, str] = {}
        for form, concept, exact_case in vocab.surface_forms():
            if exact_case:
                exact.setdefault(form.strip(), concept.id)
            else:
                key = normalize_term(form)
                if key:
                    folded.setdefault(key, concept.id)
        self._folded = folded
        self._exact = exact
        forms = sorted(folded, key=len, reverse=True)
        self._folded_re = re.compile(
            r"(?<![\w-])(?:" + "|".join(_form_pattern(f) for f in forms) + r")(?:e?s)?(?![\w-])"
        ) if forms else None
        shorts = sorted(exact, key=len, reverse=True)
        self._exact_re = re.compile(
            r"(?<![\w-])(?:" + "|".join(re.escape(f) for f in shorts) + r")s?(?![\w-])"
        ) if shorts else None

    def lookup(self, term: str) -> str | None:
        """The concept id a whole term names, if the vocabulary knows it."""
        cid = self.vocab.canonical_id(term)
        if cid is not None:
            return cid
        key = normalize_term(term)
        for cut in ("es", "s"):
            if key.endswith(cut) and key[: -len(cut)] in self._folded:
                return self._folded[key[: -len(cut)]]
        return None

    def concept_for(self, name: str, kinds: frozenset[str] | None = None) -> str | None:
        """The concept of a whole name, else of the longest concept mentioned inside it."""
        whole = self.lookup(name)
        if whole is not None:
            return whole
        mentions = [m for m in self.find(name) if kinds is None or m.kind in kinds]
        if not mentions:
            return None
        return max(mentions, key=lambda m: m.end - m.start).concept

    def analyte(self, name: str) -> str:
        """The vocabulary's lab id for an analyte name, else the normalized name itself."""
        cid = self.vocab.canonical_id(name)
        if cid is not None and self.kind(cid) in {"lab", "observation"}:
            return cid
        return normalize_term(name)

    def name(self, cid: str) -> str:
        concept = self.vocab.concept(cid)
        return concept.name if concept else cid

    def kind(self, cid: str) -> str | None:
        concept = self.vocab.concept(cid)
        return concept.kind if concept else None

    def ancestors(self, cid: str) -> set[str]:
        """The concept and everything above it (is-a, transitively)."""
        return {cid} | self.vocab.ancestors(cid)

    def find(self, text: str) -> list[Mention]:
        """Non-overlapping concept mentions in ``text``, longest first."""
        found: list[Mention] = []
        if self._folded_re is not None:
            for m in self._folded_re.finditer(text.casefold()):
                cid = self.lookup(m.group())
                if cid is None:
                    continue
                found.append(Mention(m.start(), m.end(), cid, self.kind(cid) or "condition",
                                     text[m.start():m.end()]))
        if self._exact_re is not None:
            for m in self._exact_re.finditer(text):
                cid = self._exact.get(m.group()) or self._exact.get(m.group()[:-1])
                if cid is None:
                    continue
                found.append(Mention(m.start(), m.end(), cid, self.kind(cid) or "condition",
                                     m.group()))
        found.sort(key=lambda x: (x.start, -(x.end - x.start)))
        kept: list[Mention] = []
        for mention in found:
            if kept and mention.start < kept[-1].end:
                continue
            kept.append(mention)
        return kept


@lru_cache(maxsize=1)
def concept_index() -> ConceptIndex:
    return ConceptIndex(vocabulary())


def canonical(term: str) -> str | None:
    return concept_index().lookup(term)
