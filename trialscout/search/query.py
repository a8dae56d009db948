"""The query language: words, "phrases", AND / OR / NOT, -word, (groups) and prefix*.

Operators are upper case (``AND``, ``OR``, ``NOT``, also ``&&``, ``||`` and a leading ``-``);
lower-case "and"/"or"/"not" are ordinary words. ``OR`` binds tighter than ``AND`` and than
plain adjacency, as in web search: ``osteoporosis denosumab OR romosozumab`` means
osteoporosis AND (denosumab OR romosozumab).

Adjacent words are joined by the default operator: all of them must match ("all"), or any
may match and BM25 ranks ("any", for free text such as a patient note). The parser is
lenient where a reading is obvious (an unclosed quote or parenthesis closes at the end, a
dangling operator is ignored, control characters are spaces) and raises
:class:`SearchQueryError` with a plain message otherwise. Nothing here touches SQL.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from trialscout.search.analysis import words
from trialscout.search.errors import SearchQueryError
from trialscout.search.rules import QueryRules

Mode = Literal["auto", "all", "any"]


@dataclass(frozen=True)
class Words:
    """One plain query word as typed (``raw``) and its folded words ("COVID-19" -> 2)."""

    raw: str
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Phrase:
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Prefix:
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class Sequence:
    """Clauses side by side. ``groups`` are separated by explicit AND; within a group the
    default operator applies. ``negatives`` are excluded whatever the mode."""

    groups: tuple[tuple[Node, ...], ...]
    negatives: tuple[Node, ...]


Node = Words | Phrase | Prefix | AnyOf | Not | Sequence


@dataclass(frozen=True)
class ParsedQuery:
    root: Sequence
    mode: Literal["all", "any"]
    explicit: bool

    @property
    def is_empty(self) -> bool:
        return not self.root.groups and not self.root.negatives


_AND = {"AND", "&&"}
_OR = {"OR", "||"}
_NOT = {"NOT"}


@dataclass(frozen=True)
class _Tok:
    kind: Literal["word", "quote", "lp", "rp", "and", "or", "not", "neg"]
    text: str = ""


def clean(text: str) -> str:
    """Control, format and other invisible characters become spaces."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else " " if
                   unicodedata.category(ch)[0] in "CZ" else ch for ch in text)


