"""A session's patient record: owned by one session, versioned, and deleted with it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from trialscout.app import TrialScout
from trialscout.patients.model import Condition, PatientProfile
from trialscout.patients.store import PatientNotFound
from trialscout.sessions import SessionStore, new_session_token
from trialscout.sessions.store import WEB_PATIENT_LABEL
from trialscout.sessions.tokens import hash_session_token


def _profile(name: str = "Type 2 diabetes") -> PatientProfile:
    return PatientProfile(label="Jane Roe", conditions=[Condition(name=name)])


def test_a_session_owns_one_record_with_versions(app: TrialScout) -> None:
    store = SessionStore(app.engine)
    mine, theirs = new_session_token(), new_session_token()
    assert store.patient_id(mine) is None and store.patient_id(None) is None
    first = store.save_patient(mine, _profile(), "note")
    second = store.save_patient(mine, _profile("Asthma"), "fhir")
    assert second.patient_id == first.patient_id and second.version == 2
    assert store.patient_id(mine) == first.patient_id
    assert store.patient_id(theirs) is None
    stored = app.patient(first.patient_id)
    assert stored.profile.label == WEB_PATIENT_LABEL, "no visitor-given label is stored"
    other = store.save_patient(theirs, _profile(), "note")
    assert other.patient_id != first.patient_id


def test_deleting_the_record_or_forgetting_the_session_erases_it(app: TrialScout) -> None:
    store = SessionStore(app.engine)
    token = new_session_token()
    patient_id = store.save_patient(token, _profile(), "note").patient_id
    assert store.delete_patient(token) is True
    assert store.delete_patient(token) is False and store.patient_id(token) is None
    with pytest.raises(PatientNotFound):
        app.patient(patient_id)
    patient_id = store.save_patient(token, _profile(), "note").patient_id
    store.forget(token)
    with pytest.raises(PatientNotFound):
        app.patient(patient_id)


def test_expired_sessions_take_their_record_with_them(app: TrialScout) -> None:
    store = SessionStore(app.engine, max_age=timedelta(days=1))
    old, fresh, revived = new_session_token(), new_session_token(), new_session_token()
    old_id = store.save_patient(old, _profile(), "note").patient_id
    fresh_id = store.save_patient(fresh, _profile(), "note").patient_id
    revived_id = store.save_patient(revived, _profile(), "note").patient_id
    with app.engine.begin() as conn:
        for token in (old, revived):
            conn.execute(text("UPDATE web_sessions SET last_seen = :t WHERE id_hash = :h"),
                         {"t": "2000-01-01 00:00:00", "h": hash_session_token(token)})
    assert store.patient_id(old) is None, "an expired session owns nothing"
    store.put_answers(revived, {"k": "yes"})
    with pytest.raises(PatientNotFound):
        app.patient(revived_id)
    assert store.purge_expired() == 1
    with pytest.raises(PatientNotFound):
        app.patient(old_id)
    assert app.patient(fresh_id).version == 1
