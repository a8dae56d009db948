"""A small ConText: decide whether a mention in a sentence is negated, a relative's,
hypothetical or historical, from cue phrases kept in ``rules/context.yaml``.

Cues open a scope (forward or backward) that ends at a terminator, at the sentence end, or
after a cue-specific number of words. Pseudo cues ("gram negative", "no change") are
matched first and hide the cues inside them. This is our own implementation of the
published ConText idea (Harkema et al. 2009) so it runs offline with no model.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from trialscout.patients.rules import load_rules

Category = Literal["negated", "family", "hypothetical", "historical"]
_WORD = re.compile(r"[\w'/-]+")


@dataclass(frozen=True)
class Modifier:
    category: Category
    cue: str
    start: int
    end: int
    scope_start: int
    scope_end: int


def _alternation(phrases: list[str]) -> re.Pattern[str]:
    ordered = sorted({p.lower() for p in phrases}, key=len, reverse=True)
    body = "|".join(re.escape(p) for p in ordered)
    return re.compile(rf"(?<![\w/-])(?:{body})(?![\w/])")


class ConText:
    """Cue matcher built from the rule file; use :func:`default_context`."""

    def __init__(self, rules: dict[str, object]) -> None:
        cues = rules["cues"]
        assert isinstance(cues, dict)
        self._cues: dict[str, tuple[Category, str]] = {}
        for category, directions in cues.items():
            for direction, phrases in directions.items():
                for phrase in phrases:
                    self._cues[phrase.lower()] = (category, direction)
        self._cue_re = _alternation(list(self._cues))
        pseudo = rules.get("pseudo") or []
        assert isinstance(pseudo, list)
        self._pseudo_re = _alternation(pseudo) if pseudo else None
        terminators = rules.get("terminators") or []
        assert isinstance(terminators, list)
        words = [t for t in terminators if re.match(r"\w", t)]
        self._term_re = re.compile(
            "|".join([_alternation(words).pattern]
                     + [re.escape(t) for t in terminators if not re.match(r"\w", t)]))
        windows = rules.get("windows") or {}
        assert isinstance(windows, dict)
        self._windows = {str(k).lower(): int(v) for k, v in windows.items()}
        passes = rules.get("scope_passes") or {}
        assert isinstance(passes, dict)
        self._passes = {str(k): frozenset(str(t).lower() for t in v)
                        for k, v in passes.items()}

    def modifiers(self, sentence: str) -> list[Modifier]:
        lowered = sentence.lower()
        blocked: list[tuple[int, int]] = []
        if self._pseudo_re is not None:
            blocked = [(m.start(), m.end()) for m in self._pseudo_re.finditer(lowered)]
        term_starts: list[int] = []
        term_ends: list[int] = []
        for found in self._term_re.finditer(lowered):
            term_starts.append(found.start())
            term_ends.append(found.end())
        blocked_starts = [b0 for b0, _b1 in blocked]
        out: list[Modifier] = []
        for match in self._cue_re.finditer(lowered):
            start, end = match.start(), match.end()
            at = bisect.bisect_right(blocked_starts, start)
            if at > 0 and end <= blocked[at - 1][1]:
                continue
            phrase = match.group()
            category, direction = self._cues[phrase]
            window = self._windows.get(phrase)
            if direction == "forward":
                at = bisect.bisect_left(term_starts, end)
                passes = self._passes.get(category)
                while passes and at < len(term_starts) and _passed(
                        lowered, term_ends[at], passes):
                    at += 1
                stop = term_starts[at] if at < len(term_starts) else len(sentence)
                if window is not None:
                    stop = min(stop, _after_words(lowered, end, window))
                out.append(Modifier(category, phrase, start, end, end, stop))
            else:
                at = bisect.bisect_right(term_ends, start)
                begin = term_ends[at - 1] if at > 0 else 0
                if window is not None:
                    begin = max(begin, _before_words(lowered, start, window))
                out.append(Modifier(category, phrase, start, end, begin, start))
        return out

    def category_of(self, phrase: str) -> Category | None:
        """The category of a cue phrase ("mother": family), or None if it is not one."""
        found = self._cues.get(phrase.lower())
        return found[0] if found else None

    def categories(self, sentence: str, start: int, end: int,
                   modifiers: list[Modifier] | None = None) -> set[Category]:
        """Categories whose scope covers the mention ``sentence[start:end]``."""
        if modifiers is None:
            modifiers = self.modifiers(sentence)
        found: set[Category] = set()
        for mod in modifiers:
            if mod.start < end and start < mod.end:
                continue
            if mod.scope_start <= start and start < mod.scope_end:
                found.add(mod.category)
        return found


_LIST_WORDS = frozenset({"or", "nor", "and/or"})


def _passed(text: str, end: int, passes: frozenset[str]) -> bool:
    """Whether the text up to a terminator's ``end`` ends with a phrase the scope runs
    past ("treated for": what follows is still about the relative)."""
    tail = text[max(0, end - 40):end]
    return any(tail.endswith(p) and (len(tail) == len(p) or not tail[-len(p) - 1].isalnum())
               for p in passes)


def _after_words(text: str, position: int, count: int) -> int:
    """Where a forward window of ``count`` words ends; list connectors do not count."""
    stop = len(text)
    seen = 0
    for match in _WORD.finditer(text, position):
        if match.group() in _LIST_WORDS:
            continue
        if seen == count:
            stop = match.start()
            break
        seen += 1
    return stop


def _before_words(text: str, position: int, count: int) -> int:
    """Where a backward window of ``count`` words begins (0 when fewer words precede).

    Reads a window that widens until it holds more than ``count`` whole words, so the
    cost does not grow with ``position``."""
    size = 64
    while True:
        low = max(0, position - size)
        starts = [m.start() for m in _WORD.finditer(text, low, position)]
        if low > 0 and starts and starts[0] == low:
            starts = starts[1:]
        if len(starts) > count:
            return starts[-count]
        if low == 0:
            return 0 if len(starts) <= count else starts[-count]
        size *= 4


@lru_cache(maxsize=1)
def default_context() -> ConText:
    return ConText(load_rules("context"))
