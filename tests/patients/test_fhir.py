"""FHIR R4 Bundle import: a valid bundle becomes a profile; invalid ones name the resource."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscout.patients.fhir import FhirImportError, import_bundle, load_bundle_json

DATA = Path(__file__).parent / "data"


@pytest.fixture
def bundle() -> dict[str, Any]:
    return json.loads((DATA / "bundle_valid.json").read_text())


def test_valid_bundle(bundle: dict[str, Any]) -> None:
    p = import_bundle(bundle)
    assert p.sex == "female" and p.birth_date == date(1961, 4, 12)
    assert p.location is not None and p.location.place == "Boston, MA, USA"
    t2d = p.conditions[0]
    assert t2d.concept == "type_2_diabetes" and t2d.onset == date(2010, 6, 1)
    assert t2d.source is not None and t2d.source.ref == "Condition/cond1"
    assert p.conditions[1].onset == date(2019, 2, 1)
    assert [d.name for d in p.denied] == ["Chronic kidney disease"]
    by_analyte = {m.analyte: m for m in p.measurements}
    assert by_analyte["hba1c"].value == 7.8 and by_analyte["hba1c"].unit == "%"
    assert by_analyte["creatinine"].unit == "umol/L"
    assert by_analyte["systolic_bp"].value == 142 and by_analyte["diastolic_bp"].value == 88
    assert by_analyte["bmd_t_score"].value == -2.8
    assert p.smoking == "former" and p.ecog == 1
    meds = {m.name: m for m in p.medications}
    assert meds["Metformin"].concept == "metformin" and meds["Metformin"].status == "active"
    alendronate = meds["Alendronate 70 mg tablet"]
    assert alendronate.concept == "alendronate" and alendronate.stop == date(2023, 9, 30)
    assert meds["Vitamin D3 1000 IU"].start == date(2024, 1, 10)
    assert p.procedures[0].date == date(2020, 5, 20)
    assert p.allergies[0].substance == "Penicillin"


def test_medication_not_taken_is_a_denial(bundle: dict[str, Any]) -> None:
    bundle["entry"][10]["resource"]["status"] = "not-taken"
    p = import_bundle(bundle)
    assert "Metformin" in [d.name for d in p.denied]
    assert "Metformin" not in [m.name for m in p.medications]


def test_pregnancy_status_observation(bundle: dict[str, Any]) -> None:
    bundle["entry"].append({"resource": {
        "resourceType": "Observation", "id": "preg", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "82810-3"}]},
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct",
                                             "code": "60001007"}]}}})
    assert import_bundle(bundle).pregnant is False


def _error(bundle: Any) -> FhirImportError:
    with pytest.raises(FhirImportError) as info:
        import_bundle(bundle)
    return info.value


def test_invalid_field_names_resource_type_id_index_and_field(bundle: dict[str, Any]) -> None:
    bundle["entry"][4]["resource"]["valueQuantity"]["value"] = "seven"
    err = _error(bundle)
    problem = err.problems[0]
    assert (problem.index, problem.resource_type, problem.resource_id) == \
        (4, "Observation", "obs1")
    assert problem.field == "valueQuantity.value"
    assert "entry[4] Observation/obs1 field valueQuantity.value" in str(err)


def test_missing_required_field(bundle: dict[str, Any]) -> None:
    del bundle["entry"][14]["resource"]["status"]
    problem = _error(bundle).problems[0]
    assert problem.resource_type == "Procedure" and problem.field == "status"


def test_unknown_resource_type_and_bad_envelope(bundle: dict[str, Any]) -> None:
    bundle["entry"][2]["resource"]["resourceType"] = "Conditon"
    assert "unknown FHIR resource type 'Conditon'" in str(_error(bundle))
    assert "expected resourceType 'Bundle'" in str(_error({"resourceType": "Patient"}))
    assert "expected a JSON object" in str(_error([1, 2]))
    bad_type = copy.deepcopy(bundle)
    bad_type["entry"][2]["resource"]["resourceType"] = "Condition"
    del bad_type["type"]
    assert _error(bad_type).problems[0].resource_type == "Bundle"


def test_every_bad_resource_is_reported(bundle: dict[str, Any]) -> None:
    bundle["entry"][1]["resource"]["onsetDateTime"] = "yesterday"
    bundle["entry"][15]["resource"]["code"] = "penicillin"
    problems = _error(bundle).problems
    assert {(p.index, p.resource_id) for p in problems} == {(1, "cond1"), (15, "all1")}


def test_not_json() -> None:
    with pytest.raises(FhirImportError, match="not valid JSON"):
        load_bundle_json(b"{resourceType: Bundle")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["resourceType", "id", "code", "status", "value", "entry", "resource",
                         "valueQuantity", "coding", "text", "gender", "birthDate"]),
        children, max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["resourceType", "type", "entry", "id"]), json_values,
                       max_size=4))
def test_importer_never_crashes_on_arbitrary_json(data: dict[str, Any]) -> None:
    try:
        import_bundle(data)
    except FhirImportError as exc:
        assert exc.problems and str(exc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(
    st.sampled_from(["resourceType", "id", "status", "code", "gender", "birthDate",
                     "valueQuantity", "onsetDateTime"]),
    st.sampled_from(["Patient", "Condition", "Observation", "x", "", "final", "female",
                     "2020-01-01", "not-a-date", {"text": "diabetes"}, {"value": "a"}, 3]),
    max_size=6).map(lambda r: {"resource": r}), max_size=5))
def test_importer_on_random_resources(entries: list[dict[str, Any]]) -> None:
    try:
        profile = import_bundle({"resourceType": "Bundle", "type": "collection",
                                 "entry": entries})
    except FhirImportError as exc:
        assert all(p.index is None or 0 <= p.index < len(entries) for p in exc.problems)
    else:
        assert profile.model_dump()
