"""Every rule file is read through its schema by the one loader (``trialscout.rulefiles``),
the schemas refuse what they do not know, and every field a schema declares is read
somewhere in the code (a field nobody reads is a dead rule)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel

from trialscout import rulefiles
from trialscout.criteria import rules as criteria_rules
from trialscout.guides import content as guides_content
from trialscout.matching import rules as matching_rules
from trialscout.patients import rules as patient_rules
from trialscout.search import rules as search_rules
from trialscout.similar import features as similar_features
from trialscout.summaries import schemas as summary_schemas
from trialscout.vocabulary import synonyms

PACKAGE = Path(rulefiles.__file__).parent


def _schemas() -> dict[Path, type[rulefiles.RuleFile]]:
    out: dict[Path, type[rulefiles.RuleFile]] = {}
    for name, schema in criteria_rules.SCHEMAS.items():
        out[criteria_rules.RULES_DIR / name] = schema
    for name, schema in matching_rules.SCHEMAS.items():
        out[matching_rules.RULES_DIR / f"{name}.yaml"] = schema
    for name, schema in patient_rules.SCHEMAS.items():
        out[patient_rules.RULES_DIR / f"{name}.yaml"] = schema
    for name, schema in search_rules.SCHEMAS.items():
        out[search_rules.RULES_DIR / name] = schema
    out[PACKAGE / "similar" / "rules" / "similar.yaml"] = similar_features.SimilarRules
    out[PACKAGE / "summaries" / "rules" / "wording.yaml"] = summary_schemas.WordingRules
    out[PACKAGE / "summaries" / "rules" / "grounding.yaml"] = summary_schemas.GroundingSchema
    out[PACKAGE / "guides" / "rules" / "sections.yaml"] = guides_content.SectionRules
    out[synonyms.DEFAULT_PATH] = synonyms.VocabularyFile
    return out


SCHEMAS = _schemas()
# Data files with loaders of their own (knowledge, the benchmark registry); the tuned_on
# test covers them too.
OWN_LOADERS = ("knowledge/", "evaluation/")


@pytest.mark.parametrize("path", sorted(SCHEMAS), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_rule_file_fits_its_schema(path: Path) -> None:
    model = SCHEMAS[path].model_validate(yaml.safe_load(path.read_text("utf-8")))
    assert model.version >= 1


def test_every_rule_file_in_the_package_has_a_schema() -> None:
    files = {p for p in PACKAGE.rglob("*.yaml")
             if not any(part in str(p.relative_to(PACKAGE)) for part in OWN_LOADERS)}
    assert files - set(SCHEMAS) == set(), "rule files without a schema"


def _one_file() -> tuple[Path, dict[str, Any]]:
    path = matching_rules.RULES_DIR / "items.yaml"
    return path, yaml.safe_load(path.read_text("utf-8"))


@pytest.mark.parametrize("change,complaint", [
    (lambda d: d.update(unknown_field=1), "unknown_field"),
    (lambda d: d.pop("tuned_on"), "tuned_on"),
    (lambda d: d.update(tuned_on=["a_set_nobody_has"]), "a_set_nobody_has"),
    (lambda d: d["note_rules"][0].update(whenn="x"), "whenn"),
])
def test_the_loader_refuses_what_the_schema_does_not_know(
        tmp_path: Path, change: Any, complaint: str) -> None:
    _path, data = _one_file()
    change(data)
    broken = tmp_path / "items.yaml"
    broken.write_text(yaml.safe_dump(data), "utf-8")
    with pytest.raises(rulefiles.RulesError, match=complaint):
        rulefiles.validate(broken, matching_rules.ItemRules)


def test_the_loader_hands_back_the_file_as_written() -> None:
    path, data = _one_file()
    assert matching_rules.load_rules("items") == data
    assert rulefiles.load(path, matching_rules.ItemRules).note_rules[0].when == \
        data["note_rules"][0]["when"]


# ---------------------------------------------------------------- every field is read
def _models(schema: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if schema in seen:
        return
    seen.add(schema)
    for field in schema.model_fields.values():
        stack = [field.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                _models(annotation, seen)
            elif get_origin(annotation) is not None or get_args(annotation):
                stack.extend(get_args(annotation))


def _source_without_declarations() -> str:
    """The package's code, without the lines that declare schema fields."""
    declaration = re.compile(r"^\s+\w+\s*:\s*[\w\[\]|., ]+(?:=.*)?$")
    parts = []
    for path in PACKAGE.rglob("*.py"):
        parts += [line for line in path.read_text("utf-8").splitlines()
                  if not declaration.match(line)]
    return "\n".join(parts)


def test_every_schema_field_is_read_by_the_code() -> None:
    models: set[type[BaseModel]] = set()
    for schema in set(SCHEMAS.values()):
        _models(schema, models)
    source = _source_without_declarations()
    unread = []
    for model in models:
        for name, field in model.model_fields.items():
            written = field.alias or name
            if name in rulefiles.RuleFile.model_fields:
                continue
            used = re.compile(rf"""["']{re.escape(written)}["']|\.{re.escape(name)}\b|"""
                              rf"""\b{re.escape(name)}=""")
            if not used.search(source):
                unread.append(f"{model.__name__}.{name}")
    assert not unread, f"rule fields no code reads (remove them, or read them): {unread}"
