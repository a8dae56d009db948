"""A profile seen from matching: find facts about a concept, in structured fields or the note.

Concept matching follows the vocabulary's is-a links: a patient with type 2 diabetes has
"diabetes", but a patient with "diabetes" (type not stated) neither has nor lacks "type 1
diabetes". Denials work the other way round: "denies diabetes" rules out type 1 as well.
Note sentences are searched with every surface form of the concept and its narrower
concepts, and each hit is checked with ConText (negated, a relative's, hypothetical).

The knowledge base (:mod:`trialscout.knowledge`) extends those is-a links: a member of a
drug class (prednisone, or its brand Deltasone) is a kind of the class (glucocorticoids), a
MeSH descendant (Kaposi sarcoma) a kind of its ancestor (malignancy), a regimen (FOLFOX) an
exposure to each of its drugs; the note is searched for every name of every such kind. It
also holds the conditions a measurement defines (T-score <= -2.5: osteoporosis), used when
the record says nothing about the condition itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Literal

from trialscout.criteria import rules as criteria_rules
from trialscout.knowledge import Definition, KnowledgeBase, knowledge
from trialscout.matching.units import UnitError, convert
from trialscout.patients.concepts import ConceptIndex, concept_index, norm
from trialscout.patients.context import Modifier, default_context
from trialscout.patients.model import Measurement, PatientProfile
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


@lru_cache(maxsize=1)
def _note_stopwords() -> frozenset[str]:
    """Single words that are ordinary English in a note, never a concept's whole name."""
    spec = criteria_rules.entities()
    return frozenset(spec.stopwords) | frozenset(spec.generic_condition_heads)


@lru_cache(maxsize=65_536)
def _node_forms(nid: str) -> frozenset[str]:
    """A knowledge node's names as note n-gram keys (last word singular); single words
    that are ordinary English are left out."""
    node = knowledge().node(nid)
    if node is None:
        return frozenset()
    stop = _note_stopwords()
    out: set[str] = set()
    for key in node.forms:
        head, _, last = key.rpartition(" ")
        if head:
            if head.count(" ") < MAX_GRAM - 1:
                out.add(f"{head} {_singular(last)}")
        elif key not in stop and len(key) >= 3:
            out.add(_singular(key))
    return frozenset(out)


@lru_cache(maxsize=8192)
def _concept_forms(concept_ids: frozenset[str], extra: tuple[str, ...], members: bool = True,
                   known: bool = True) -> tuple[frozenset[str], frozenset[str]]:
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
    if known:
        kb = knowledge()
        nodes = kb.expand(concept_ids) if members else frozenset(
            n for n in (kb.node_id(c) for c in concept_ids) if n is not None)
        for nid in nodes:
            folded.update(_node_forms(nid))
    for cid in concept_ids:
        for member in {cid} | (index.vocab.members(cid) if members else set()):
            concept = index.vocab.concept(member)
            if concept is None:
                continue
            for form in (concept.name, *concept.synonyms):
                add(form)
            exact.update(a.strip() for a in concept.abbreviations if len(a.strip()) >= 2)
    return frozenset(folded), frozenset(exact)


@lru_cache(maxsize=16_384)
def named_concept(name: str) -> str | None:
    """The concept a fact's name names: the whole name ("Deltasone"), else the longest run
    of its words that names one ("prednisone 10 mg daily")."""
    kb = knowledge()
    whole = kb.resolve(name)
    if whole is not None:
        return whole
    words = norm(name).split()
    stop = _note_stopwords()
    for n in range(min(len(words), MAX_GRAM), 0, -1):
        for i in range(len(words) - n + 1):
            if n == 1 and (words[i] in stop or len(words[i]) < 4):
                continue
            found = kb.resolve(" ".join(words[i:i + n]))
            if found is not None:
                return found
    return None


