"""The parser's split modules: callers' imports keep working, and every piece is compiled.

``extract`` and ``mentions`` were split into modules named for what they hold; the
evaluation, the scope marker and the parser still import from the old places, and wheels
compile every module of the hot path (a module left out runs interpreted, and a compiled
module calling it pays the boundary on every call).
"""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from trialscout.criteria import draft, found, item_kinds, measures, mention_rules, values
from trialscout.criteria.extract import Draft, analyze, build_drafts
from trialscout.criteria.mentions import Found, Mention, compiled, find
from trialscout.criteria.text import clean

REPO = Path(__file__).resolve().parents[2]

# (module callers import from, name, module that defines it)
CALLER_IMPORTS = [
    ("trialscout.criteria.mentions", "Mention", "trialscout.criteria.found"),
    ("trialscout.criteria.mentions", "Found", "trialscout.criteria.found"),
    ("trialscout.criteria.mentions", "compiled", "trialscout.criteria.mention_rules"),
    ("trialscout.criteria.mentions", "NEGATION_CORE", "trialscout.criteria.mention_rules"),
    ("trialscout.criteria.mentions", "find", "trialscout.criteria.mentions"),
    ("trialscout.criteria.mentions", "phrase_matches", "trialscout.criteria.mentions"),
    ("trialscout.criteria.extract", "Draft", "trialscout.criteria.draft"),
    ("trialscout.criteria.extract", "analyze", "trialscout.criteria.extract"),
    ("trialscout.criteria.extract", "finalize", "trialscout.criteria.extract"),
    ("trialscout.criteria.extract", "extract", "trialscout.criteria.extract"),
    ("trialscout.criteria.extract", "build_drafts", "trialscout.criteria.extract"),
]

SPLIT_MODULES = ["found", "mention_rules", "values", "windows", "heuristics", "mentions",
                 "item_kinds", "measures", "draft", "extract", "scope"]


@pytest.mark.parametrize(("where", "name", "home"), CALLER_IMPORTS)
def test_public_names_import_from_where_callers_use_them(where: str, name: str,
                                                         home: str) -> None:
    """The name is there, and it is the defining module's object, not a copy."""
    caller_view = getattr(importlib.import_module(where), name)
    assert caller_view is getattr(importlib.import_module(home), name)


def test_every_split_module_is_compiled_in_wheels() -> None:
    with open(REPO / "pyproject.toml", "rb") as handle:
        listed = set(tomllib.load(handle)["tool"]["trialscout"]["compiled-modules"])
    missing = [m for m in SPLIT_MODULES if f"trialscout/criteria/{m}.py" not in listed]
    assert not missing
    for path in listed:
        assert (REPO / path).is_file(), path


def test_the_pieces_work_together_through_the_old_entry_points() -> None:
    """A criterion read through ``mentions.find`` and ``extract.build_drafts`` gives the
    split modules' own classes, a measurement with its range and an age window."""
    cleaned = clean("Aged 18 years or older, eGFR ≥15 and <30 mL/min within the past 6 months")
    text = cleaned.text
    mentions = find(text)
    assert isinstance(mentions, Found) and isinstance(mentions, found.Found)
    assert all(isinstance(m, Mention) for m in mentions.all())
    assert any(m.subtype == "age" for m in mentions.values)
    assert any(t.subtype == "window" and t.time_unit == "month" for t in mentions.temporal)
    drafts = build_drafts(mentions, "inclusion", None)
    assert all(isinstance(d, Draft) and isinstance(d, draft.Draft) for d in drafts)
    kinds = {d.kind for d in drafts}
    assert {"age", "measurement"} <= kinds
    bounds = {d.quantity.comparator for d in drafts
              if d.kind == "measurement" and d.quantity is not None}
    assert bounds & measures.LOWER_BOUNDS and bounds & measures.UPPER_BOUNDS
    analyzed, _ = analyze(cleaned, "inclusion")
    assert [d.kind for d in analyzed] == [d.kind for d in drafts]
    assert compiled() is mention_rules.compiled()
    assert item_kinds.kinds() is item_kinds.kinds()
    assert values.number("1,500", compiled().number_words) == 1500.0
