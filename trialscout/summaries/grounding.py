"""The fact check: a summary may only state numbers, drugs, conditions and names the record has.

The offline generator runs it on each sentence against that sentence's own source fields and
drops any sentence that fails; LLM output is run against the whole record and thrown away
(offline fallback) when anything fails. Facts are:

* numbers, as digits or number words (``rules/grounding.yaml``), compared by value, so
  "1,000" matches "1000" and "09" matches "9"; counts of listed items (sites, countries,
  arms) count as stated by the record;
* vocabulary concepts of kind condition, drug or drug class, compared by concept, so
  "Prolia" in a summary is grounded by "denosumab" in the record;
* words that look like drug or disease names (INN stems, disease endings), code names such
  as "VB-DN17", the word before a disease head noun ("lung cancer"), and capitalized names in
  mid-sentence (places, sponsors): each must appear in the record.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from trialscout.registry.model import Trial
from trialscout.rulefiles import load_mapping
from trialscout.summaries.mentions import FACT_KINDS, matcher
from trialscout.summaries.paths import PathError, leaves, resolve
from trialscout.summaries.schemas import GroundingSchema

_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“(\[]\s*|\n\s*)$")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")


@dataclass(frozen=True)
class GroundingRules:
    number_words: dict[str, float]
    min_word_length: int
    drug_suffixes: tuple[str, ...]
    condition_suffixes: tuple[str, ...]
    head_nouns: frozenset[str]
    function_words: frozenset[str]
    code_name: re.Pattern[str]
    plain_words: frozenset[str]
    generic_concepts: frozenset[str]


@lru_cache(maxsize=1)
def rules() -> GroundingRules:
    data = load_mapping(Path(__file__).with_name("rules") / "grounding.yaml",
                        GroundingSchema)
    return GroundingRules(
        number_words={k: float(v) for k, v in data["number_words"].items()},
        min_word_length=int(data["min_word_length"]),
        drug_suffixes=tuple(data["drug_suffixes"]),
        condition_suffixes=tuple(data["condition_suffixes"]),
        head_nouns=frozenset(data["head_nouns"]),
        function_words=frozenset(data["function_words"]),
        code_name=re.compile(data["code_name_pattern"]),
        plain_words=frozenset(data["plain_words"]),
        generic_concepts=frozenset(data["generic_concepts"]),
    )


def number_key(text: str) -> str:
    """A number's value as a comparable string: "1,000" -> "1000", "2.50" -> "2.5"."""
    value = float(text.replace(",", ""))
    return str(int(value)) if value.is_integer() else repr(value)


def _words(text: str) -> list[str]:
    return [w.casefold().replace("’", "'") for w in _WORD.findall(text)]


@dataclass
class Problem:
    """One fact in a summary that the record does not back."""

    kind: str
    text: str
    sentence: str

    def __str__(self) -> str:
        return f"{self.kind} {self.text!r} not in the record"


@dataclass
class SourceFacts:
    """What some record fields state, indexed for the check."""

    numbers: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    bigrams: set[tuple[str, str]] = field(default_factory=set)
    concepts: set[str] = field(default_factory=set)
    joined: str = " "

    @classmethod
    def from_values(cls, values: Iterable[Any], counts: Iterable[int] = ()) -> SourceFacts:
        facts = cls()
        texts: list[str] = []
        for value in values:
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                facts.numbers.add(number_key(str(value)))
                continue
            text = str(value)
            texts.append(text)
            for match in _NUMBER.finditer(text):
                facts.numbers.add(number_key(match.group()))
                for part in match.group().split(","):
                    if part and part[0].isdigit():
                        facts.numbers.add(number_key(part.split(".")[0]))
            words = _words(text)
            facts.words.update(words)
            facts.bigrams.update(itertools.pairwise(words))
            facts.concepts |= matcher().concept_ids(text, kinds=FACT_KINDS, overlapping=True)
        facts.numbers.update(str(c) for c in counts)
        facts.joined = " " + " ".join(" ".join(_words(t)) for t in texts) + " "
        return facts

    def has_word(self, word: str) -> bool:
        if word in self.words:
            return True
        for cut in ("es", "s", "'s"):
            if word.endswith(cut) and word[: -len(cut)] in self.words:
                return True
        return word + "s" in self.words or word + "es" in self.words


