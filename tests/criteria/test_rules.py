"""Every rules file loads and validates against its schema; broken files are refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from trialscout.criteria import rules


def test_every_rules_file_has_a_schema_and_validates() -> None:
    files = {p.name for p in rules.RULES_DIR.glob("*.yaml")}
    assert files == set(rules.SCHEMAS)
    for name, schema in rules.SCHEMAS.items():
        schema.model_validate(rules.read_yaml(rules.RULES_DIR / name))


def test_item_kind_patterns_compile() -> None:
    for spec in rules.patterns().item_kinds.values():
        for pattern in spec.regex:
            re.compile(pattern)


@pytest.mark.parametrize("name,mutation", [
    ("patterns.yaml", lambda d: d["item_kinds"]["consent"].update(regex=["(unclosed"])),
    ("units.yaml", lambda d: d["analytes"]["glucose"].update(unit="furlongs")),
    ("sections.yaml", lambda d: d.pop("exclusion")),
    ("questions.yaml", lambda d: d["comparators"].update(huge="x")),
    ("eval_labels.yaml", lambda d: d["corpora"]["chia"].update(value_span="all")),
    ("entities.yaml", lambda d: d.update(min_length=0)),
])
def test_broken_rules_are_refused(name: str, mutation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = rules.read_yaml(rules.RULES_DIR / name)
    mutation(data)
    with pytest.raises(ValidationError):
        rules.SCHEMAS[name].model_validate(data)


def test_rules_files_are_package_data() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"criteria/rules/*.yaml"' in pyproject
    assert '"vocabulary/*.yaml"' in pyproject
