"""The owner key contract: moving, deleting and exporting what an owner has."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select, text, update

from trialscout.accounts import owners
from trialscout.accounts.owners import (
    delete_owner,
    export_owner,
    merge_owner,
    owner_for,
    register_owned_table,
)
from trialscout.accounts.session_data import ensure_home_row
from trialscout.accounts.tables import AccountRow
from trialscout.app import TrialScout
from trialscout.patients.model import PatientProfile
from trialscout.patients.store import list_versions
from trialscout.sessions import SessionStore, hash_session_token
from trialscout.sessions.models import Profile
from trialscout.sessions.tables import SessionAnswerRow, SessionPatientRow, WebSessionRow

T0 = datetime(2026, 12, 1, 12, 0)


@pytest.fixture
def owned(app: TrialScout, monkeypatch: pytest.MonkeyPatch) -> str:
    with app.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t_owned (id INTEGER PRIMARY KEY, owner VARCHAR(80), "
                          "item VARCHAR(20), updated_at DATETIME, token_hash VARCHAR(64), "
                          "UNIQUE (owner, item))"))
    owners.owned_tables()  # every package's registration is in the real registry first
    monkeypatch.setattr(owners, "_REGISTRY", {})
    register_owned_table("t_owned", unique_with=("item",), newer="updated_at")
    return "t_owned"


def _rows(app: TrialScout) -> list[tuple[str, str, str]]:
    with app.engine.connect() as conn:
        return sorted((r.owner, r.item, str(r.updated_at)) for r in conn.execute(
            text("SELECT owner, item, updated_at FROM t_owned")))


def _add(app: TrialScout, owner: str, item: str, when: datetime) -> None:
    with app.engine.begin() as conn:
        conn.execute(text("INSERT INTO t_owned (owner, item, updated_at) VALUES (:o, :i, :u)"),
                     {"o": owner, "i": item, "u": when})


def _account(app: TrialScout) -> int:
    with app.engine.begin() as conn:
        key = conn.execute(insert(AccountRow).values(
            email="a@example.org", password_hash="x", role="member", disabled=False,
            created_at=T0, updated_at=T0, home_hash="h" * 64)).inserted_primary_key
        assert key is not None
        return int(key[0])


def test_owner_keys() -> None:
    assert owner_for("ab" * 32, None) == "session:" + "ab" * 32
    assert owner_for("ab" * 32, 7) == "account:7"
    assert owners.account_of("account:7") == 7
    with pytest.raises(ValueError):
        owner_for(None, None)


def test_merge_keeps_every_row_and_the_newer_on_conflict(app: TrialScout, owned: str) -> None:
    account = _account(app)
    src, dst = owner_for("s" * 64, None), owner_for(None, account)
    _add(app, src, "only-visitor", T0)
    _add(app, dst, "only-account", T0)
    _add(app, src, "both-visitor-newer", T0 + timedelta(hours=1))
    _add(app, dst, "both-visitor-newer", T0)
    _add(app, src, "both-account-newer", T0)
    _add(app, dst, "both-account-newer", T0 + timedelta(hours=2))
    with app.engine.begin() as conn:
        merge_owner(conn, src, dst)
    assert _rows(app) == [
        (dst, "both-account-newer", str(T0 + timedelta(hours=2))),
        (dst, "both-visitor-newer", str(T0 + timedelta(hours=1))),
        (dst, "only-account", str(T0)),
        (dst, "only-visitor", str(T0)),
    ]


def test_delete_and_export_touch_only_that_owner(app: TrialScout, owned: str) -> None:
    _add(app, "session:" + "a" * 64, "x", T0)
    _add(app, "session:" + "b" * 64, "y", T0)
    with app.engine.connect() as conn:
        exported = export_owner(conn, "session:" + "a" * 64)
    assert [r["item"] for r in exported["t_owned"]] == ["x"]
    assert set(exported["t_owned"][0]) == {"id", "item", "updated_at"}  # no owner, no hash
    with app.engine.begin() as conn:
        assert delete_owner(conn, ["session:" + "a" * 64]) == 1
    assert [r[1] for r in _rows(app)] == ["y"]


def test_rotation_moves_owned_rows_and_forget_deletes_them(app: TrialScout, owned: str) -> None:
    store = SessionStore(app.engine)
    store.put_answers("old-token", {"q": "yes"})
    old = owner_for(hash_session_token("old-token"), None)
    new = owner_for(hash_session_token("new-token"), None)
    _add(app, old, "item", T0)
    assert store.rotate("old-token", "new-token")
    assert [r[0] for r in _rows(app)] == [new]
    store.forget("new-token")
    assert _rows(app) == []


def test_merge_moves_session_answers_profile_and_record(app: TrialScout) -> None:
    account = _account(app)
    store = SessionStore(app.engine)
    store.put_answers("visitor", {"q-new": "yes", "q-visitor-newer": "no",
                                  "q-account-newer": "no"})
    store.put_profile("visitor", Profile(age=40, near="Boston"))
    store.save_patient("visitor", PatientProfile(age_years=40), "note")
    with app.engine.begin() as conn:
        ensure_home_row(conn, "h" * 64)
        conn.execute(update(WebSessionRow).where(WebSessionRow.id_hash == "h" * 64)
                     .values(profile=Profile(sex="FEMALE", age=30).model_dump_json()))
        conn.execute(insert(SessionAnswerRow), [
            {"session_hash": "h" * 64, "question_key": "q-visitor-newer", "answer": "yes",
             "updated_at": T0 - timedelta(days=300)},
            {"session_hash": "h" * 64, "question_key": "q-account-newer", "answer": "unsure",
             "updated_at": datetime(2100, 1, 1)}])
    visitor = owner_for(hash_session_token("visitor"), None)
    with app.engine.begin() as conn:
        merge_owner(conn, visitor, owner_for(None, account))
    with app.engine.connect() as conn:
        answers = dict(conn.execute(select(SessionAnswerRow.question_key, SessionAnswerRow.answer)
                                    .where(SessionAnswerRow.session_hash == "h" * 64)).all())
        patient = conn.execute(select(SessionPatientRow.patient_id).where(
            SessionPatientRow.session_hash == "h" * 64)).scalar_one()
        assert len(list_versions(conn, patient)) == 1
    assert answers == {"q-new": "yes", "q-visitor-newer": "no", "q-account-newer": "unsure"}
    with app.engine.connect() as conn:
        profile = conn.execute(select(WebSessionRow.profile).where(
            WebSessionRow.id_hash == "h" * 64)).scalar_one()
    assert profile is not None
    assert Profile.model_validate_json(profile) == Profile(age=40, sex="FEMALE", near="Boston")
    assert store.answers("visitor") == {}
    assert store.patient_id("visitor") is None
