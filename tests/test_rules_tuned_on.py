"""Every rule and knowledge file says which benchmark sets shaped it (``tuned_on``), so the
eval commands can tell a development number from a fair one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trialscout import rulefiles

PACKAGE = Path(rulefiles.__file__).parent
FILES = sorted(PACKAGE.rglob("*.yaml"))


def _sets() -> dict[str, dict[str, object]]:
    data = yaml.safe_load(rulefiles.SETS_FILE.read_text("utf-8"))
    return dict(data["sets"])


def test_there_are_rule_files_to_check() -> None:
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_rule_file_names_the_sets_it_was_tuned_on(path: Path) -> None:
    data = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(data, dict) and "tuned_on" in data, f"{path.name}: no tuned_on"
    tuned_on = data["tuned_on"]
    assert isinstance(tuned_on, list), f"{path.name}: tuned_on must be a list"
    sets = _sets()
    unknown = [name for name in tuned_on if name not in sets]
    assert not unknown, f"{path.name}: unknown sets {unknown}"
    # A set anything was tuned on is a development set: its numbers are not held out.
    report = [name for name in tuned_on if sets[name].get("role") != "development"]
    assert not report, f"{path.name}: tuned on report sets {report}"
    assert len(set(tuned_on)) == len(tuned_on)


def test_the_loader_knows_the_same_sets() -> None:
    assert rulefiles.known_sets() == frozenset(_sets())
