"""Export my data, delete my account (every personal row, one transaction), and the
volunteer registry: consent records, withdrawal, counts that single nobody out."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Connection, Engine, func, inspect, select, text

from tests.accounts.conftest import Accounts
from trialscout.accounts.data import delete_account, export_account
from trialscout.accounts.tables import AccountRow
from trialscout.alerts.volunteers import sync_volunteer_searches
from trialscout.patients.model import PatientProfile
from trialscout.search.models import ResolvedPlace
from trialscout.sessions import SessionStore
from trialscout.sessions.models import Profile
from trialscout.volunteers import registry
from trialscout.volunteers.consent import CURRENT_CONSENT
from trialscout.volunteers.registry import Registration, VolunteerError

BOSTON = ResolvedPlace(name="Boston, Massachusetts, United States", lat=42.36, lon=-71.06)
NOW = datetime(2026, 12, 7, 12, 0)


def _join(accounts: Accounts, account_id: int, **changes: object) -> registry.RegistrationView:
    body = Registration.model_validate({"conditions": ["Asthma"], "terms": ["wheeze"],
                                        "place": "Boston", "radius_km": 50,
                                        "consent_version": CURRENT_CONSENT, **changes})
    with accounts.app.engine.begin() as conn:
        return registry.register(conn, account_id, body, Profile(age=41, sex="FEMALE"),
                                 BOSTON, {"Asthma", "Diabetes"}, NOW)


def _signed_in_with_data(accounts: Accounts) -> tuple[int, str]:
    account_id = accounts.member()
    accounts.service.start_session(None, "browser-token", account_id)
    store = SessionStore(accounts.app.engine)
    store.put_answers("browser-token", {"q": "yes"})
    store.put_profile("browser-token", Profile(age=41))
    store.save_patient("browser-token", PatientProfile(age_years=41), "note")
    _join(accounts, account_id)
    return account_id, "browser-token"


def test_signed_in_sessions_keep_data_with_the_account(accounts: Accounts) -> None:
    account_id, token = _signed_in_with_data(accounts)
    accounts.service.end_session(token)
    store = SessionStore(accounts.app.engine)
    assert store.answers(token) == {}
    accounts.service.start_session(None, "other-browser", account_id)
    assert store.answers("other-browser") == {"q": "yes"}
    assert store.profile("other-browser").age == 41
    assert store.patient_id("other-browser") is not None


def test_a_signed_in_session_clears_and_deletes_the_accounts_own_data(
        accounts: Accounts) -> None:
    account_id, token = _signed_in_with_data(accounts)
    store = SessionStore(accounts.app.engine)
    store.clear_answers(token, ["q"])
    assert store.delete_patient(token)
    accounts.service.start_session(None, "second-browser", account_id)
    assert store.answers("second-browser") == {}
    assert store.patient_id("second-browser") is None


def test_export_has_everything_but_secrets(accounts: Accounts) -> None:
    account_id, _ = _signed_in_with_data(accounts)
    with accounts.app.engine.connect() as conn:
        data = export_account(conn, account_id)
    assert data["account"]["email"] == "ann@example.org"
    assert data["answers"] == {"q": "yes"}
    assert data["profile"]["age"] == 41
    assert data["medical_history"][0]["profile"]["age_years"] == 41
    assert data["volunteer"]["conditions"] == ["Asthma"]
    assert [c["action"] for c in data["consents"]] == ["given"]
    flat = repr(data)
    assert "argon2" not in flat and "home_hash" not in flat


def test_delete_removes_every_personal_row(accounts: Accounts) -> None:
    account_id, _ = _signed_in_with_data(accounts)
    with accounts.app.engine.begin() as conn:  # a coordinator's claim, kept by account id
        conn.execute(text("INSERT INTO coordinator_claims (nct_id, site_key, account_id, via, "
                          "created_at) VALUES ('NCT09990001', '*', :a, 'grant', :t)"),
                     {"a": account_id, "t": NOW})
    with accounts.app.engine.connect() as conn:
        assert len(export_account(conn, account_id)["account_rows"]["coordinator_claims"]) == 1
    accounts.service.request_link("ann@example.org", "reset")
    other = accounts.member("bob@example.org")
    accounts.service.start_session(None, "bob-browser", other)
    SessionStore(accounts.app.engine).put_answers("bob-browser", {"q": "no"})
    engine = accounts.app.engine
    before = _row_counts(engine)
    with engine.begin() as conn:
        assert delete_account(conn, account_id)
    after = _row_counts(engine)
    assert after["accounts"] == 1 and after["web_session_answers"] == 1
    for table in ("patients", "patient_versions", "web_session_patients", "volunteers",
                  "volunteer_categories", "volunteer_consents", "coordinator_claims"):
        assert after[table] == 0, table
    assert after["mail_outbox"] < before["mail_outbox"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM account_tokens WHERE account_id = :a"),
                            {"a": account_id}).scalar_one() == 0
        left = conn.execute(text("SELECT recipient FROM mail_outbox")).scalars().all()
        assert "ann@example.org" not in left
        assert conn.execute(select(AccountRow.email)).scalars().all() == ["bob@example.org"]
    assert SessionStore(engine).answers("bob-browser") == {"q": "no"}


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: int(conn.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one())
                for name in inspect(engine).get_table_names()}


def _volunteer_searches(conn: Connection) -> int:
    return int(conn.execute(text("SELECT COUNT(*) FROM saved_searches WHERE source LIKE "
                                 "'volunteer:%'")).scalar_one())


def test_consent_is_recorded_and_withdrawal_is_one_step(accounts: Accounts) -> None:
    account_id = accounts.member()
    view = _join(accounts, account_id)
    assert (view.conditions, view.terms, view.age, view.sex, view.area) == \
        (["Asthma"], ["wheeze"], 41, "FEMALE", "Massachusetts, United States")
    _join(accounts, account_id, radius_km=80)  # a change under the same text: no new consent
    with accounts.app.engine.begin() as conn:
        assert sync_volunteer_searches(conn) == 2  # the alerts keep one per category
        assert _volunteer_searches(conn) == 2

        assert registry.withdraw(conn, account_id, NOW)
        assert registry.registration(conn, account_id) is None
        assert not registry.withdraw(conn, account_id, NOW)
        records = registry.consents(conn, account_id)
        assert conn.execute(text("SELECT COUNT(*) FROM volunteer_categories")).scalar_one() == 0
        assert _volunteer_searches(conn) == 0  # withdrawn from every list at once
    assert [(r.action, r.version) for r in records] == \
        [("given", CURRENT_CONSENT), ("withdrawn", CURRENT_CONSENT)]


@pytest.mark.parametrize("changes, message", [
    ({"consent_version": "2020-01-01"}, "current consent"),
    ({"conditions": ["Not a listed one"]}, "Not in the list"),
    ({"conditions": [], "terms": []}, "at least one"),
])
def test_bad_registrations_are_refused(accounts: Accounts, changes: dict[str, object],
                                       message: str) -> None:
    account_id = accounts.member()
    with pytest.raises(VolunteerError, match=message):
        _join(accounts, account_id, **changes)


def test_admin_counts_hide_small_numbers(accounts: Accounts) -> None:
    ids = [accounts.member(f"v{n}@example.org") for n in range(6)]
    for n, account_id in enumerate(ids):
        _join(accounts, account_id, conditions=["Asthma"] if n < 5 else ["Diabetes"])
    with accounts.app.engine.connect() as conn:
        counts = registry.counts(conn)
        total = conn.execute(select(func.count()).select_from(AccountRow)).scalar_one()
    assert total == 6 and counts.total == 6
    shown = {(c.kind, c.value): c.count for c in counts.categories}
    assert shown[("condition", "Asthma")] == 5
    assert shown[("condition", "Diabetes")] is None
    assert shown[("term", "wheeze")] == 6
    assert [(a.area, a.count) for a in counts.areas] == [("Massachusetts, United States", 6)]
    assert "example.org" not in counts.model_dump_json()
