"""Word tokens of a criterion: the unit of dictionary and phrase matching.

Kept apart from the compiled parser modules on purpose (see ``setup.py``): this loop is
one regular-expression scan and one tuple per word, which the interpreter runs faster
than mypyc's compiled call path does.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

TOKEN: Final = re.compile(r"[^\W_]+")


class Token(NamedTuple):
    low: str
    text: str
    start: int
    end: int


_new_token: Final = tuple.__new__


def tokenize(text: str) -> list[Token]:
    """Word tokens (letters and digits) of ``text``, lower-cased form first."""
    return [_new_token(Token, (word.lower(), word, m.start(), m.end()))
            for m in TOKEN.finditer(text) for word in (m.group(),)]
