"""How a section's items combine: a tree of ``all`` / ``any`` / ``at_least`` nodes.

Registry texts say how criteria combine in a few ways, all read here:

* a parent item whose lead-in names the count ("At least one of the following risk
  factors:", "two or more of", "all of the following", "either:") over its sub-items
  (nested by the split, or the run of items that follows a flat lead-in ending in ":");
* a plain parent ("Adequate organ function:" with its sub-items): in the inclusion
  section its sub-items all apply; in the exclusion section each one excludes;
* items chained by a trailing "or" / "; or" (or a next item starting with "or"), and lone
  "OR" / "AND" lines between items.

A lead-in is a label, not a criterion, when nothing the patient could be asked about is
written before its group phrase: the node keeps its index in ``item`` and it is never
evaluated. A lead-in that also says something ("Postmenopausal women with at least one
of:") stays a leaf, ANDed with its group. A lead-in whose words make the sub-items
exceptions or things not to have ("unless all of the following are met") is not read as
a group: its sub-items keep the section's own logic, as before trees.

The section roots are ``all`` for inclusion and ``any`` for exclusion (one met exclusion
excludes). Every item index of a section appears exactly once in its tree, as a leaf or a
label. Matching folds verdicts through the tree (:mod:`trialscout.matching.logic`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from trialscout.criteria import rules
from trialscout.criteria.construct import build
from trialscout.criteria.model import Item, LogicNode, Span

SECTIONS: Final = ("inclusion", "exclusion")
_NOT_TYPED: Final = frozenset({"other"})


class _Rules:
    """The compiled phrases of ``rules/logic.yaml``."""

    __slots__ = (
        "all_re",
        "any_re",
        "at_least_re",
        "blocker_re",
        "chain_end",
        "chain_start",
        "connector",
        "defines_re",
        "exclusion_blocker_re",
        "group_re",
        "numbers",
    )

    def __init__(self) -> None:
        spec = rules.logic()
        self.numbers: dict[str, int] = {k.casefold(): v for k, v in spec.numbers.items()}
        number = r"(?P<n>\d{1,2}|" + "|".join(re.escape(w) for w in self.numbers) + r")"
        self.any_re = re.compile(rules.phrase_regex(spec.groups.any), re.IGNORECASE)
        self.all_re = re.compile(rules.phrase_regex(spec.groups.all), re.IGNORECASE)
        self.at_least_re: list[re.Pattern[str]] = []
        for phrase in spec.groups.at_least:
            escaped = re.escape(phrase.strip()).replace(r"\ ", r"\s+")
            self.at_least_re.append(re.compile(
                r"\b" + escaped.replace(r"\{n\}", number) + r"\b", re.IGNORECASE))
        self.blocker_re = re.compile(rules.phrase_regex(spec.blockers), re.IGNORECASE)
        chain = rules.phrase_regex(spec.chain_or)
        self.chain_end = re.compile(r"(?:^|[\s;,])" + chain + r"[\s:.;,]*$", re.IGNORECASE)
        self.chain_start = re.compile(r"^[\s(]*" + chain + r"\b(?!\s*$)", re.IGNORECASE)
        self.exclusion_blocker_re = re.compile(rules.phrase_regex(spec.exclusion_blockers),
                                               re.IGNORECASE)
        self.defines_re = re.compile(rules.phrase_regex(spec.defining), re.IGNORECASE)
        self.group_re = re.compile(rules.phrase_regex(spec.alternative_groups),
                                   re.IGNORECASE)
        self.connector = re.compile(r"^[\s(*_\-]*(?P<word>or|and|and/or)[\s)*_:.;,\-]*$",
                                    re.IGNORECASE)


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    return _Rules()


class GroupReading:
    """What a lead-in says: the op, its ``k``, and where the group phrase starts."""

    __slots__ = ("k", "op", "start")

    def __init__(self, op: str, k: int | None, start: int) -> None:
        self.op = op
        self.k = k
        self.start = start


def read_group(text: str, section: str = "inclusion") -> GroupReading | None:
    """The group a lead-in announces ("at least two of the following:"), or None when it
    names none or its words block it: before the phrase ("unless all of the following"),
    or, among exclusions, a condition or duty that turns the sub-items into requirements
    ("If an aneurysm is known, all the following criteria must be met:")."""
    r = _rules()
    found: list[tuple[int, str, int | None]] = []
    for pattern in r.at_least_re:
        for match in pattern.finditer(text):
            word = match.group("n").casefold()
            count = int(word) if word.isdigit() else r.numbers.get(word, 0)
            if count >= 1:
                found.append((match.start(), "any" if count == 1 else "at_least",
                              None if count == 1 else count))
    found.extend((m.start(), "any", None) for m in r.any_re.finditer(text))
    found.extend((m.start(), "all", None) for m in r.all_re.finditer(text))
    if not found:
        return None
    start, op, k = max(found, key=lambda f: f[0])
    if r.blocker_re.search(text, 0, start):
        return None
    if section == "exclusion" and r.exclusion_blocker_re.search(text):
        return None
    return GroupReading(op, k, start)


def _typed_before(item: Item, end: int) -> bool:
    """Whether the item states something checkable before offset ``end`` of its text."""
    for constraint in item.constraints:
        if constraint.exception or constraint.kind in _NOT_TYPED:
            continue
        start = constraint.span.start
        if constraint.concept is not None:
            start = min(start, constraint.concept.span.start)
        if start < end:
            return True
    return False


_SCOPE_KINDS: Final = frozenset({"sex", "age", "menopause"})


def _only_scope_before(item: Item, end: int) -> bool:
    """Whether all the lead-in says before its group phrase is whom it concerns
    ("Postmenopausal women aged over 50 with any of the following:")."""
    kinds = {c.kind for c in item.constraints
             if not c.exception and c.kind not in _NOT_TYPED and c.span.start < end}
    return bool(kinds) and kinds <= _SCOPE_KINDS


def _ends_or(text: str) -> bool:
    """Whether an item ends with "or" ("A; or"): its next item is an alternative to it."""
    tail = text[-16:]
    if not tail.rstrip(" \t;,.:").lower().endswith("or"):
        return False
    return bool(_rules().chain_end.search(tail))


def _is_lead_in(text: str) -> bool:
    return text.rstrip(" *_").endswith((":", "："))


def _connector(text: str) -> str | None:
    if len(text) > 16:
        return None
    match = _rules().connector.match(text)
    if match is None:
        return None
    return "any" if match.group("word").casefold() in {"or", "and/or"} else "all"


class _Unit:
    """One member of a sibling list while building: a leaf item or a finished node."""

    __slots__ = ("first", "last", "leaf", "node")

    def __init__(self, leaf: int | None, node: LogicNode | None, first: int, last: int) -> None:
        self.leaf = leaf
        self.node = node
        self.first = first
        self.last = last


def _node(op: str, k: int | None, units: list[_Unit], item: int | None,
          span: Span | None) -> LogicNode:
    """A node over ``units``; an unlabeled child of the same op (not ``at_least``) is
    merged into it, since all(a, all(b, c)) is all(a, b, c)."""
    leaves: list[int] = []
    children: list[LogicNode] = []
    for unit in units:
        if unit.leaf is not None:
            leaves.append(unit.leaf)
            continue
        child = unit.node
        if child is None:
            continue
        if child.op == op and op != "at_least" and child.item is None:
            leaves.extend(child.items)
            children.extend(child.children)
        else:
            children.append(child)
    return build(LogicNode, {"op": op, "k": k, "items": leaves, "children": children,
                             "item": item, "span": span})


class _Builder:
    """Builds one section's tree from its items (indices into ``items``)."""

    def __init__(self, items: list[Item], blank_before: list[bool], section: str) -> None:
        self.items = items
        self.blank = blank_before
        self.headings: list[str | None] = []
        self.section = section
        self.default = "all" if section == "inclusion" else "any"
        self.kids: dict[int, list[int]] = {}

    def build(self, members: list[int]) -> LogicNode:
        own = set(members)
        roots: list[int] = []
        for index in members:
            parent = self.items[index].parent
            if parent is not None and parent in own:
                self.kids.setdefault(parent, []).append(index)
            else:
                roots.append(index)
        groups = self._alternative_groups(roots)
        if len(groups) < 2:
            return _node(self.default, None, self._siblings(roots), None, None)
        grouped = {i for members_ in groups.values() for i in members_}
        common = self._siblings([i for i in roots if i not in grouped])
        alternatives = [_Unit(None, _node("all", None, self._siblings(members_), None, None),
                              members_[0], members_[-1]) for members_ in groups.values()]
        either = _Unit(None, _node("any", None, alternatives, None, None), 0, 0)
        return _node(self.default, None, [*common, either], None, None)

    def _alternative_groups(self, roots: list[int]) -> dict[str, list[int]]:
        """Inclusions under headings that each name a group of participants ("Inclusion
        Criteria - control group:"), by heading: a participant joins one of the groups."""
        if self.section != "inclusion" or not self.headings:
            return {}
        pattern = _rules().group_re
        out: dict[str, list[int]] = {}
        for index in roots:
            heading = self.headings[index] if index < len(self.headings) else None
            if heading and pattern.search(heading):
                out.setdefault(heading, []).append(index)
        return out

    def _siblings(self, indices: list[int]) -> list[_Unit]:
        """Units of one sibling list: flat lead-ins adopt their run, then "or" chains."""
        units: list[_Unit] = []
        position = 0
        while position < len(indices):
            index = indices[position]
            kids = self.kids.get(index)
            if kids:
                units.append(self._group(index, kids))
                position += 1
                continue
            run = self._flat_run(indices, position)
            if run:
                units.append(self._group(index, run))
                position += 1 + len(run)
                continue
            units.append(_Unit(index, None, index, index))
            position += 1
        return self._chains(units)

    def _flat_run(self, indices: list[int], position: int) -> list[int]:
        """The items a flat lead-in ("At least one of the following:" followed by items at
        its own level) governs, when where the run ends is clear: before a blank line, an
        item in another list style or under another sub-heading, or at the end of an "or"
        chain. A run that only the section's end or another lead-in closes is not taken
        unless reading it cannot change the outcome (alternatives among exclusions)."""
        lead = self.items[indices[position]]
        if not _is_lead_in(lead.text):
            return []
        reading = read_group(lead.text, self.section)
        if reading is None:
            return []
        run: list[int] = []
        closed = False
        first_marker: str | None = None
        following = indices[position + 1:]
        if following and _ends_or(self.items[following[0]].text):
            # "either:" followed by "A; or" / "B": the run is the chain
            for index in following:
                run.append(index)
                if not _ends_or(self.items[index].text):
                    break
            following = []
            closed = True
        for index in following:
            item = self.items[index]
            if run and (self.blank[index] or (item.marker or "") != first_marker
                        or item.heading != lead.heading):
                closed = True
                break
            if _is_lead_in(item.text) or self.kids.get(index):
                # another lead-in ends the run, but lists run on to it more often than a
                # blank line would tell: only a run of alternatives among exclusions
                # (which reads the same either way) is taken on that alone
                break
            if not run:
                first_marker = item.marker or ""
            run.append(index)
        if len(run) < 2:
            return []
        if not closed and not (self.section == "exclusion" and reading.op == "any"):
            return []
        if reading.k is not None and reading.k > len(run):
            return []
        return run

    def _group(self, lead_index: int, kids: list[int]) -> _Unit:
        lead = self.items[lead_index]
        members = self._siblings(kids)
        last = max(u.last for u in members)
        reading = read_group(lead.text, self.section)
        if reading is None:
            op, k, phrase_start = self.default, None, len(lead.text)
        else:
            op, k, phrase_start = reading.op, reading.k, reading.start
        if k is not None and k > len(members):
            k = len(members)
        if op == "at_least" and k is not None and k >= len(members):
            op, k = "all", None
        before = lead.text[:phrase_start]
        if not _typed_before(lead, phrase_start) or (
                reading is not None and _rules().defines_re.search(before[-40:])):
            # only announces its group, or names what the group defines ("Active cardiac
            # disease, defined as any of the following:"): the group says it all
            return _Unit(None, _node(op, k, members, lead_index, lead.span), lead_index, last)
        leaf = _Unit(lead_index, None, lead_index, lead_index)
        if reading is not None and (_ends_or(before.rstrip(" ,;:")) or (
                self.section == "exclusion" and op == "any"
                and not _only_scope_before(lead, phrase_start))):
            # "Uncontrolled diabetes, or either of the following:"; among exclusions a
            # lead-in and its alternatives each exclude, as every item did before trees,
            # unless the lead-in only says whom they concern ("Women with any of:")
            return _Unit(None, _node("any", None, [leaf, *members], None, None),
                         lead_index, last)
        if reading is None:
            # a plain parent that says something: its own words and its sub-items sit
            # side by side in the section's logic, as every item did before trees
            return _Unit(None, _node(self.default, None, [leaf, *members], None, None),
                         lead_index, last)
        inner = _Unit(None, _node(op, k, members, None, lead.span), lead_index, last)
        return _Unit(None, _node("all", None, [leaf, inner], None, None), lead_index, last)

    def _chains(self, units: list[_Unit]) -> list[_Unit]:
        """Join units chained by "or" into ``any`` nodes; lone "OR" / "AND" lines label
        the node of the units either side of them."""
        r = _rules()
        out: list[_Unit] = []
        position = 0
        while position < len(units):
            unit = units[position]
            label = self._connector_of(unit)
            if label is not None and out and position + 1 < len(units):
                op, connector = label
                left = out.pop()
                right = units[position + 1]
                out.append(_Unit(None, _node(op, None, [left, right], connector,
                                             self.items[connector].span),
                                 left.first, right.last))
                position += 2
                continue
            if label is not None:
                op, connector = label
                out.append(_Unit(None, _node("all", None, [], connector,
                                             self.items[connector].span),
                                 connector, connector))
                position += 1
                continue
            chain = [unit]
            while position + 1 < len(units):
                nxt = units[position + 1]
                if self._connector_of(nxt) is not None:
                    break
                tail = chain[-1]
                ends_or = tail.leaf is not None and _ends_or(self.items[tail.leaf].text)
                starts_or = nxt.leaf is not None and bool(
                    r.chain_start.match(self.items[nxt.leaf].text))
                if not (ends_or or starts_or):
                    break
                chain.append(nxt)
                position += 1
            if len(chain) > 1:
                out.append(_Unit(None, _node("any", None, chain, None, None),
                                 chain[0].first, chain[-1].last))
            else:
                out.append(unit)
            position += 1
        return out

    def _connector_of(self, unit: _Unit) -> tuple[str, int] | None:
        if unit.leaf is None:
            return None
        op = _connector(self.items[unit.leaf].text)
        return None if op is None else (op, unit.leaf)


def build_logic(items: list[Item], blank_before: list[bool] | None = None,
                headings: list[str | None] | None = None) -> dict[str, LogicNode]:
    """The logic tree of each section that has items (``{"inclusion": ..., ...}``).

    ``blank_before[i]`` tells whether a blank line came before item ``i`` (it closes the
    run of a flat lead-in); without it no run is closed by one. ``headings[i]`` is the
    section heading item ``i`` stands under, if any (headings that name groups of
    participants make their inclusions alternatives).
    """
    blanks = blank_before if blank_before is not None else [False] * len(items)
    out: dict[str, LogicNode] = {}
    for section in SECTIONS:
        members = [item.index for item in items if item.section == section]
        if members:
            builder = _Builder(items, blanks, section)
            builder.headings = headings or []
            out[section] = builder.build(members)
    return out


def leaves(node: LogicNode) -> list[int]:
    """Every leaf item index under ``node``, labels excluded, in tree order."""
    out: list[int] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.extend(current.items)
        stack.extend(reversed(current.children))
    return out
