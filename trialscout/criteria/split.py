"""Splitting an eligibility text into inclusion and exclusion items with exact spans.

Real records use every layout there is: markdown bullets from API v2, indented legacy XML
with wrapped lines, numbered and lettered lists, nested sub-items, headings in many
spellings (or none, or exclusion first), and whole criteria written as one paragraph.
The splitter walks the text line by line and never drops a line: a line is a section
heading, a sub-heading, a new item, or the continuation of the item before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from trialscout.criteria import rules

MAX_DEPTH: Final = 6

_LINE: Final = re.compile(r"[^\r\n]*")
_BULLET_CHARS: Final = "-*+•●○◦▪▫■□▸►‣⁃∙·➢➤→✓✔"
_MARKER: Final = re.compile(
    r"(?P<bullet>(?:[" + re.escape(_BULLET_CHARS) + r"]|o(?=\s))(?:\s*[•●○◦▪·*])?)(?![-*=_])\s*"
    r"|(?P<dotted>\d{1,2}(?:\.\d{1,2})+)\.?\)?\s+"
    r"|\(?(?P<num>\d{1,3})(?:[.)]|\s?-\s)(?!\d)\s*"
    r"|\((?P<pnum>\d{1,3})\)\s*"
    r"|\(?(?P<roman>(?:i{1,3}|iv|vi{0,3}|ix|x))[.)]\s+"
    r"|\(?(?P<alpha>[a-zA-Z])[.)](?![a-zA-Z]\.)\s+"
)
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+(?=[\"'(]?[A-Z0-9])")
_ABBREV_END: Final = re.compile(
    r"(?:\b(?:e\.g|i\.e|vs|approx|etc|Dr|Drs|Mr|Mrs|Ms|St|No|Fig|incl|al|resp|min|max|ca|cf|Inc|Ltd|Jr|Sr|Prof|"
    r"mg|ml|dl|U\.S|u\.s|Ph|ref)\.|\b[A-Z]\.|\d\.)$")
_CONNECTOR_END: Final = re.compile(
    r"(?:\b(?:and|or|of|with|the|to|in|for|than|a|an|by|from|on|at|as|who|which|that|including|"
    r"than|if|but|nor|per|via|without|within|between|after|before|least|any|such)|[,(/&+-])\s*$",
    re.IGNORECASE)
_DECORATION: Final = re.compile(r"^[\s\-=_*~.#|+•:]*$")


class RawItem:
    """One item as split: its section, heading, offsets, marker and nesting.

    A plain class rather than a dataclass, as :class:`~trialscout.criteria.mentions.Mention`
    (one is made per item).
    """

    __slots__ = (
        "blank_before",
        "block",
        "depth",
        "end",
        "enumeration",
        "first_indent",
        "heading",
        "marker",
        "marker_end",
        "marker_start",
        "paragraph",
        "parent",
        "section",
        "section_explicit",
        "start",
    )

    def __init__(self, section: str, section_explicit: bool, heading: str | None, start: int,
                 end: int, depth: int = 0, parent: int | None = None,
                 marker: str | None = None, marker_start: int | None = None,
                 marker_end: int | None = None, paragraph: bool = False,
                 first_indent: int = 0) -> None:
        self.section = section
        self.section_explicit = section_explicit
        self.heading = heading
        self.start = start
        self.end = end
        self.depth = depth
        self.parent = parent
        self.marker = marker
        self.marker_start = marker_start
        self.marker_end = marker_end
        self.paragraph = paragraph
        self.first_indent = first_indent
        self.blank_before = False
        self.enumeration = False
        self.block = -1


@dataclass(slots=True)
class RawHeading:
    text: str
    start: int
    end: int
    section: str | None


@dataclass(slots=True)
class Split:
    items: list[RawItem] = field(default_factory=list)
    headings: list[RawHeading] = field(default_factory=list)


@dataclass
class _Patterns:
    section_line: re.Pattern[str]
    inline_heading: re.Pattern[str]
    subheadings: frozenset[str]
    inclusion: frozenset[str]
    bare_heading: re.Pattern[str]
    switch: re.Pattern[str]
    qualified: re.Pattern[str]


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    spec = rules.sections()
    terms = spec.inclusion + spec.exclusion
    term_re = rules.phrase_regex(terms)
    prefix_re = rules.phrase_regex(spec.prefixes)
    heading = (
        r"(?P<lead>[\s#*_>|\[\]\-•]*+)"
        r"(?P<head>(?:" + prefix_re + r"\s+){0,2}(?P<term>" + term_re + r")"
        r"(?:\s+(?:criteria|criterion|criterias))?"
        r"(?:\s*\([^()\n]{0,80}\))?"
        r"(?:\s+(?:for|in|of)\s+[^:\n]{1,60}?(?=[\s*_]*(?::|：|$)))?"
        r"(?:\s*-\s*[^:\n]{1,40}?(?=[\s*_]*(?::|：|$)))?)"
        r"(?P<trail>[\s*_]*+(?::|：|\.|-)?[\s*_]*+)"
    )
    section_line = re.compile(heading, re.IGNORECASE)
    inline = re.compile(
        r"(?<=[.;:!?)\]])\s+(?P<head>(?:" + prefix_re + r"\s+){0,2}(?P<term>" + term_re + r")"
        r"(?:\s+(?:criteria|criterion))?(?:\s*\([^()\n]{0,60}\))?)\s*:", re.IGNORECASE)
    # "... at the time of signing informed consent Exclusion Criteria: - ...": a heading
    # run into the text before it with no punctuation (its case is checked where used)
    bare = re.compile(
        r"(?<=\S)\s+(?P<head>(?:" + prefix_re + r"\s+){0,2}(?P<term>" + term_re + r")"
        r"\s+(?:criteria|criterion))\s*:", re.IGNORECASE)
    logic = rules.logic()
    who = rules.phrase_regex(logic.who)
    clauses = [re.escape(c).replace(r"\{who\}", "\x00").replace(r"\ ", r"\s+")
               for c in sorted(logic.inline_exclusion, key=len, reverse=True)]
    switch = re.compile(
        r"(?<=[;.,])\s+(?P<head>(?:" + "|".join(c.replace("\x00", who) for c in clauses)
        + r")\b:?)", re.IGNORECASE)
    # a heading line naming whose criteria these are: "Study A Exclusion Criteria:",
    # "Donor inclusion criteria", "Part 2 - Key Exclusion Criteria:"
    qualified = re.compile(
        r"[\s#*_>|\[\]\-•]*(?P<head>(?:[\w/()'’.,&+-]+\s+){1,5}?(?:" + prefix_re + r"\s+){0,2}"
        r"(?P<term>" + term_re + r")\s+(?:criteria|criterion)[\s*_]*(?::|：)?)[\s*_]*",
        re.IGNORECASE)
    lower_inc = frozenset(t.casefold() for t in spec.inclusion)
    return _Patterns(section_line, inline, frozenset(s.casefold() for s in spec.subheadings),
                     lower_inc, bare, switch, qualified)


def _section_of(term: str) -> str:
    return "inclusion" if term.casefold() in _patterns().inclusion else "exclusion"


_INLINE_BULLET_START: Final = re.compile(
    r"[ \t]*(?P<head>[^\n:]{1,60}:[ \t]*)?(?:[*•][ \t]+)?(?P<b>[-•])[ \t]+\S")


_CAPITAL_WORD: Final = re.compile(r"\(?(?![IVX]+\b)[A-Z][\w'’-]")


def _inline_bullets(text: str, a: int, b: int) -> list[int]:
    """Where a flattened list ("Inclusion Criteria: - Adults. - BMI over 30 - ...") starts
    its next items: at each " - " before a capital letter (or " • " before anything),
    outside parentheses, on a line whose own content starts with that bullet."""
    first = _INLINE_BULLET_START.match(text, a, b)
    if first is None or text.count(first.group("b"), first.end("b"), b) == 0:
        return []
    bullet = first.group("b")
    cuts: list[int] = []
    depth = 0
    position = first.end("b")
    while True:
        at = text.find(bullet, position, b)
        if at < 0:
            break
        depth += (text.count("(", position, at) + text.count("[", position, at)
                  - text.count(")", position, at) - text.count("]", position, at))
        depth = max(depth, 0)
        position = at + 1
        if depth or at + 2 >= b or not text[at - 1].isspace() or text[at + 1] not in " \t":
            continue
        if bullet == "-" and not _CAPITAL_WORD.match(text, at + 2, b):
            continue
        cuts.append(at)
    # one " - " on a bulleted line is a dash far more often than a second item; after a
    # heading ("Exclusion Criteria: - A. - B") the list is plain
    needed = 2 if bullet == "-" and first.group("head") is None else 1
    return cuts if len(cuts) >= needed else []


def _lines(text: str) -> list[tuple[int, int, int]]:
    """(start, end, switch_end) of each line. Inline section headings, inline switches to
    the exclusions ("...; patients are excluded if they have ...", ``switch_end`` being the
    end of that clause, else -1) and the items of a flattened list start lines of their
    own."""
    out: list[tuple[int, int, int]] = []
    patterns = _patterns()
    for match in _LINE.finditer(text):
        a, b = match.span()
        if a == b and out and out[-1][1] == a:
            continue
        if b - a <= 20:
            out.append((a, b, -1))
            continue
        cuts = {m.start("head"): -1 for m in patterns.inline_heading.finditer(text, a, b)}
        lowered = text[a:b].lower()
        if "criteri" in lowered:
            for m in patterns.bare_heading.finditer(text, a, b):
                # a short line ending in such a heading is a heading as a whole
                if text[m.start("head")].isupper() and \
                        _sentence_before(re.findall(r"\w[\w'’-]*", text[a:m.start("head")])):
                    cuts.setdefault(m.start("head"), -1)
        if ("exclu" in lowered or "eligib" in lowered) and \
                _MARKER.match(text, a + _indent(text, a, b), b) is None:
            for m in patterns.switch.finditer(text, a, b):
                cuts[m.start("head")] = m.end("head")
        pieces = [a, *sorted(cuts)]
        for i, s in enumerate(pieces):
            e = pieces[i + 1] if i + 1 < len(pieces) else b
            bullets = _inline_bullets(text, s, e)
            starts = [s, *bullets]
            for j, t in enumerate(starts):
                out.append((t, starts[j + 1] if j + 1 < len(starts) else e,
                            cuts.get(s, -1) if j == 0 else -1))
    return out


def _indent(text: str, a: int, b: int) -> int:
    n = 0
    for ch in text[a:b]:
        if ch == " ":
            n += 1
        elif ch == "\t":
            n += 4
        else:
            break
    return n


def _named(words: str) -> bool:
    """Whether the words before a heading name a part or a group ("Study A", "Donor",
    "Part 2 -") rather than run a sentence ("not matched to")."""
    return all(not w[:1].islower() for w in words.split())


def _sentence_before(words: list[str]) -> bool:
    """Whether the words before an inline heading are a criterion's text run into it."""
    return len(words) > 8 or (len(words) > 5 and any(w[:1].islower() for w in words))


