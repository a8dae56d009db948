"""A profile seen from matching: find facts about a concept, in structured fields or the note.

Concept matching follows the vocabulary's is-a links: a patient with type 2 diabetes has
"diabetes", but a patient with "diabetes" (type not stated) neither has nor lacks "type 1
diabetes". Denials work the other way round: "denies diabetes" rules out type 1 as well.
Note sentences are searched with every surface form of the concept and its narrower
concepts, and each hit is checked with ConText (negated, a relative's, hypothetical).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Literal

from trialscout.patients.concepts import ConceptIndex, concept_index, norm
from trialscout.patients.context import Modifier, default_context
from trialscout.patients.model import PatientProfile
from trialscout.patients.sentences import Sentence, split_sentences

Relation = Literal["same", "narrower", "broader", "none"]


@dataclass(frozen=True)
class NoteHit:
    sentence: Sentence
    start: int
    end: int
    negated: bool
    family: bool
    hypothetical: bool
    historical: bool = False

    @property
    def positive(self) -> bool:
        return not (self.negated or self.family or self.hypothetical)


MAX_GRAM = 8
_OTHER = re.compile(r"\b(?:other|another|additional|second|further|new)\W+(?:\w+\W+)?$",
                    re.IGNORECASE)
_TOKEN = re.compile(r"[^\W_]+")


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=8192)
def _concept_forms(concept_ids: frozenset[str], extra: tuple[str, ...], members: bool = True
                   ) -> tuple[frozenset[str], frozenset[str]]:
    """Folded forms (normalized, singular last word) and exact-case abbreviations."""
    index = concept_index()
    folded: set[str] = set()
    exact: set[str] = set()

    def add(form: str) -> None:
        words = norm(form).split()
        if words and (len(" ".join(words)) >= 3):
            words[-1] = _singular(words[-1])
            folded.add(" ".join(words[:MAX_GRAM]))

    for text in extra:
        add(text)
    for cid in concept_ids:
        for member in {cid} | (index.vocab.members(cid) if members else set()):
            concept = index.vocab.concept(member)
            if concept is None:
                continue
            for form in (concept.name, *concept.synonyms):
                add(form)
            exact.update(a.strip() for a in concept.abbreviations if len(a.strip()) >= 2)
    return frozenset(folded), frozenset(exact)


class PatientFacts:
    """Lookups over one profile version at one reference date; remembers facts it used."""

    def __init__(self, profile: PatientProfile, reference_date: date) -> None:
        self.profile = profile
        self.ref = reference_date
        self.index: ConceptIndex = concept_index()
        self.age = profile.age_on(reference_date)
        self.sentences: list[Sentence] = (
            split_sentences(profile.free_text) if profile.free_text else [])
        self._mods: dict[int, list[Modifier]] = {}
        self._grams: dict[str, list[tuple[int, int, int]]] | None = None
        self._exact: dict[str, list[tuple[int, int, int]]] = {}
        self.used: set[str] = set()
        self.trial_concepts: frozenset[str] = frozenset()
        self.registry_ages: tuple[float | None, float | None] = (None, None)
        self._searched: dict[re.Pattern[str], list[tuple[Sentence, Any]]] = {}

    # ---------------------------------------------------------------- concepts
    def relation(self, fact_concept: str | None, target: str) -> Relation:
        """How a fact's concept relates to a criterion's: same, narrower (is-a), broader."""
        if fact_concept is None:
            return "none"
        if fact_concept == target:
            return "same"
        if target in self.index.vocab.ancestors(fact_concept):
            return "narrower"
        if fact_concept in self.index.vocab.ancestors(target):
            return "broader"
        return "none"

    def best_relation(self, fact_concept: str | None, name: str, targets: Sequence[str],
                      target_texts: Sequence[str]) -> Relation:
        found: Relation = "none"
        for target in targets:
            rel = self.relation(fact_concept, target)
            if rel in {"same", "narrower"}:
                return rel
            if rel == "broader":
                found = rel
        if found == "none" and fact_concept is None:
            fact_words = set(norm(name).split())
            for text in target_texts:
                words = set(norm(text).split())
                if words and words <= fact_words:
                    return "narrower"
        return found

    def denies(self, denied_concept: str | None, name: str, targets: Sequence[str],
               target_texts: Sequence[str]) -> bool:
        """A denial rules a target out when it is about the target or something broader."""
        for target in targets:
            if denied_concept is not None and (
                    denied_concept == target
                    or denied_concept in self.index.vocab.ancestors(target)):
                return True
        if denied_concept is None:
            words = set(norm(name).split())
            return any(words and words == set(norm(t).split()) for t in target_texts)
        return False

    # ---------------------------------------------------------------- the note
    def studied(self, concept: str | None) -> bool:
        """Whether a concept is (a kind of) a condition the current trial studies."""
        if concept is None or not self.trial_concepts:
            return False
        if ({concept} | self.index.vocab.ancestors(concept)) & self.trial_concepts:
            return True
        return any(concept in self.index.vocab.ancestors(t) for t in self.trial_concepts)

    def broader_denials(self, targets: Iterable[str]) -> list[NoteHit]:
        """Negated note mentions of a broader concept ("denies diabetes" for type 1)."""
        above: set[str] = set()
        for target in targets:
            above |= self.index.vocab.ancestors(target)
        if not above:
            return []
        return [h for h in self.note_hits(above, members=False)
                if h.negated and not h.family and not _OTHER.search(
                    h.sentence.text[max(0, h.start - 25):h.start])]

    def modifiers(self, sentence: Sentence) -> list[Modifier]:
        if sentence.index not in self._mods:
            self._mods[sentence.index] = default_context().modifiers(sentence.text)
        return self._mods[sentence.index]

    def _index_note(self) -> dict[str, list[tuple[int, int, int]]]:
        """Every word n-gram of the note (folded, last word singular) -> where it occurs."""
        if self._grams is None:
            grams: dict[str, list[tuple[int, int, int]]] = {}
            exact: dict[str, list[tuple[int, int, int]]] = {}
            for position, sentence in enumerate(self.sentences):
                tokens = list(_TOKEN.finditer(sentence.text))
                lowered = [t.group().casefold() for t in tokens]
                for i in range(len(tokens)):
                    exact.setdefault(tokens[i].group(), []).append(
                        (position, tokens[i].start(), tokens[i].end()))
                    for n in range(1, min(MAX_GRAM, len(tokens) - i) + 1):
                        words = lowered[i:i + n]
                        key = " ".join([*words[:-1], _singular(words[-1])])
                        grams.setdefault(key, []).append(
                            (position, tokens[i].start(), tokens[i + n - 1].end()))
            self._grams, self._exact = grams, exact
        return self._grams

    def note_hits(self, targets: Iterable[str], texts: Iterable[str] = (),
                  within: re.Pattern[str] | None = None, members: bool = True
                  ) -> list[NoteHit]:
        """Mentions of the target concepts (and their narrower concepts) in the note."""
        if not self.sentences:
            return []
        folded, exact = _concept_forms(frozenset(targets), tuple(sorted(set(texts))),
                                       members)
        grams = self._index_note()
        spans: dict[tuple[int, int], int] = {}
        for form in folded:
            for position, start, end in grams.get(form, ()):
                key = (position, start)
                spans[key] = max(spans.get(key, 0), end)
        for form in exact:
            for position, start, end in self._exact.get(form, ()):
                key = (position, start)
                spans[key] = max(spans.get(key, 0), end)
        hits = []
        context = default_context()
        last_end: dict[int, int] = {}
        for (position, start), end in sorted(spans.items()):
            if start < last_end.get(position, -1):
                continue
            last_end[position] = end
            sentence = self.sentences[position]
            if within is not None and not within.search(sentence.text):
                continue
            cats = context.categories(sentence.text, start, end, self.modifiers(sentence))
            hits.append(NoteHit(sentence, start, end, "negated" in cats, "family" in cats,
                                "hypothetical" in cats, "historical" in cats))
        return hits

    def note_search(self, pattern: re.Pattern[str]) -> list[tuple[Sentence, Any]]:
        """Sentences where ``pattern`` matches, with the first match (remembered)."""
        found = self._searched.get(pattern)
        if found is None:
            found = []
            for sentence in self.sentences:
                match = pattern.search(sentence.text)
                if match:
                    found.append((sentence, match))
            self._searched[pattern] = found
        return found
