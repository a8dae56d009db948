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
from trialscout.patients.model import (
    Condition,
    Measurement,
    Medication,
    PatientProfile,
    Procedure,
)
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


@lru_cache(maxsize=16_384)
def _reviewed_ancestors(target: str) -> frozenset[str]:
    """What a concept is a kind of through reviewed links only (each step a curated or
    shared-vocabulary concept): "Angina, Stable" is angina, CKD stage 4 is kidney disease,
    but a packaged heading's MeSH chain (pulmonary embolism, vascular diseases,
    cardiovascular disease) is too broad for a denial to reach."""
    kb, vocab = knowledge(), concept_index().vocab
    out: set[str] = set()
    start = kb.node(target)
    stack = list(start.parents) if start is not None else []
    while stack:
        cid = stack.pop()
        if cid in out or not (kb.curated(cid) or vocab.concept(cid) is not None):
            continue
        out.add(cid)
        node = kb.node(cid)
        if node is not None:
            stack.extend(node.parents)
    return frozenset(out)


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
        if fact_concept is not None:
            # a coded fact whose name says more ("uncontrolled hypertension" coded as
            # hypertension) is what its name says
            by_name = named_concept(name)
            if by_name is not None and by_name != fact_concept \
                    and self.kb.is_a(by_name, fact_concept):
                named = by_name
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
            above |= _reviewed_ancestors(target)
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
            self._add_told_events(grams)
            self._grams, self._exact = grams, exact
        return self._grams

    def _add_told_events(self, grams: dict[str, list[tuple[int, int, int]]]) -> None:
        """Facts the note reader took from words that do not name them ("she broke her
        wrist" is a wrist fracture): their names are indexed at those words, so a search
        for the condition (or a class above it: fragility fracture) finds them there, and
        context (negation, a relative's) is read at the same place."""
        told: list[Condition | Procedure] = [*self.profile.conditions, *self.profile.procedures]
        for fact in told:
            source = fact.source
            if source is None or source.kind != "note" or source.sentence is None \
                    or source.start is None or source.end is None \
                    or not 0 <= source.sentence < len(self.sentences):
                continue
            sentence = self.sentences[source.sentence]
            # the span is the note's; a hit's is its sentence's
            start, end = source.start - sentence.start, source.end - sentence.start
            if sentence.text != source.text or not 0 <= start < end <= len(sentence.text):
                continue
            words = norm(fact.name).split()
            if not words or norm(sentence.text[start:end]) == norm(fact.name):
                continue
            words[-1] = _singular(words[-1])
            # an "ankle fracture" is a fracture: the name's head (its last words) is
            # indexed there too
            for first in range(len(words)):
                grams.setdefault(" ".join(words[first:]), []).append(
                    (source.sentence, start, end))

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
    def defined(self, targets: Sequence[str], named: str = "") -> DefinedBy | None:
        """A condition decided by a defining measurement of the record, or None.

        A definition of the target itself decides both ways; one of a narrower condition
        (CKD stage 4 for "chronic kidney disease") can only establish the target, one of a
        broader condition only rule it out. Definitions that disagree about one target
        decide nothing. Several targets are alternatives ("overweight or obesity"): one
        established is enough, ruling out needs every one ruled out. ``named``: the
        criterion's words, for definitions that apply only to some names.
        """
        lowered = named.lower()
        decided: list[DefinedBy | None] = []
        for target in targets:
            tid = self.kb.node_id(target)
            if tid is None:
                decided.append(None)
                continue
            found: list[DefinedBy] = []
            for parts in self._definition_groups(lowered):
                cond = parts[0].condition
                relation = "same" if cond == tid else "narrower" if self.kb.is_a(cond, tid) \
                    else "broader" if self.kb.is_a(tid, cond) else None
                if relation is None:
                    continue
                result = self._by_group(parts)
                if result is None:
                    continue
                if (result.holds and relation == "broader") or (
                        not result.holds and relation == "narrower"):
                    continue
                found.append(result)
            decided.append(found[0] if found and len({f.holds for f in found}) == 1
                           else None)
        held = [d for d in decided if d is not None and d.holds]
        if held:
            return held[0]
        if decided and all(d is not None for d in decided):
            return decided[0]
        return None

    def _definition_groups(self, named: str) -> list[list[Definition]]:
        """The definitions that apply to this patient and criterion wording, the parts of
        one measurement (``group``) together."""
        groups: dict[tuple[str, str] | int, list[Definition]] = {}
        for position, definition in enumerate(self.kb.definitions):
            if definition.sex is not None and self.profile.sex != definition.sex:
                continue
            if definition.named and not any(
                    re.search(rf"\b{re.escape(w)}", named) for w in definition.named):
                continue
            key: tuple[str, str] | int = (definition.condition, definition.group) \
                if definition.group else position
            groups.setdefault(key, []).append(definition)
        return list(groups.values())

    def _by_group(self, parts: list[Definition]) -> DefinedBy | None:
        """One measurement's verdict: any part establishes, every part must rule out."""
        results = [(d, self._by_definition(d)) for d in parts]
        for definition, result in results:
            if result is not None and result[0]:
                return DefinedBy(True, definition, result[1], result[2])
        if all(r is not None and not r[0] for _, r in results):
            definition, result = results[-1]
            assert result is not None
            return DefinedBy(False, definition, result[1], result[2])
        return None

    def _by_definition(self, definition: Definition
                       ) -> tuple[bool, Measurement, float] | None:
        values: list[tuple[Measurement, float]] = []
        for m in self.profile.measurements:
            if m.value is None or (m.analyte or self.index.analyte(m.name)) != definition.analyte:
                continue
            lowered = m.name.lower()
            if definition.name_requires and definition.name_requires not in lowered:
                continue
            if any(word in lowered for word in definition.name_excludes):
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
                found: tuple[bool | None, Measurement, float] = present[-1]
            elif all(s[0] is False for s in states):
                found = states[-1]
            else:
                return None
        else:
            found = states[-1]
        state, measurement, value = found
        if state is None:
            return None
        if state is False and self._recorded(definition.not_when):
            return None
        if state is True and definition.requires and not self._recorded(definition.requires):
            return None
        return state, measurement, value

    def _recorded(self, concepts: Sequence[str]) -> bool:
        """Whether the record has any of ``concepts`` (a condition or medication fact, or a
        positive note mention)."""
        if not concepts:
            return False
        recorded: list[Condition | Medication] = [*self.profile.conditions,
                                                  *self.profile.medications]
        for fact in recorded:
            concept = fact.concept or named_concept(fact.name)
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