def _match_heading(text: str, a: int, b: int) -> tuple[str, int, int, int] | None:
    """A section heading at line start: (section, heading_start, heading_end, rest_start)."""
    match = _patterns().section_line.match(text, a, b)
    if match is None:
        qualified = _patterns().qualified.fullmatch(text, a, b)
        if qualified is None or not _named(text[qualified.start("head"):
                                                 qualified.start("term")]):
            return None
        head_start, head_end = _trim(text, qualified.start("head"), qualified.end("head"))
        return _section_of(qualified.group("term")), head_start, head_end, b
    rest = match.end()
    trail = match.group("trail")
    has_colon = ":" in trail or "：" in trail
    remainder = text[rest:b].strip()
    if not has_colon and remainder:
        return None
    if not has_colon and not remainder:
        head = match.group("head")
        if len(head.split()) > 8:
            return None
    if has_colon and remainder and len(match.group("head")) > 90:
        return None
    head_start = match.start("head")
    head_end = match.end("trail") if has_colon else match.end("head")
    while head_end > head_start and text[head_end - 1].isspace():
        head_end -= 1
    return _section_of(match.group("term")), head_start, head_end, rest


def _is_subheading(content: str) -> bool:
    stripped = content.strip().strip("*_#").strip()
    if not stripped.endswith(":") or len(stripped) < 3:
        return False
    body = stripped[:-1].strip().strip("*_").strip()
    if not body or len(body) > 80:
        return False
    if body.casefold() in _patterns().subheadings:
        return True
    letters = [c for c in body if c.isalpha()]
    return (len(letters) >= 4 and all(c.isupper() for c in letters)
            and len(body.split()) <= 8 and not any(c.isdigit() for c in body))


