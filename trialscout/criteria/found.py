"""The mentions of one criterion as plain data: :class:`Mention` and :class:`Found`.

They live apart from the readers that make them (:mod:`trialscout.criteria.mentions` and
the modules it calls) so that every reader, the extractor and the scope marker can share
them without importing each other. Both are plain slotted classes because wheels compile
the parser with mypyc, where a dataclass's generated ``__init__`` stays interpreted.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from trialscout.criteria.tokens import Token


class Mention:
    """One thing found in a criterion: a concept, a value, a time, a negation or a cue.

    A plain class rather than a dataclass: wheels compile this module, and a compiled
    class runs its own ``__init__``, where a dataclass's generated one is interpreted
    (tens of thousands of mentions are made per thousand trials). Compared by identity.
    """

    __slots__ = (
        "comparator",
        "concept_id",
        "curated",
        "end",
        "name",
        "numbers",
        "quantity",
        "relation",
        "sex",
        "start",
        "subtype",
        "time_unit",
        "type",
        "unit",
        "used",
        "value",
        "value_high",
    )

    def __init__(self, type: str, start: int, end: int, concept_id: str | None = None,
                 name: str | None = None, curated: bool = False,
                 comparator: str | None = None, value: float | None = None,
                 value_high: float | None = None, unit: str | None = None,
                 time_unit: str | None = None, quantity: tuple[int, int] | None = None,
                 numbers: list[tuple[int, int]] | None = None, relation: str | None = None,
                 sex: str | None = None, subtype: str | None = None,
                 used: bool = False) -> None:
        self.type = type
        self.start = start
        self.end = end
        self.concept_id = concept_id
        self.name = name
        self.curated = curated
        self.comparator = comparator
        self.value = value
        self.value_high = value_high
        self.unit = unit
        self.time_unit = time_unit
        self.quantity = quantity
        self.numbers: list[tuple[int, int]] = [] if numbers is None else numbers
        self.relation = relation
        self.sex = sex
        self.subtype = subtype
        self.used = used

    def __repr__(self) -> str:
        return (f"Mention({self.type!r}, {self.start}, {self.end}, "
                f"concept_id={self.concept_id!r}, subtype={self.subtype!r})")


class Found:
    """Everything found in one cleaned item text (a plain class, as :class:`Mention`)."""

    __slots__ = (
        "clause_breaks",
        "concepts",
        "contexts",
        "cues",
        "exceptions",
        "negations",
        "qualitatives",
        "scope_breaks",
        "temporal",
        "text",
        "tokens",
        "values",
        "words",
    )

    def __init__(self, text: str, tokens: list[Token], concepts: list[Mention],
                 values: list[Mention], temporal: list[Mention], negations: list[Mention],
                 exceptions: list[Mention], cues: list[Mention], qualitatives: list[Mention],
                 scope_breaks: list[int], clause_breaks: list[int],
                 words: set[str] | None = None, contexts: list[Mention] | None = None
                 ) -> None:
        self.text = text
        self.tokens = tokens
        self.concepts = concepts
        self.values = values
        self.temporal = temporal
        self.negations = negations
        self.exceptions = exceptions
        self.cues = cues
        self.qualitatives = qualitatives
        self.scope_breaks = scope_breaks
        self.clause_breaks = clause_breaks
        self.words: set[str] = set() if words is None else words
        # family, planned, contraindication and hypothetical cues (rules/context.yaml):
        # ``subtype`` the category, ``relation`` the direction ("pre", "post", "both",
        # "link": a relative's noun that reaches on only through a link word,
        # "conditional" / "occurs": the two ends of "if X occurs")
        self.contexts: list[Mention] = [] if contexts is None else contexts

    def all(self) -> list[Mention]:
        return sorted(self.concepts + self.values + self.temporal + self.negations
                      + self.exceptions + self.cues + self.qualitatives,
                      key=lambda m: (m.start, m.end))

    def clause(self, pos: int) -> int:
        return bisect_right(self.clause_breaks, pos)

    def breaks_between(self, a: int, b: int) -> bool:
        """Whether a negation-scope break lies in ``[a, b)``."""
        i = bisect_left(self.scope_breaks, a)
        return i < len(self.scope_breaks) and self.scope_breaks[i] < b


def same_clause(found: Found, a: int, b: int) -> bool:
    """Whether offsets ``a`` and ``b`` lie in one clause of the item."""
    return found.clause(a) == found.clause(b)
