"""Query expansion from the shared vocabulary (``trialscout/vocabulary/synonyms.yaml``).

A run of query words that spells a concept's surface form (after folding, splitting and
stemming, so "Type-2 diabetes", "type 2 diabetes" and "TYPE 2 DIABETES" are one key) becomes
"any form of that concept": "T2D" finds trials that say "type 2 diabetes mellitus", and
"Prolia" finds "denosumab". Abbreviations listed as exact-case in the vocabulary expand only
when typed in that case ("ALL", not "all"). Expansion happens at query time only, so the
vocabulary can be extended without rebuilding the index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from trialscout.search.analysis import Analyzer, spellings, words


@dataclass
class SynonymIndex:
    """Maps stemmed word sequences to the concepts they name, and concepts to their forms."""

    analyzer: Analyzer
    stopwords: frozenset[str]
    by_key: dict[tuple[str, ...], set[str]] = field(default_factory=dict)
    by_abbreviation: dict[str, set[str]] = field(default_factory=dict)
    forms: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    max_len: int = 0

    def key(self, text: str) -> tuple[str, ...]:
        pieces = spellings(words(text))[0] if words(text) else []
        return tuple(self.analyzer.stems(pieces))

    def add(self, concept: str, form: str, exact_case: bool) -> None:
        found = words(form)
        if not found:
            return
        self.names.setdefault(concept, form)
        key = self.key(form)
        if exact_case:
            self.by_abbreviation.setdefault(form.strip(), set()).add(concept)
            usable = len(key) > 1 or (len(form.strip()) >= 3
                                      and form.casefold() not in self.stopwords)
        else:
            self.by_key.setdefault(key, set()).add(concept)
            usable = True
        self.max_len = max(self.max_len, len(key))
        if usable:
            known = self.forms.setdefault(concept, [])
            if tuple(found) not in known:
                known.append(tuple(found))

    def concepts(self, key: tuple[str, ...], raw: str | None = None) -> set[str]:
        out = set(self.by_key.get(key, ()))
        if raw is not None:
            out |= self.by_abbreviation.get(raw.strip(), set())
        return out

    def expansions(self, concepts: Iterable[str]) -> list[tuple[str, ...]]:
        """Every form (as folded, unstemmed words) of the given concepts, without repeats."""
        out: list[tuple[str, ...]] = []
        for concept in sorted(concepts):
            for form in self.forms.get(concept, ()):
                if form not in out:
                    out.append(form)
        return out


def build_synonyms(forms: Iterable[tuple[str, str, bool]], analyzer: Analyzer,
                   stopwords: frozenset[str]) -> SynonymIndex:
    """Build from ``(form, concept_id, exact_case)`` triples; a concept's first form is its
    name."""
    index = SynonymIndex(analyzer, stopwords)
    for form, concept, exact in forms:
        index.add(concept, form, exact)
    return index


@cache
def default_synonyms() -> SynonymIndex:
    """The shared vocabulary's index (empty when the vocabulary package is absent)."""
    from trialscout.search.rules import search_rules

    rules = search_rules()
    try:
        from trialscout.vocabulary.synonyms import vocabulary
    except ImportError:  # pragma: no cover - the vocabulary ships with the package
        return SynonymIndex(Analyzer(), rules.stopwords)
    vocab = vocabulary()
    triples = [(form, concept.id, exact) for form, concept, exact in vocab.surface_forms()]
    triples += [(form, concept, False) for form, concept in everyday_names()
                if vocab.concept(concept) is not None]
    return build_synonyms(triples, Analyzer(), rules.stopwords)


def everyday_names() -> list[tuple[str, str]]:
    """Lay names as ``(form, concept_id)``: ``rules/lay_names.yaml`` and the other names
    ("also known as") of the guides about one concept. Added after the vocabulary's own
    forms, so a concept's name stays its vocabulary name."""
    from trialscout.search.rules import lay_names

    names = lay_names()
    try:
        from trialscout.guides.content import bundled_guides
    except ImportError:  # pragma: no cover - guides ship with the package
        return names
    for guide in bundled_guides():
        if len(guide.concepts) == 1:
            names += [(form, guide.concepts[0]) for form in guide.also_known_as]
    return names