def _marker_type(match: re.Match[str]) -> str:
    if match.group("bullet"):
        return "bullet:" + match.group("bullet")[0]
    if match.group("dotted"):
        return "dotted:" + str(match.group("dotted").count("."))
    if match.group("num"):
        closing = match.group(0).strip()[-1:]
        return "num" + ("(" if match.group(0).startswith("(") else closing)
    if match.group("pnum"):
        return "pnum"
    if match.group("roman"):
        return "roman"
    alpha = match.group("alpha")
    return "alpha_upper" if alpha.isupper() else "alpha_lower"


def _split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of a paragraph, never splitting inside parentheses or abbreviations."""
    pieces: list[tuple[int, int]] = []
    cursor = start
    depth = 0
    last_checked = start
    for match in _SENTENCE_END.finditer(text, start, end):
        for ch in text[last_checked:match.start()]:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth = max(0, depth - 1)
        last_checked = match.start()
        if depth:
            continue
        before = text[max(cursor, match.start() - 12):match.start()]
        if _ABBREV_END.search(before):
            continue
        if match.start() - cursor < 6:
            continue
        pieces.append((cursor, match.start()))
        cursor = match.end()
    pieces.append((cursor, end))
    return [(a, b) for a, b in pieces if b > a]


# words that open a clause leaning on the one before it ("...; however, ...", "...; if so")
_DEPENDENT: Final = frozenset({
    "however", "but", "if", "unless", "except", "excluding", "which", "whichever", "that",
    "this", "these", "those", "it", "its", "they", "their", "otherwise", "including",
    "include", "includes", "provided", "i.e", "e.g", "ie", "eg", "whereas", "where", "when",
    "then", "thus", "therefore", "hence", "as", "such", "only", "see", "in", "defined", "by"})
# a sentence that lists alternatives or examples before its semicolons ("i.e. colorectal
# cancer; lung cancer; ..."), or a note, is one criterion
_LISTS_ALTERNATIVES: Final = re.compile(
    r"\b(?:i\.?e|e\.?g|such\s+as|including|one\s+of|any\s+of|either|following|"
    r"defined\s+as)\b", re.IGNORECASE)
_WORD: Final = re.compile(r"[A-Za-z][A-Za-z.]*")


def _split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clauses of a paragraph sentence joined by semicolons ("Age 18-70; BMI under 35; no
    diabetes"): split outside parentheses, unless the next clause leans on the one before
    it ("; however, ...") or is too short to be a criterion ("; ii.")."""
    first = text.find(";", start, end)
    if first < 0 or _LISTS_ALTERNATIVES.search(text, start, first) or \
            text[start:start + 12].lstrip(" *-(").lower().startswith("note"):
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    cursor = start
    depth = 0
    for position in range(start, end):
        ch = text[position]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch == ";" and not depth and position + 1 < end and text[position + 1] in " \t":
            following = _WORD.findall(text, position + 1, min(end, position + 80))
            words = [w for w in following if len(w) > 1]
            if len(words) < 2 or following[0].lower().rstrip(".") in _DEPENDENT:
                continue
            if len(_WORD.findall(text, cursor, position)) < 2:
                continue
            pieces.append((cursor, position + 1))
            cursor = position + 1
    pieces.append((cursor, end))
    return [(a, b) for a, b in pieces if text[a:b].strip()]