class PatientFacts:
    """Lookups over one profile version at one reference date; remembers facts it used."""

    def __init__(self, profile: PatientProfile, reference_date: date) -> None:
        self.profile = profile
        self.ref = reference_date
        self.index: ConceptIndex = concept_index()
        self.kb: KnowledgeBase = knowledge()
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
        if self.kb.is_a(fact_concept, target):
            return "narrower"
        if self.kb.is_a(target, fact_concept):
            return "broader"
        return "none"

    def best_relation(self, fact_concept: str | None, name: str, targets: Sequence[str],
                      target_texts: Sequence[str]) -> Relation:
        found: Relation = "none"
        named = fact_concept if fact_concept is not None else named_concept(name)
        for target in targets:
            rel = self.relation(named, target)
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
        """A denial rules a target out when it is about the target or something broader
        ("never took any osteoporosis medication" denies alendronate)."""
        known = denied_concept if denied_concept is not None else named_concept(name)
        for target in targets:
            if denied_concept is not None and (
                    denied_concept == target
                    or denied_concept in self.index.vocab.ancestors(target)):
                return True
            if known is not None and self.kb.is_a(target, known):
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
            above |= {a for a in self.kb.ancestors(target) if self.kb.curated(a)}
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
                  within: re.Pattern[str] | None = None, members: bool = True,
                  known: bool = True) -> list[NoteHit]:
        """Mentions of the target concepts (and their narrower concepts) in the note;
        ``known``: also every kind of them the knowledge base knows (off for generic
        targets such as "any medication", which every drug name would match)."""
        if not self.sentences:
            return []
        targets = tuple(targets)
        folded, exact = _concept_forms(frozenset(targets), tuple(sorted(set(texts))),
                                       members, known)
        grams = self._index_note()
        spans: dict[tuple[int, int], int] = {}
        # a broad class has thousands of names and a note a few hundred word runs:
        # look up from the smaller side
        found = [f for f in grams if f in folded] if len(folded) > len(grams) \
            else [f for f in folded if f in grams]
        for form in found:
            for position, start, end in grams[form]:
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
            if known and self._inside_other(sentence.text, start, end, targets):
                continue
            cats = context.categories(sentence.text, start, end, self.modifiers(sentence))
            hits.append(NoteHit(sentence, start, end, "negated" in cats, "family" in cats,
                                "hypothetical" in cats, "historical" in cats))
        return hits

    def _inside_other(self, text: str, start: int, end: int, targets: Iterable[str]) -> bool:
        """Whether the words just before a hit on a narrower concept make it part of the
        name of another one: "rhinitis" in "allergic rhinitis" is not an infection, though
        rhinitis may be. A hit on the target's own name is always kept."""
        goals = [t for t in targets if self.kb.node_id(t) is not None]
        own = self.kb.resolve(text[start:end])
        if not goals or own is None or own in {self.kb.node_id(t) for t in goals}:
            return False
        before = _TOKEN.findall(text[max(0, start - 60):start])
        for n in range(min(3, len(before)), 0, -1):
            concept = self.kb.resolve(" ".join([*before[-n:], text[start:end]]))
            if concept is not None:
                return not any(self.kb.is_a(concept, t) for t in goals)
        return False

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

    # ---------------------------------------------------------------- definitions
    def defined(self, targets: Sequence[str]) -> DefinedBy | None:
        """A condition decided by a defining measurement of the record, or None.

        A definition of the target itself decides both ways; one of a narrower condition
        (CKD stage 4 for "chronic kidney disease") can only establish the target, one of a
        broader condition only rule it out. Definitions that disagree decide nothing.
        """
        found: list[DefinedBy] = []
        for target in targets:
            tid = self.kb.node_id(target)
            if tid is None:
                continue
            for definition in self.kb.definitions:
                cond = definition.condition
                relation = "same" if cond == tid else "narrower" if self.kb.is_a(cond, tid) \
                    else "broader" if self.kb.is_a(tid, cond) else None
                if relation is None:
                    continue
                decided = self._by_definition(definition)
                if decided is None:
                    continue
                holds, measurement, value = decided
                if (holds and relation == "broader") or (not holds and relation == "narrower"):
                    continue
                found.append(DefinedBy(holds, definition, measurement, value))
        if not found or len({f.holds for f in found}) > 1:
            return None
        return found[0]

    def _by_definition(self, definition: Definition
                       ) -> tuple[bool, Measurement, float] | None:
        if definition.sex is not None and self.profile.sex != definition.sex:
            return None
        values: list[tuple[Measurement, float]] = []
        for m in self.profile.measurements:
            if m.value is None or (m.analyte or self.index.analyte(m.name)) != definition.analyte:
                continue
            if definition.name_requires and definition.name_requires not in m.name.lower():
                continue
            try:
                value = convert(m.value, m.unit, definition.unit, definition.analyte) \
                    if m.unit and m.unit != definition.unit else m.value
            except UnitError:
                continue
            values.append((m, value))
        if not values:
            return None
        values.sort(key=lambda mv: mv[0].date or date.min)
        states = [(definition.state(v), m, v) for m, v in values]
        if definition.persistent:
            present = [s for s in states if s[0] is True]
            if present:
                return True, present[-1][1], present[-1][2]
            if all(s[0] is False for s in states) and not self._recorded(definition.not_when):
                return False, states[-1][1], states[-1][2]
            return None
        state, measurement, value = states[-1]
        if state is None or (state is False and self._recorded(definition.not_when)):
            return None
        return state, measurement, value

    def _recorded(self, concepts: Sequence[str]) -> bool:
        """Whether the record has any of ``concepts`` (a fact or a positive note mention)."""
        if not concepts:
            return False
        for cond in self.profile.conditions:
            concept = cond.concept or named_concept(cond.name)
            if concept is not None and any(self.kb.is_a(concept, c) for c in concepts):
                return True
        return any(h.positive for h in self.note_hits(concepts))


class DefinedBy:
    """A condition's truth by definition: which definition, and the measurement used."""

    __slots__ = ("definition", "holds", "measurement", "value")

    def __init__(self, holds: bool, definition: Definition, measurement: Measurement,
                 value: float) -> None:
        self.holds = holds
        self.definition = definition
        self.measurement = measurement
        self.value = value

    def text(self, label: str) -> str:
        d = self.definition
        bands = d.present if self.holds else d.absent
        band = next((b for b in bands if b.contains(self.value)), bands[0])
        m = self.measurement
        shown = f"{m.name} {m.value:g}{' ' + m.unit if m.unit and m.unit != '1' else ''}"
        verdict = "meets" if self.holds else "rules out"
        return (f"{label}: {shown} ({band.text()}) {verdict} the definition of "
                f"{d.condition.replace('_', ' ')} ({d.source})")
