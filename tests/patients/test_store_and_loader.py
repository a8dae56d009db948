"""Profiles are stored with versions; patient files of every kind are detected and read."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscout.app import TrialScout
from trialscout.patients.fhir import FhirImportError
from trialscout.patients.loader import PatientFileError, detect_kind, load_patient_bytes
from trialscout.patients.model import PatientProfile
from trialscout.patients.notes import NoteError
from trialscout.patients.store import PatientNotFound

DATA = Path(__file__).parent / "data"


def test_each_change_is_a_new_version(backend_app: TrialScout) -> None:
    first = backend_app.save_patient(PatientProfile(label="P1", age_years=60, sex="female"))
    assert first.version == 1
    same = backend_app.save_patient(PatientProfile(label="P1", age_years=60, sex="female"),
                                    first.patient_id)
    assert same.version == 1
    edited = backend_app.save_patient(
        PatientProfile(label="P1", age_years=61, sex="female"), first.patient_id)
    assert edited.version == 2
    assert backend_app.patient(first.patient_id).profile.age_years == 61
    assert backend_app.patient(first.patient_id, 1).profile.age_years == 60
    assert [v.version for v in backend_app.patient_versions(first.patient_id)] == [1, 2]
    answered = backend_app.patient(first.patient_id).profile.with_answer("q:x", "yes")
    assert backend_app.save_patient(answered, first.patient_id).version == 3


def test_missing_patient_and_deletion(app: TrialScout) -> None:
    with pytest.raises(PatientNotFound):
        app.patient(999)
    with pytest.raises(PatientNotFound):
        app.save_patient(PatientProfile(), 999)
    stored = app.save_patient(PatientProfile(age_years=30))
    assert app.delete_patient(stored.patient_id)
    with pytest.raises(PatientNotFound):
        app.patient(stored.patient_id)


def test_import_patient_file_records_its_kind(app: TrialScout, tmp_path: Path) -> None:
    stored = app.import_patient(DATA / "bundle_valid.json")
    assert stored.source == "fhir" and stored.profile.sex == "female"
    note = tmp_path / "note.txt"
    note.write_text("A 70-year-old man with COPD.")
    again = app.import_patient(note, stored.patient_id, reference_date=date(2024, 1, 1))
    assert again.version == 2 and again.source == "note"


def test_detection() -> None:
    assert detect_kind('{"resourceType": "Bundle"}') == "fhir"
    assert detect_kind('{"age_years": 50}') == "profile"
    assert detect_kind("A 50-year-old woman") == "note"
    with pytest.raises(PatientFileError, match="starts like JSON"):
        detect_kind("{not json at all")


def test_profile_json_errors_name_the_field() -> None:
    with pytest.raises(PatientFileError, match="age_years"):
        load_patient_bytes(json.dumps({"age_years": 400}).encode())
    with pytest.raises(PatientFileError, match="unknown_field"):
        load_patient_bytes(json.dumps({"unknown_field": 1}).encode())
    loaded = load_patient_bytes(json.dumps({"sex": "male", "conditions": [
        {"name": "asthma"}]}).encode())
    assert loaded.kind == "profile" and loaded.profile.conditions[0].id == "c1"


def test_fhir_file_errors_and_binary_input() -> None:
    with pytest.raises(FhirImportError):
        load_patient_bytes(b'{"resourceType": "Bundle", "type": "collection", "entry": '
                           b'[{"resource": {"resourceType": "Patient", "gender": 5}}]}')
    with pytest.raises(PatientFileError, match="not UTF-8"):
        load_patient_bytes(b"\xff\xfe\x00binary")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.dictionaries(st.sampled_from(["age_years", "sex", "conditions", "resourceType",
                                     "pregnant", "answers", "location"]),
                    st.one_of(st.none(), st.integers(), st.text(max_size=10),
                              st.lists(st.text(max_size=5), max_size=2)),
                    max_size=4).map(lambda d: json.dumps(d).encode())))
def test_patient_files_never_crash(raw: bytes) -> None:
    try:
        loaded = load_patient_bytes(raw)
    except (PatientFileError, FhirImportError, NoteError) as exc:
        assert str(exc)
    else:
        assert loaded.kind in {"fhir", "profile", "note"}
