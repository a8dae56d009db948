"""A trial's criteria as self-check questions, from the criteria parser.

Each parsed item brings its plain-language question, the normalized question key shared
by every trial asking the same thing, and the answer that satisfies it. The parse stored
with the trial is used when it comes from the current parser version; otherwise the text
is parsed here. Either way the result is kept in a small per-process cache keyed by the
criteria text.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable

from trialscout.criteria import PARSER_VERSION, ParsedCriteria, parse_criteria
from trialscout.criteria.model import LogicNode
from trialscout.registry.model import Trial
from trialscout.sessions.selfcheck import Group, Question

_MARKDOWN_ESCAPE = re.compile(r"\\([\\<>*_\[\]()#+\-.!|`{}~^=])")
PARSER_LABEL = f"trialscout-criteria/{PARSER_VERSION}"


def display_text(text: str) -> str:
    """Registry text as a person should read it: 'eGFR \\< 35' -> 'eGFR < 35'."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text).strip()


CACHE_SIZE = 4096
_cache: OrderedDict[str, ParsedCriteria] = OrderedDict()
_lock = threading.Lock()
StoredLoader = Callable[[], "ParsedCriteria | None"]


def _parsed(text: str, stored: StoredLoader | None) -> ParsedCriteria:
    with _lock:
        hit = _cache.get(text)
        if hit is not None:
            _cache.move_to_end(text)
            return hit
    parsed = stored() if stored is not None else None
    if parsed is None or parsed.parser_version != PARSER_VERSION:
        parsed = parse_criteria(text)
    with _lock:
        _cache[text] = parsed
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return parsed


def questions_for(trial: Trial, stored: StoredLoader | None = None
                  ) -> tuple[list[Question], str]:
    """The trial's questions; ``stored`` loads its stored parse, if the app keeps one."""
    text = trial.eligibility.criteria or ""
    if not text.strip():
        return [], PARSER_LABEL
    parsed = _parsed(text, stored)
    groups, labels = _groups(parsed)
    questions = [
        Question(item_id=f"c{item.index}", section=item.section,
                 text=display_text(item.text), question=display_text(item.question.text),
                 question_key=item.question.key, satisfying_answer=item.question.meets,
                 answerable=item.question.answerable, depth=item.depth,
                 groups=groups.get(item.index, ()), label=labels.get(item.index))
        for item in parsed.items]
    return questions, f"trialscout-criteria/{parsed.parser_version}"


def _groups(parsed: ParsedCriteria) -> tuple[dict[int, tuple[Group, ...]], dict[int, Group]]:
    """Each item's enclosing groups (outermost first) and the lead-ins that only announce
    a group, from the parse's logic tree."""
    groups: dict[int, tuple[Group, ...]] = {}
    labels: dict[int, Group] = {}
    leaves: set[int] = set()

    def walk(node: LogicNode, path: tuple[Group, ...]) -> None:
        for index in node.items:
            groups[index] = path
            leaves.add(index)
        for n, child in enumerate(node.children):
            group = Group(id=f"{'.'.join(g.id for g in path)}/{child.item}:{n}",
                          op=child.op, k=child.k)
            if child.item is not None:
                labels[child.item] = group
            walk(child, (*path, group))

    for root in parsed.logic.values():
        walk(root, ())
    return groups, {i: g for i, g in labels.items() if i not in leaves}


def warm_up() -> None:
    """Load the parser's vocabularies now rather than on a visitor's first trial page."""
    parse_criteria("Inclusion Criteria:\n* Adults aged 18 years or older")
