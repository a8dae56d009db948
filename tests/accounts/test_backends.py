"""The account core on SQLite and (postgres tier) PostgreSQL: links, lockout, merge on
sign-in, export and delete behave the same on both."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from tests.accounts.conftest import Clock, cheap_hasher
from trialscout.accounts.data import delete_account, export_account
from trialscout.accounts.links import consume_link_token, issue_link_token
from trialscout.accounts.service import AccountPolicy, AccountService, LockedOut, SignInRefused
from trialscout.accounts.tables import AccountRow
from trialscout.app import TrialScout
from trialscout.sessions import SessionStore
from trialscout.sessions.models import Profile
from trialscout.sessions.tables import WebSessionRow


def test_account_core_on_each_backend(backend_app: TrialScout) -> None:
    clock = Clock(datetime(2026, 12, 7, 12, 0))
    service = AccountService(backend_app.engine, AccountPolicy(), clock, cheap_hasher())
    with backend_app.engine.begin() as conn:
        account_id = service.create(conn, "pat@example.org", "a long password",
                                    verified=True)
        token = issue_link_token(conn, account_id, "signin", clock(), service.policy.link_lifetime)
    with backend_app.engine.begin() as conn:
        assert consume_link_token(conn, token, "signin", clock()) == account_id
        assert consume_link_token(conn, token, "signin", clock()) is None

    store = SessionStore(backend_app.engine)
    store.put_answers("visitor", {"q": "yes"})
    store.put_profile("visitor", Profile(age=50))
    service.start_session("visitor", "signed-in", account_id)
    assert store.answers("visitor") == {}
    assert store.answers("signed-in") == {"q": "yes"}
    assert store.profile("signed-in").age == 50

    for _ in range(5):
        with pytest.raises(SignInRefused):
            service.authenticate("pat@example.org", "not the password", "192.0.2.1")
    with pytest.raises(LockedOut):
        service.authenticate("pat@example.org", "a long password", "192.0.2.1")

    with backend_app.engine.connect() as conn:
        assert export_account(conn, account_id)["answers"] == {"q": "yes"}
    with backend_app.engine.begin() as conn:
        assert delete_account(conn, account_id)
    with backend_app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AccountRow)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(WebSessionRow)).scalar_one() == 0
    assert store.answers("signed-in") == {}
