"""Sign-up, verification, sign-in, lockout, links: the account service on a real SMTP server."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.accounts.conftest import Accounts
from trialscout.accounts.service import (
    WRONG,
    LinkInvalid,
    LockedOut,
    NotVerified,
    SignInRefused,
)
from trialscout.accounts.tables import AccountRow
from trialscout.sessions.tables import WebSessionRow

PASSWORD = "correct horse 1"


def test_sign_up_sends_a_verification_link_that_works_once(accounts: Accounts) -> None:
    accounts.service.sign_up("  Ann@Example.org ", PASSWORD)
    token = accounts.last_token("ann@example.org")
    message = accounts.mail.messages[-1]
    assert message.get_body(("html",)) is not None
    accounts.clock.advance(seconds=61)
    with pytest.raises(NotVerified):  # which sends a new link, replacing the first
        accounts.service.authenticate("ann@example.org", PASSWORD, "10.0.0.1")
    with pytest.raises(LinkInvalid):
        accounts.service.verify(token)
    token = accounts.last_token("ann@example.org")
    account_id = accounts.service.verify(token)
    with pytest.raises(LinkInvalid):
        accounts.service.verify(token)
    info = accounts.service.authenticate("ANN@example.org", PASSWORD, "10.0.0.1")
    assert (info.id, info.email, info.role, info.verified) == \
        (account_id, "ann@example.org", "member", True)


def test_password_is_stored_as_argon2id(accounts: Accounts) -> None:
    accounts.member()
    with accounts.app.engine.connect() as conn:
        stored = conn.execute(select(AccountRow.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_sign_up_with_a_taken_address_looks_the_same_and_creates_nothing(
        accounts: Accounts) -> None:
    accounts.member()
    accounts.service.sign_up("ann@example.org", "another password")
    accounts.service.sign_up("ann@example.org", "and yet another")  # no flood: one an hour
    accounts.deliver()
    notes = [m for m in accounts.mail.messages if m["Subject"] == "Your TrialScout account"]
    assert len(notes) == 1
    with accounts.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AccountRow)).scalar_one() == 1
    accounts.service.authenticate("ann@example.org", PASSWORD, "10.0.0.1")


def test_verification_link_expires(accounts: Accounts) -> None:
    accounts.service.sign_up("bob@example.org", PASSWORD)
    token = accounts.last_token("bob@example.org")
    accounts.clock.advance(hours=48, seconds=1)
    with pytest.raises(LinkInvalid):
        accounts.service.verify(token)


def test_reset_link_is_single_use_expires_and_ends_sessions(accounts: Accounts) -> None:
    account_id = accounts.member()
    accounts.service.start_session(None, "session-a", account_id)
    accounts.service.request_link("ann@example.org", "reset")
    stale = accounts.last_token("ann@example.org")
    accounts.clock.advance(minutes=31)
    with pytest.raises(LinkInvalid):
        accounts.service.reset_password(stale, "a new password")
    accounts.service.request_link("ann@example.org", "reset")
    token = accounts.last_token("ann@example.org")
    accounts.service.reset_password(token, "a new password")
    with pytest.raises(LinkInvalid):
        accounts.service.reset_password(token, "yet another one")
    with pytest.raises(SignInRefused):
        accounts.service.authenticate("ann@example.org", PASSWORD, "10.0.0.1")
    accounts.service.authenticate("ann@example.org", "a new password", "10.0.0.1")
    with accounts.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSessionRow).where(
            WebSessionRow.account_id == account_id)).scalar_one() == 0


def test_a_new_link_replaces_the_previous_one(accounts: Accounts) -> None:
    accounts.member()
    accounts.service.request_link("ann@example.org", "signin")
    first = accounts.last_token("ann@example.org")
    accounts.service.request_link("ann@example.org", "signin")  # within a minute: nothing
    accounts.deliver()
    assert accounts.last_token("ann@example.org") == first
    assert len(accounts.mail.messages) == 2
    accounts.clock.advance(seconds=61)
    accounts.service.request_link("ann@example.org", "signin")
    second = accounts.last_token("ann@example.org")
    with pytest.raises(LinkInvalid):
        accounts.service.use_signin_link(first)
    assert accounts.service.use_signin_link(second).email == "ann@example.org"
    with pytest.raises(LinkInvalid):
        accounts.service.use_signin_link(second)


def test_links_for_unknown_addresses_send_nothing(accounts: Accounts) -> None:
    accounts.service.request_link("nobody@example.org", "reset")
    accounts.service.request_link("not an address", "signin")
    accounts.deliver()
    assert accounts.mail.messages == []


def test_wrong_password_and_unknown_address_fail_alike(accounts: Accounts) -> None:
    accounts.member()
    errors = []
    for email, password in (("ann@example.org", "wrong password"),
                            ("nobody@example.org", "wrong password"),
                            ("not-an-address", "x")):
        with pytest.raises(SignInRefused) as caught:
            accounts.service.authenticate(email, password, "10.0.0.1")
        errors.append(str(caught.value))
    assert errors == [WRONG] * 3


def test_brute_force_is_locked_out_with_growing_delays(accounts: Accounts) -> None:
    accounts.member()
    for _ in range(5):
        with pytest.raises(SignInRefused):
            accounts.service.authenticate("ann@example.org", "guess guess", "10.0.0.2")
    with pytest.raises(LockedOut) as first:
        accounts.service.authenticate("ann@example.org", PASSWORD, "10.0.0.3")
    assert first.value.retry_after == 1
    accounts.clock.advance(seconds=1)
    with pytest.raises(SignInRefused):
        accounts.service.authenticate("ann@example.org", "guess guess", "10.0.0.2")
    with pytest.raises(LockedOut) as second:
        accounts.service.authenticate("ann@example.org", PASSWORD, "10.0.0.4")
    assert second.value.retry_after == 2
    accounts.clock.advance(seconds=2)
    assert accounts.service.authenticate("ann@example.org", PASSWORD, "10.0.0.4").email \
        == "ann@example.org"


def test_unknown_address_is_locked_out_like_a_real_one(accounts: Accounts) -> None:
    for _ in range(5):
        with pytest.raises(SignInRefused):
            accounts.service.authenticate("nobody@example.org", "guess guess", "10.0.0.2")
    with pytest.raises(LockedOut):
        accounts.service.authenticate("nobody@example.org", "guess guess", "10.0.0.5")


def test_one_client_address_is_locked_out_across_accounts(accounts: Accounts) -> None:
    accounts.member()
    for n in range(20):
        with pytest.raises(SignInRefused):
            accounts.service.authenticate(f"user{n}@example.org", "guess guess", "10.9.9.9")
    with pytest.raises(LockedOut):
        accounts.service.authenticate("ann@example.org", PASSWORD, "10.9.9.9")
    assert accounts.service.authenticate("ann@example.org", PASSWORD, "10.0.0.1")


def test_lockout_survives_a_new_service(accounts: Accounts) -> None:
    from trialscout.accounts.service import AccountService

    accounts.member()
    for _ in range(5):
        with pytest.raises(SignInRefused):
            accounts.service.authenticate("ann@example.org", "guess guess", "10.0.0.2")
    other = AccountService(accounts.app.engine, accounts.service.policy, accounts.clock,
                           accounts.service.hasher)
    with pytest.raises(LockedOut):
        other.authenticate("ann@example.org", PASSWORD, "10.0.0.2")


def test_disabled_account_cannot_sign_in_and_loses_sessions(accounts: Accounts) -> None:
    account_id = accounts.member()
    accounts.service.start_session(None, "session-a", account_id)
    accounts.service.set_disabled(account_id)
    with pytest.raises(SignInRefused):
        accounts.service.authenticate("ann@example.org", PASSWORD, "10.0.0.1")
    with accounts.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSessionRow).where(
            WebSessionRow.account_id == account_id)).scalar_one() == 0


def test_role_change_ends_sessions(accounts: Accounts) -> None:
    account_id = accounts.member()
    accounts.service.start_session(None, "session-a", account_id)
    accounts.service.set_role(account_id, "coordinator")
    assert accounts.service.info(account_id).role == "coordinator"
    with accounts.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSessionRow).where(
            WebSessionRow.account_id == account_id)).scalar_one() == 0


def test_an_unconfirmed_address_leaks_nothing_to_a_wrong_password(accounts: Accounts) -> None:
    accounts.service.sign_up("una@example.org", PASSWORD)
    errors = []
    for email in ("una@example.org", "nobody@example.org"):
        with pytest.raises(SignInRefused) as caught:
            accounts.service.authenticate(email, "wrong password", "10.0.0.1")
        assert not isinstance(caught.value, NotVerified)
        errors.append(str(caught.value))
    assert errors == [WRONG, WRONG]


def test_the_right_password_before_confirming_says_so_and_resends_at_most_once_a_minute(
        accounts: Accounts) -> None:
    accounts.service.sign_up("una@example.org", PASSWORD)
    first = accounts.last_token("una@example.org")
    with pytest.raises(NotVerified) as caught:  # the sign-up's link went out just now
        accounts.service.authenticate("una@example.org", PASSWORD, "10.0.0.1")
    assert not caught.value.resent and "a moment ago" in str(caught.value)
    assert accounts.last_token("una@example.org") == first
    accounts.clock.advance(seconds=61)
    with pytest.raises(NotVerified) as caught:
        accounts.service.authenticate("una@example.org", PASSWORD, "10.0.0.1")
    assert caught.value.resent and "new link" in str(caught.value)
    fresh = accounts.last_token("una@example.org")
    assert fresh != first
    accounts.service.verify(fresh)
    assert accounts.service.authenticate("una@example.org", PASSWORD, "10.0.0.1").verified


def test_signing_up_again_before_confirming_resends_the_link(accounts: Accounts) -> None:
    accounts.service.sign_up("una@example.org", PASSWORD)
    first = accounts.last_token("una@example.org")
    accounts.clock.advance(minutes=61)
    accounts.service.sign_up("una@example.org", "another password 2")  # same answer
    second = accounts.last_token("una@example.org")
    assert second != first
    with pytest.raises(LinkInvalid):
        accounts.service.verify(first)
    accounts.service.verify(second)
    accounts.service.authenticate("una@example.org", PASSWORD, "10.0.0.1")  # password kept
    accounts.service.sign_up("una@example.org", "another password 2")
    accounts.deliver()
    assert accounts.mail.messages[-1]["Subject"] == "Your TrialScout account"
