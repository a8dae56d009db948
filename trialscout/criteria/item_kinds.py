"""Whole-item kinds (consent, investigator, administrative, ...) and their evidence.

``patterns.yaml`` names kinds that describe a whole item rather than a concept in it: a
kind applies when its trigger is in the text and one of its expressions matches. The
rule is simple; this module makes it cheap, by remembering per word which triggers and
expression starts it holds, so that a thousand items do not run every expression each.
Apart from the extractor because it is a self-contained index over the rule file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache, reduce
from itertools import repeat
from operator import or_
from typing import Any, Final

from trialscout.criteria import rules


class ItemKind:
    """One whole-item kind of ``patterns.yaml``: its triggers and its regular expressions.

    The rule is: when the lower-cased text contains a trigger, the first match of the
    alternation of the expressions is the evidence.
    """

    def __init__(self, name: str, triggers: list[str], expressions: list[str]) -> None:
        self.name = name
        lowered = [t.casefold() for t in triggers]
        self.trigger_re = re.compile("|".join(re.escape(t) for t in lowered))
        self.pattern = re.compile("|".join(f"(?:{p})" for p in expressions), re.IGNORECASE)
        self.word_triggers = tuple(t for t in lowered if _in_one_word(t))
        self.other_triggers = tuple(t for t in lowered if not _in_one_word(t))
        self.parts = [(re.compile(p, re.IGNORECASE), _required_prefixes(p))
                      for p in expressions]


def _in_one_word(literal: str) -> bool:
    """Whether ``literal`` can only occur inside one token of ASCII text."""
    return literal.isascii() and literal.isalnum()


class ItemKinds:
    """The whole-item kinds, in file order, and their evidence in an item.

    The result is what the rule says, found faster. In ASCII text a literal made of
    letters and digits lies inside one word, so for each word seen, the kinds it
    triggers and the expressions whose required start it holds are remembered (as
    bits); an item's are the union over its words. Other triggers are looked up in the
    text. Only the expressions whose start is there are run, each on its own: the
    leftmost match, the first expression on a tie, is the alternation's match.
    """

    def __init__(self, kinds: list[ItemKind]) -> None:
        self.kinds = kinds
        features: list[tuple[str, ...]] = []
        # per kind: its trigger bit and, per expression in order, the bit of its start
        # (0: tried only when one of its start texts is in the text; -1: always tried)
        self.plan: list[tuple[ItemKind, int, list[tuple[int, re.Pattern[str],
                                                         tuple[str, ...] | None]]]] = []
        for kind in kinds:
            trigger_bit = 1 << len(features)
            features.append(kind.word_triggers)
            parts: list[tuple[int, re.Pattern[str], tuple[str, ...] | None]] = []
            for part, prefixes in kind.parts:
                if prefixes is None:
                    parts.append((-1, part, None))
                elif all(_in_one_word(p) for p in prefixes):
                    parts.append((1 << len(features), part, None))
                    features.append(prefixes)
                else:
                    parts.append((0, part, prefixes))
            self.plan.append((kind, trigger_bit, parts))
        self.features = [re.compile("|".join(re.escape(t) for t in literals))
                         if literals else None for literals in features]
        self.word_masks: dict[str, int] = {}

    def _mask(self, word: str) -> int:
        mask = 0
        for bit, feature in enumerate(self.features):
            if feature is not None and feature.search(word) is not None:
                mask |= 1 << bit
        if len(self.word_masks) < _WORD_CACHE_SIZE:
            self.word_masks[word] = mask
        return mask

    def matches(self, text: str, words: set[str]) -> list[tuple[str, re.Match[str]]]:
        """(kind, evidence) of each kind ``text`` (with token set ``words``) shows."""
        lowered = text.casefold()
        out = []
        if not text.isascii() and not _ascii_faithful(text):
            for kind in self.kinds:
                if kind.trigger_re.search(lowered) is not None:
                    match = kind.pattern.search(text)
                    if match is not None:
                        out.append((kind.name, match))
            return out
        masks = self.word_masks
        mask = 0
        for word in words.difference(masks):
            mask |= self._mask(word)
        mask = reduce(or_, map(masks.get, words, repeat(0)), mask)
        for kind, trigger_bit, parts in self.plan:
            if not mask & trigger_bit and not any(map(lowered.__contains__, kind.other_triggers)):
                continue
            best: re.Match[str] | None = None
            for bit, part, prefixes in parts:
                if bit > 0:
                    if not mask & bit:
                        continue
                elif prefixes is not None and not any(map(lowered.__contains__, prefixes)):
                    continue
                match = part.search(text)
                if match is not None and (best is None or match.start() < best.start()):
                    best = match
            if best is not None:
                out.append((kind.name, best))
        return out


_WORD_CACHE_SIZE: Final = 200_000
_ASCII: Final = frozenset(chr(i) for i in range(128))
# characters that case-insensitive expressions match to ASCII letters
_ODD_CASE: Final = frozenset("\u0130\u0131\u017f\u212a")
_faithful_chars: Final[dict[str, bool]] = {}


def _ascii_faithful(text: str) -> bool:
    """Whether ASCII letters and digits of ``text.casefold()`` and of case-insensitive
    matches all come from ASCII characters of ``text`` (so that literals can be looked
    up through the words, as in ASCII text): true unless a character such as "ß" or
    "K" (Kelvin) folds to or matches ASCII letters."""
    for ch in set(text).difference(_ASCII):
        safe = _faithful_chars.get(ch)
        if safe is None:
            safe = ch not in _ODD_CASE and not any(
                c.isascii() and c.isalnum() for c in ch.casefold() + ch.lower())
            _faithful_chars[ch] = safe
        if not safe:
            return False
    return True


def _required_prefixes(pattern: str) -> tuple[str, ...] | None:
    """Lower-case literal texts one of which every match of ``pattern`` starts with.

    None when that cannot be told (the expression is then always tried).
    """
    try:
        from re import _constants, _parser  # type: ignore[attr-defined]

        tree = _parser.parse(pattern, re.IGNORECASE)
        found = _prefixes(list(tree.data), _constants)
    except Exception:  # noqa: BLE001 - an unreadable expression is simply not gated
        return None
    if not found or any(not p or not p.isascii() for p in found):
        return None
    return tuple(sorted(found))


def _prefixes(ops: list[tuple[Any, Any]], constants: Any) -> set[str] | None:
    i = 0
    while i < len(ops) and ops[i][0] is constants.AT:
        i += 1
    literal = []
    while i < len(ops) and ops[i][0] is constants.LITERAL:
        literal.append(chr(ops[i][1]).lower())
        i += 1
    if literal:
        return {"".join(literal)}
    if i >= len(ops):
        return None
    op, av = ops[i]
    if op is constants.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            return None
        return _prefixes(list(sub.data), constants)
    if op is constants.BRANCH:
        out: set[str] = set()
        for branch in av[1]:
            found = _prefixes(list(branch.data), constants)
            if not found:
                return None
            out |= found
        return out
    return None


@dataclass
class Kinds:
    patterns: ItemKinds
    generic: frozenset[str]
    performance: frozenset[str]


@lru_cache(maxsize=1)
def kinds() -> Kinds:
    pat = rules.patterns()
    item_kinds = ItemKinds([ItemKind(kind, spec.triggers, spec.regex)
                             for kind, spec in pat.item_kinds.items()])
    return Kinds(item_kinds, frozenset(rules.entities().generic_concepts),
                  frozenset(pat.performance_concepts))
