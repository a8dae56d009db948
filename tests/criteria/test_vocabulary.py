"""The shared vocabulary: canonical names, expansions and class membership."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from trialscout.vocabulary import load_vocabulary, normalize_term, vocabulary


@pytest.mark.parametrize("term,concept", [
    ("T2D", "type_2_diabetes"), ("T2DM", "type_2_diabetes"), ("NIDDM", "type_2_diabetes"),
    ("Diabetes Mellitus Type 2", "type_2_diabetes"), ("Prolia", "denosumab"),
    ("Xgeva", "denosumab"), ("AMG 162", "denosumab"), ("Reclast", "zoledronic_acid"),
    ("Zometa", "zoledronic_acid"), ("Fosamax", "alendronate"), ("osteopenia", "osteopenia"),
    ("vertebral fracture", "vertebral_fracture"), ("bisphosphonates", "bisphosphonate"),
    ("corticosteroids", "glucocorticoid"), ("denosumab", "denosumab"),
])
def test_canonical(term: str, concept: str) -> None:
    assert vocabulary().canonical_id(term) == concept


def test_abbreviations_match_exact_case_only() -> None:
    v = vocabulary()
    assert v.canonical_id("ALL") == "leukemia"
    assert v.canonical_id("all") is None
    assert v.canonical_id("MS") == "multiple_sclerosis"


def test_expansions_start_with_the_canonical_name() -> None:
    forms = vocabulary().expansions("Prolia")
    assert forms[0] == "denosumab"
    assert {"prolia", "xgeva", "amg 162"} <= {f.lower() for f in forms}
    assert vocabulary().expansions("no such thing") == []


def test_class_membership() -> None:
    v = vocabulary()
    assert {"alendronate", "risedronate", "zoledronic_acid", "ibandronate"} <= \
        v.members("bisphosphonate")
    assert "denosumab" not in v.members("bisphosphonate")
    assert v.is_a("alendronate", "oral_bisphosphonate")
    assert v.is_a("alendronate", "antiresorptive")
    assert not v.is_a("denosumab", "bisphosphonate")
    assert v.concept("prednisolone") is not None and v.is_a("prednisolone", "glucocorticoid")
    assert "bisphosphonate" in v.ancestors("zoledronic_acid")


def test_kinds_and_size() -> None:
    v = vocabulary()
    assert len(list(v.concepts())) >= 300
    assert {c.kind for c in v.concepts()} == {"condition", "drug", "drug_class", "procedure",
                                              "lab", "observation"}


def test_normalize_term() -> None:
    assert normalize_term("  T-Score ") == "t score"
    assert normalize_term("25(OH)D") == "25 oh d"


def test_invalid_file_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "v.yaml"
    bad.write_text("version: 1\nconcepts:\n  x: {name: x, kind: planet}\n")
    with pytest.raises(ValidationError):
        load_vocabulary(bad)
    bad.write_text("version: 1\nconcepts:\n  x: {name: x, kind: drug, parents: [nope]}\n")
    with pytest.raises(ValidationError):
        load_vocabulary(bad)


def test_extension_file_loads(tmp_path: Path) -> None:
    extra = tmp_path / "v.yaml"
    extra.write_text("version: 1\nconcepts:\n  newdrug: {name: newdrug, kind: drug, "
                     "synonyms: [Brandix]}\n")
    assert load_vocabulary(extra).canonical_id("brandix") == "newdrug"