def _lex(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            toks.append(_Tok("quote", text[i + 1:end]))
            i = end + 1
        elif ch == "(":
            toks.append(_Tok("lp"))
            i += 1
        elif ch == ")":
            toks.append(_Tok("rp"))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '"()':
                j += 1
            word = text[i:j]
            i = j
            if word in _AND:
                toks.append(_Tok("and"))
            elif word in _OR:
                toks.append(_Tok("or"))
            elif word in _NOT:
                toks.append(_Tok("not"))
            elif word == "-" or word == "+":
                if word == "-" and i < n and text[i] in '"(':
                    toks.append(_Tok("neg"))
            elif word[0] == "-" and len(word) > 1:
                toks.append(_Tok("neg"))
                toks.append(_Tok("word", word[1:]))
            else:
                toks.append(_Tok("word", word.lstrip("+")))
    return toks


class _Parser:
    def __init__(self, toks: list[_Tok], rules: QueryRules) -> None:
        self.toks = toks
        self.i = 0
        self.rules = rules

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def sequence(self, depth: int) -> Sequence:
        if depth > self.rules.max_depth:
            raise SearchQueryError(f"the query nests parentheses more than "
                                   f"{self.rules.max_depth} deep")
        groups: list[list[Node]] = [[]]
        negatives: list[Node] = []
        while (tok := self.peek()) is not None:
            if tok.kind == "rp":
                if depth > 0:
                    break
                self.i += 1
                continue
            if tok.kind == "and":
                self.i += 1
                if groups[-1]:
                    groups.append([])
                continue
            if tok.kind == "or":
                self.i += 1
                continue
            if tok.kind in ("not", "neg"):
                self.i += 1
                child = self.unary(depth)
                if child is not None:
                    negatives.append(child)
                continue
            node = self.disjunction(depth)
            if node is not None:
                groups[-1].append(node)
        return Sequence(tuple(tuple(g) for g in groups if g), tuple(negatives))

    def disjunction(self, depth: int) -> Node | None:
        first = self.atom(depth)
        options = [first] if first is not None else []
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("rp", "and", "or"):
                break
            if nxt.kind in ("not", "neg"):
                self.i += 1
                negated = self.unary(depth)
                if negated is not None:
                    options.append(Not(negated))
                continue
            node = self.atom(depth)
            if node is not None:
                options.append(node)
        if not options:
            return None
        return options[0] if len(options) == 1 else AnyOf(tuple(options))

    def unary(self, depth: int) -> Node | None:
        tok = self.peek()
        if tok is None or tok.kind in ("rp", "and", "or"):
            return None
        if tok.kind in ("not", "neg"):
            self.i += 1
            inner = self.unary(depth)
            return Not(inner) if inner is not None else None
        return self.atom(depth)

    def atom(self, depth: int) -> Node | None:
        tok = self.peek()
        if tok is None:
            return None
        if tok.kind == "lp":
            self.i += 1
            inner = self.sequence(depth + 1)
            if (close := self.peek()) is not None and close.kind == "rp":
                self.i += 1
            if not inner.groups and not inner.negatives:
                return None
            return inner
        if tok.kind == "quote":
            self.i += 1
            found = tuple(words(tok.text))
            return Phrase(found) if found else None
        if tok.kind == "word":
            self.i += 1
            return _word(tok.text, self.rules)
        self.i += 1
        return None


def _word(text: str, rules: QueryRules) -> Node | None:
    if text.endswith("*"):
        stem = text.rstrip("*")
        found = tuple(words(stem))
        if not found or not stem[-1:].isalnum() or len(found[-1]) < rules.min_prefix:
            raise SearchQueryError(
                f"{text!r}: a prefix search needs at least {rules.min_prefix} letters or "
                "digits right before the '*'")
        return Prefix(found)
    found = tuple(words(text))
    return Words(text, found) if found else None


def _count(node: Node) -> int:
    if isinstance(node, Words | Phrase | Prefix):
        return len(node.tokens)
    if isinstance(node, AnyOf):
        return sum(_count(c) for c in node.children)
    if isinstance(node, Not):
        return _count(node.child)
    return sum(_count(c) for g in node.groups for c in g) + sum(_count(c) for c in
                                                                node.negatives)


def _distinct(node: Node, out: set[str]) -> None:
    if isinstance(node, Words | Phrase | Prefix):
        out.update(node.tokens)
    elif isinstance(node, AnyOf):
        for c in node.children:
            _distinct(c, out)
    elif isinstance(node, Not):
        _distinct(node.child, out)
    else:
        for g in node.groups:
            for c in g:
                _distinct(c, out)
        for c in node.negatives:
            _distinct(c, out)


_EDGE_PUNCTUATION = "()[]{}<>,.;:!?\"'`"


def _free_text(cleaned: str) -> Sequence:
    """Every word of the text is a clause; nothing is an operator (a patient note)."""
    clauses: list[Node] = []
    for chunk in cleaned.split():
        found = tuple(words(chunk))
        if found:
            clauses.append(Words(chunk.strip(_EDGE_PUNCTUATION), found))
    return Sequence((tuple(clauses),) if clauses else (), ())


def parse(text: str, rules: QueryRules, mode: Mode = "auto") -> ParsedQuery:
    """Parse a user query; raise SearchQueryError when nothing sensible can be read.

    ``any`` reads the text as free text (no operators; any word may match). ``all`` reads
    the query syntax and requires every plain word. ``auto`` is ``all`` when the text uses
    operators, quotes or a prefix*, or has fewer than ``auto_any_min_terms`` different words,
    and ``any`` otherwise (a pasted note or abstract).
    """
    cleaned = clean(text)
    toks = _lex(cleaned)
    syntax = any(t.kind in ("quote", "and", "or", "not") for t in toks) or any(
        t.kind == "word" and t.text.endswith("*") for t in toks)
    long_text = not syntax and len(set(words(cleaned))) >= rules.auto_any_min_terms
    resolved: Literal["all", "any"] = "any" if mode == "any" or (
        mode == "auto" and long_text) else "all"
    if resolved == "any":
        root = _free_text(cleaned)
        explicit = False
    else:
        parser = _Parser(toks, rules)
        root = parser.sequence(0)
        explicit = syntax
    distinct: set[str] = set()
    _distinct(root, distinct)
    if len(distinct) > rules.max_terms:
        raise SearchQueryError(f"the query has {len(distinct)} different words; at most "
                               f"{rules.max_terms} are allowed")
    if not root.groups and not root.negatives and cleaned.strip():
        raise SearchQueryError("nothing to search for: the query has no letters or digits "
                               "outside operators")
    if not root.groups and root.negatives and not any(
            _count(n) for n in root.negatives):
        raise SearchQueryError("nothing to search for after NOT")
    return ParsedQuery(root, resolved, explicit)