def _split_enumeration(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The members of a list that an inline switch introduced ("excluded if they have A,
    B (with C, D), E or F, or G"): split at commas and semicolons outside parentheses when
    there are at least three members; each member keeps its own words ("or G")."""
    cuts: list[tuple[int, int]] = []
    depth = 0
    for position in range(start, end):
        ch = text[position]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch in ",;" and not depth and position + 1 < end and text[position + 1] in " \t":
            cuts.append((position, position + 1))
    if len(cuts) < 2:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    cursor = start
    for a, b in cuts:
        pieces.append((cursor, a))
        cursor = b
    pieces.append((cursor, end))
    return [(a, b) for a, b in pieces if text[a:b].strip()]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def split_items(text: str) -> Split:
    """Split ``text`` into items and headings; every word of it lands in one of them."""
    out = Split()
    section = "inclusion"
    explicit = False
    heading: str | None = None
    stack: list[tuple[int, str, int]] = []
    current: RawItem | None = None
    after_blank = True
    block = -1

    def close() -> None:
        nonlocal current
        current = None

    def start_item(a: int, b: int, depth: int, parent: int | None, marker: str | None,
                   mstart: int | None, mend: int | None, indent: int, paragraph: bool) -> None:
        nonlocal current
        a, b = _trim(text, a, b)
        current = RawItem(section, explicit, heading, a, b, depth, parent, marker, mstart, mend,
                          paragraph, indent)
        current.blank_before = after_blank
        current.block = block
        out.items.append(current)

    for a, b, switch_end in _lines(text):
        line = text[a:b]
        if not line.strip():
            after_blank = True
            continue
        indent = _indent(text, a, b)
        content_start = a + (len(line) - len(line.lstrip()))
        found = _match_heading(text, content_start, b)
        if switch_end > 0:
            found = ("exclusion", content_start, switch_end, switch_end)
        if found is not None:
            section, h_start, h_end, rest = found
            explicit = True
            heading = None
            out.headings.append(RawHeading(text[h_start:h_end], h_start, h_end, section))
            block = len(out.headings) - 1
            stack.clear()
            close()
            after_blank = True
            if not text[rest:b].strip():
                continue
            content_start = rest
            while content_start < b and text[content_start].isspace():
                content_start += 1
            after_blank = True
        if _DECORATION.match(text[content_start:b]):
            if current is not None and not after_blank:
                current.end = max(current.end, _trim(text, content_start, b)[1])
            else:
                out.headings.append(RawHeading(text[content_start:b].strip(),
                                               *_trim(text, content_start, b), None))
            continue
        marker = _MARKER.match(text, content_start, b)
        if marker is not None and marker.end() >= b:
            marker = None
        body_start = marker.end() if marker else content_start
        if _is_subheading(text[body_start:b]):
            h_start, h_end = _trim(text, body_start, b)
            heading = text[h_start:h_end].strip("*_#: ").strip() or None
            out.headings.append(RawHeading(text[h_start:h_end], h_start, h_end, None))
            if marker is not None:
                out.headings.append(RawHeading(marker.group(0).strip(),
                                               *_trim(text, marker.start(), marker.end()), None))
            stack.clear()
            close()
            after_blank = True
            continue
        if marker is not None:
            mtype = _marker_type(marker)
            if mtype.startswith("dotted:"):
                level = int(mtype.split(":")[1])
                while stack and (len(stack) > level or (stack[-1][1].startswith("dotted")
                                 and int(stack[-1][1].split(":")[1]) >= level)):
                    stack.pop()
            else:
                while stack:
                    top_indent, _top_type, top_item = stack[-1]
                    if indent < top_indent:
                        stack.pop()
                        continue
                    if indent == top_indent:
                        same = [i for i, (ind, typ, _) in enumerate(stack)
                                if ind == indent and typ == mtype]
                        if same:
                            del stack[same[-1]:]
                        elif out.items[top_item].end > 0 and \
                                text[out.items[top_item].start:out.items[top_item].end] \
                                .rstrip().endswith(":"):
                            pass
                        else:
                            stack.pop()
                    break
            depth = min(len(stack), MAX_DEPTH)
            parent = stack[-1][2] if stack else None
            mstart, mend = _trim(text, marker.start(), marker.end())
            start_item(body_start, b, depth, parent, mtype, mstart, mend, indent, False)
            stack.append((indent, mtype, len(out.items) - 1))
            after_blank = False
            continue
        if current is not None and _continues(text, current, content_start, b, indent,
                                              after_blank):
            current.end = _trim(text, content_start, b)[1]
            after_blank = False
            continue
        if current is not None and current.marker is None:
            stack.clear()
        start_item(content_start, b, 0, None, None, None, None, indent, True)
        if switch_end > 0 and current is not None:
            current.enumeration = True
        stack.clear()
        after_blank = False
    _split_paragraphs(text, out)
    _reindex_parents(out)
    return out


def _continues(text: str, item: RawItem, a: int, b: int, indent: int, after_blank: bool) -> bool:
    """Whether an unmarked line continues ``item`` rather than starting a new one."""
    if after_blank:
        return item.marker is not None and indent > item.first_indent + 1 and indent > 0
    if item.marker is not None:
        return True
    previous = text[item.start:item.end].rstrip()
    if previous.endswith((".", ";", "?", "!")):
        return False
    first = text[a:b].lstrip()[:1]
    if previous.endswith(":"):
        return False
    if _CONNECTOR_END.search(previous):
        return True
    if first.islower():
        return True
    return indent > item.first_indent


def _split_paragraphs(text: str, out: Split) -> None:
    """Unmarked paragraphs of several sentences become one item per sentence."""
    items: list[RawItem] = []
    for item in out.items:
        if not item.paragraph or item.end - item.start < 20:
            items.append(item)
            continue
        pieces = _split_sentences(text, item.start, item.end)
        if item.enumeration:
            pieces = [part for a, b in pieces for part in _split_enumeration(text, a, b)]
        elif ";" in text[item.start:item.end]:
            pieces = [part for a, b in pieces for part in _split_clauses(text, a, b)]
        if len(pieces) == 1:
            items.append(item)
            continue
        for number, (a, b) in enumerate(pieces):
            a, b = _trim(text, a, b)
            piece = RawItem(item.section, item.section_explicit, item.heading, a, b,
                            item.depth, None, None, None, None, True, item.first_indent)
            piece.blank_before = item.blank_before and number == 0
            piece.block = item.block
            items.append(piece)
    if len(items) != len(out.items):
        new_position = {id(item): index for index, item in enumerate(items)}
        remap = {old_index: new_position[id(old)] for old_index, old in enumerate(out.items)
                 if id(old) in new_position}
        for item in items:
            if item.parent is not None:
                item.parent = remap.get(item.parent)
        out.items = items


def _reindex_parents(out: Split) -> None:
    for index, item in enumerate(out.items):
        if item.parent is not None and not 0 <= item.parent < index:
            item.parent = None
            item.depth = 0