def record_facts(trial: Trial) -> SourceFacts:
    """Everything the record states, for checking text written about the whole trial."""
    return SourceFacts.from_values(leaves(trial), list_counts(trial))


def list_counts(trial: Trial) -> list[int]:
    countries = {s.country for s in trial.sites if s.country}
    cities = {(s.city, s.country) for s in trial.sites if s.city}
    return [len(trial.sites), len(countries), len(cities), len(trial.arm_groups),
            len(trial.interventions), len(trial.conditions), len(trial.outcomes)]


def path_facts(trial: Trial, paths: Iterable[str]) -> SourceFacts:
    """What the named fields state; a list path also states how many items it has."""
    values: list[Any] = []
    counts: list[int] = []
    for path in paths:
        found = resolve(trial, path)
        values.extend(leaf for v in found for leaf in leaves(v))
        if path.endswith("[]") or "[]." in path:
            counts.append(len(found))
            counts.append(len({str(v).casefold() for v in found}))
    return SourceFacts.from_values(values, counts)


def _mid_sentence(text: str, start: int) -> bool:
    return _SENTENCE_START.search(text[:start]) is None


def check_text(text: str, facts: SourceFacts) -> list[Problem]:
    """Every fact in ``text`` that ``facts`` does not back."""
    r = rules()
    problems: list[Problem] = []

    def flag(kind: str, piece: str) -> None:
        problems.append(Problem(kind, piece, text))

    covered: list[tuple[int, int]] = []
    for concept in matcher().find(text, kinds=FACT_KINDS):
        covered.append((concept.start, concept.end))
        if concept.concept_id not in facts.concepts | r.generic_concepts:
            flag(concept.kind, concept.text)

    def free(start: int) -> bool:
        return not any(a <= start < b for a, b in covered)

    for match in r.code_name.finditer(text):
        if free(match.start()):
            covered.append((match.start(), match.end()))
            if " " + " ".join(_words(match.group())) + " " not in facts.joined:
                flag("code name", match.group())
    for match in _NUMBER.finditer(text):
        if free(match.start()) and number_key(match.group()) not in facts.numbers:
            flag("number", match.group())
    matches = [m for m in _WORD.finditer(text) if free(m.start())]
    words = [m.group().casefold().replace("’", "'") for m in _WORD.finditer(text)]
    index = {m.start(): i for i, m in enumerate(_WORD.finditer(text))}
    for match in matches:
        i = index[match.start()]
        word = words[i]
        if word in r.number_words and not (
                number_key(str(r.number_words[word])) in facts.numbers or word in facts.words):
            flag("number", word)
        if len(word) >= r.min_word_length and word not in r.plain_words:
            if word.endswith(r.drug_suffixes) and not facts.has_word(word):
                flag("drug", word)
            elif word.endswith(r.condition_suffixes) and not facts.has_word(word):
                flag("condition", word)
        if word in r.head_nouns:
            before = words[i - 1] if i else ""
            if not facts.has_word(word):
                flag("condition", word)
            elif before and before not in r.function_words and not before.isdigit() and not (
                    (before, word) in facts.bigrams or facts.has_word(before)):
                flag("condition", f"{before} {word}")
        token = match.group()
        if token[0].isupper() and _mid_sentence(text, match.start()):
            folded = token.casefold()
            if folded not in MONTHS and folded != "i" and not facts.has_word(folded):
                flag("name", token)
    return problems


def check_paths(trial: Trial, paths: Iterable[str]) -> list[str]:
    """Paths that are malformed or name nothing in this record."""
    bad = []
    for path in paths:
        try:
            if not resolve(trial, path):
                bad.append(path)
        except PathError:
            bad.append(path)
    return bad
