"""Canonical medical concepts and their synonyms, shared by criteria, search and matching.

The data lives in ``synonyms.yaml`` beside this module; this module only loads and indexes
it, so the same names mean the same concept everywhere ("T2DM" in a criterion, "type 2
diabetes" in a patient profile and "NIDDM" in a search query all resolve to
``type_2_diabetes``).

API (all lookups are case-insensitive except abbreviations, which match exact case only):

- :func:`vocabulary` -> the default :class:`Vocabulary`, loaded once and cached;
  :func:`load_vocabulary(path)` loads another file (tests, extensions).
- ``vocab.canonical(term) -> Concept | None``: the concept a surface form names
  ("Prolia" -> ``denosumab``). ``Concept`` has ``id``, ``name``, ``kind``, ``synonyms``,
  ``abbreviations`` and ``parents``.
- ``vocab.canonical_id(term) -> str | None`` and ``vocab.canonical_name(term)``.
- ``vocab.expansions(term) -> list[str]``: every surface form of that concept, the
  canonical name first (for query expansion); ``[]`` when the term is unknown.
- ``vocab.members(class_id) -> set[str]``: the concepts that are (transitively) a kind of
  ``class_id`` ("bisphosphonate" -> alendronate, zoledronic acid, ...).
- ``vocab.ancestors(concept_id)`` and ``vocab.is_a(concept_id, class_id)``: the other
  direction ("alendronate" is an oral bisphosphonate, a bisphosphonate, an antiresorptive).
- ``vocab.concepts(kind=None)`` iterates concepts; ``vocab.surface_forms()`` yields
  ``(form, concept, exact_case)`` for building matchers.
- :func:`normalize_term` is the key every lookup uses: lower case, punctuation and
  hyphens as single spaces ("T-Score" and "t score" are the same key).

Kinds: condition, drug, drug_class, procedure, lab, observation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from trialscout.rulefiles import RuleFile

DEFAULT_PATH = Path(__file__).with_name("synonyms.yaml")
Kind = Literal["condition", "drug", "drug_class", "procedure", "lab", "observation"]
_NON_WORD = re.compile(r"[^\w]+|_+")
_ID = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def normalize_term(text: str) -> str:
    """The lookup key of a surface form: lower case, words joined by single spaces."""
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


def slug(text: str) -> str:
    """A concept id made from a name: ``"Zoledronic Acid"`` -> ``zoledronic_acid``."""
    return normalize_term(text).replace(" ", "_")


class MemberSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    synonyms: list[str] = Field(default_factory=list)


class ConceptSpec(BaseModel):
    """One entry of synonyms.yaml, validated."""

    model_config = ConfigDict(extra="forbid")
    name: str
    kind: Kind
    synonyms: list[str] = Field(default_factory=list)
    abbreviations: list[str] = Field(default_factory=list)
    parents: list[str] = Field(default_factory=list)
    members: list[str | MemberSpec] = Field(default_factory=list)

    @field_validator("synonyms", "abbreviations")
    @classmethod
    def _non_empty(cls, values: list[str]) -> list[str]:
        for value in values:
            if not normalize_term(value):
                raise ValueError(f"empty synonym {value!r}")
        return values


class VocabularyFile(RuleFile):
    # an extension file a deployment adds need not name benchmark sets; the package's own
    # file does (tests/test_rules_tuned_on.py)
    tuned_on: list[str] = Field(default_factory=list)
    concepts: dict[str, ConceptSpec]

    @field_validator("concepts")
    @classmethod
    def _ids(cls, concepts: dict[str, ConceptSpec]) -> dict[str, ConceptSpec]:
        for cid, spec in concepts.items():
            if not _ID.match(cid):
                raise ValueError(f"concept id {cid!r} must be lower_snake_case")
            for parent in spec.parents:
                if parent not in concepts:
                    raise ValueError(f"{cid}: unknown parent {parent!r}")
        return concepts


@dataclass(frozen=True)
class Concept:
    id: str
    name: str
    kind: str
    synonyms: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        """The canonical name followed by every synonym and abbreviation."""
        return (self.name, *self.synonyms, *self.abbreviations)


@dataclass
class Vocabulary:
    """An index over concepts: by id, by normalized surface form, and by is-a links."""

    version: int
    by_id: dict[str, Concept]
    _by_form: dict[str, str] = field(default_factory=dict)
    _by_abbrev: dict[str, str] = field(default_factory=dict)
    _children: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for concept in self.by_id.values():
            for form in (concept.name, *concept.synonyms):
                self._by_form.setdefault(normalize_term(form), concept.id)
            for abbrev in concept.abbreviations:
                self._by_abbrev.setdefault(abbrev.strip(), concept.id)
            for parent in concept.parents:
                self._children.setdefault(parent, set()).add(concept.id)

    def concept(self, concept_id: str) -> Concept | None:
        return self.by_id.get(concept_id)

    def canonical(self, term: str) -> Concept | None:
        """The concept named by ``term`` (id, name, synonym or exact-case abbreviation)."""
        if term in self.by_id:
            return self.by_id[term]
        cid = self._by_abbrev.get(term.strip()) or self._by_form.get(normalize_term(term))
        return self.by_id.get(cid) if cid else None

    def canonical_id(self, term: str) -> str | None:
        concept = self.canonical(term)
        return concept.id if concept else None

    def canonical_name(self, term: str) -> str | None:
        concept = self.canonical(term)
        return concept.name if concept else None

    def expansions(self, term: str) -> list[str]:
        """Every surface form of the concept ``term`` names, canonical name first."""
        concept = self.canonical(term)
        if concept is None:
            return []
        seen: set[str] = set()
        out = []
        for form in concept.forms:
            key = form.casefold()
            if key not in seen:
                seen.add(key)
                out.append(form)
        return out

    def ancestors(self, concept_id: str) -> set[str]:
        out: set[str] = set()
        stack = list(self.by_id[concept_id].parents) if concept_id in self.by_id else []
        while stack:
            parent = stack.pop()
            if parent not in out:
                out.add(parent)
                stack.extend(self.by_id[parent].parents if parent in self.by_id else ())
        return out

    def members(self, class_id: str, transitive: bool = True) -> set[str]:
        """Concepts that are a kind of ``class_id`` (not including ``class_id`` itself)."""
        out: set[str] = set()
        stack = list(self._children.get(class_id, ()))
        while stack:
            child = stack.pop()
            if child not in out:
                out.add(child)
                if transitive:
                    stack.extend(self._children.get(child, ()))
        return out

    def is_a(self, concept_id: str, class_id: str) -> bool:
        return concept_id == class_id or class_id in self.ancestors(concept_id)

    def concepts(self, kind: str | None = None) -> Iterator[Concept]:
        for concept in self.by_id.values():
            if kind is None or concept.kind == kind:
                yield concept

    def surface_forms(self) -> Iterator[tuple[str, Concept, bool]]:
        """``(form, concept, exact_case)`` for every name, synonym and abbreviation."""
        for concept in self.by_id.values():
            for form in (concept.name, *concept.synonyms):
                yield form, concept, False
            for abbrev in concept.abbreviations:
                yield abbrev, concept, True


def _build(data: Any) -> Vocabulary:
    spec = VocabularyFile.model_validate(data)
    concepts: dict[str, Concept] = {}
    member_links: list[tuple[str, MemberSpec]] = []
    for cid, item in spec.concepts.items():
        concepts[cid] = Concept(cid, item.name, item.kind, tuple(item.synonyms),
                                tuple(item.abbreviations), tuple(item.parents))
        for member in item.members:
            member_links.append((cid, member if isinstance(member, MemberSpec)
                                 else MemberSpec(name=member)))
    for parent, member in member_links:
        mid = slug(member.name)
        existing = concepts.get(mid)
        if existing is None:
            kind = "drug" if concepts[parent].kind in {"drug", "drug_class"} else \
                concepts[parent].kind
            concepts[mid] = Concept(mid, member.name, kind, tuple(member.synonyms), (),
                                    (parent,))
        elif parent not in existing.parents:
            concepts[mid] = Concept(existing.id, existing.name, existing.kind,
                                    existing.synonyms + tuple(member.synonyms),
                                    existing.abbreviations, (*existing.parents, parent))
    return Vocabulary(spec.version, concepts)


def load_vocabulary(path: Path | str | None = None) -> Vocabulary:
    """Load and validate a synonyms file (the bundled one by default)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path or DEFAULT_PATH, encoding="utf-8") as handle:
        return _build(yaml.load(handle, Loader=loader))


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The bundled vocabulary, loaded on first use."""
    return load_vocabulary()
