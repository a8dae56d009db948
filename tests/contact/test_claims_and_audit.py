"""Coordinator claims (emailed link, admin grant, brute force), scopes, emailed-link
access with a one-time code, and the audit log of reads."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.contact.conftest import body, outbox
from tests.contact.helpers import key_of, send, trial
from tests.contact.studies import TRIAL_X, TRIAL_Y, X_CENTRAL, X_SITE_A, X_SITE_B, Y_SITE
from trialscout.app import TrialScout
from trialscout.contact import attempts, claims
from trialscout.contact.inquiries import ContactError
from trialscout.contact.models import Inquiry


def _claim_token(app: TrialScout, to: str) -> str:
    mails = [m for m in outbox(app) if m["To"] == to and "Claim" in str(m["Subject"])]
    found = re.search(r"/coordinator/claim/(\S+)", body(mails[-1]))
    assert found is not None
    return found.group(1)


def test_claim_by_link_to_a_listed_address(capp: TrialScout) -> None:
    x = trial(capp, TRIAL_X)
    site_a = key_of(capp, TRIAL_X, 0)
    with pytest.raises(ContactError) as unlisted:
        capp.contact.request_claim(x, 5, site_a, "someone@example.org")
    assert unlisted.value.field == "email"
    with pytest.raises(ContactError):
        capp.contact.request_claim(x, 5, site_a, X_SITE_B)
    with pytest.raises(ContactError):
        capp.contact.request_claim(x, 5, "*", X_SITE_A)
    capp.contact.request_claim(x, 5, site_a, X_SITE_A)
    token = _claim_token(capp, X_SITE_A)
    assert capp.contact.confirm_claim(6, token) is None, "another account cannot use it"
    claim = capp.contact.confirm_claim(5, token)
    assert claim is not None and (claim.nct_id, claim.site_key) == (TRIAL_X, site_a)
    assert claim.via == f"email:{X_SITE_A}"
    assert capp.contact.confirm_claim(5, token) is None, "a link works once"
    capp.contact.request_claim(x, 5, "*", X_CENTRAL)
    assert capp.contact.confirm_claim(5, _claim_token(capp, X_CENTRAL)) is not None
    assert {c.site_key for c in capp.contact.claims(5)} == {site_a, "*"}


def test_claim_links_expire(capp: TrialScout) -> None:
    x = trial(capp, TRIAL_X)
    with capp.engine.begin() as conn:
        old = claims.request_link(conn, x, 5, key_of(capp, TRIAL_X, 0), X_SITE_A,
                                  at=claims.now() - timedelta(hours=49))
    assert capp.contact.confirm_claim(5, old) is None


def test_brute_force_on_claim_links_locks_the_account(capp: TrialScout) -> None:
    x = trial(capp, TRIAL_X)
    capp.contact.request_claim(x, 5, key_of(capp, TRIAL_X, 0), X_SITE_A)
    token = _claim_token(capp, X_SITE_A)
    for n in range(attempts.MAX_FAILURES):
        assert capp.contact.confirm_claim(5, f"guess-{n}") is None
    with pytest.raises(attempts.Locked) as locked:
        capp.contact.confirm_claim(5, token)
    assert 0 < locked.value.retry_after <= attempts.WINDOW.total_seconds() + 1
    assert capp.contact.claims(5) == []
    assert capp.contact.confirm_claim(6, "guess") is None, "other accounts are not locked"


def test_claim_links_per_day_are_limited(capp: TrialScout) -> None:
    x = trial(capp, TRIAL_X)
    for _ in range(claims.LINKS_PER_DAY):
        capp.contact.request_claim(x, 5, key_of(capp, TRIAL_X, 1), X_SITE_B)
    with pytest.raises(attempts.Locked):
        capp.contact.request_claim(x, 5, key_of(capp, TRIAL_X, 1), X_SITE_B)


def test_scopes_site_all_sites_and_other_trials(capp: TrialScout) -> None:
    at_a = send(capp, TRIAL_X, owner="account:1", site=0)
    at_b = send(capp, TRIAL_X, owner="account:2", site=1)
    at_y = send(capp, TRIAL_Y, owner="account:3")
    capp.contact.grant(trial(capp, TRIAL_X), 10, key_of(capp, TRIAL_X, 0), admin_id=1)
    capp.contact.grant(trial(capp, TRIAL_X), 11, "*", admin_id=1)
    capp.contact.grant(trial(capp, TRIAL_Y), 12, "*", admin_id=1)
    assert {i.id for i in capp.contact.workspace(10)[0]} == {at_a.id}
    assert {i.id for i in capp.contact.workspace(11)[0]} == {at_a.id, at_b.id}
    assert {i.id for i in capp.contact.workspace(12)[0]} == {at_y.id}
    assert capp.contact.workspace(13)[1] == 0
    assert capp.contact.team_read(10, at_b.id) is None
    assert capp.contact.team_read(12, at_a.id) is None
    assert capp.contact.team_status(12, at_a.id, "enrolled", None) is None
    filtered, total = capp.contact.workspace(11, site_key=key_of(capp, TRIAL_X, 1))
    assert total == 1 and filtered[0].id == at_b.id
    assert capp.contact.workspace(11, status="withdrawn")[1] == 0


def test_every_read_is_audited(capp: TrialScout) -> None:
    first = send(capp, TRIAL_X, owner="account:1")
    second = send(capp, TRIAL_X, owner="account:2")
    capp.contact.grant(trial(capp, TRIAL_X), 11, "*", admin_id=1)
    capp.contact.workspace(11)
    capp.contact.team_read(11, first.id)
    capp.contact.team_read(12, second.id)
    capp.contact.mine_one("account:1", first.id)
    entries, total = capp.contact.audit_log()
    reads = [(e.actor, e.action, e.inquiry_id) for e in entries if e.action != "grant"]
    assert sorted(reads) == sorted([("account:11", "list", first.id),
                                    ("account:11", "list", second.id),
                                    ("account:11", "read", first.id)])
    assert total == 4 and entries[-1].action == "grant"


def test_emailed_link_needs_a_code_sent_to_that_address(capp: TrialScout) -> None:
    sent = send(capp, TRIAL_Y)
    link = re.search(r"/inquiries/access/(\S+)", body(
        next(m for m in outbox(capp) if m["To"] == Y_SITE)))
    assert link is not None
    token = link.group(1)
    assert capp.contact.recipient_read(token, "browser-1") is False
    assert capp.contact.recipient_read("nope", "browser-1") is None
    assert capp.contact.recipient_send_code(token)
    code = re.search(r"is (\d{6})\.", body([m for m in outbox(capp)
                                            if m["To"] == Y_SITE][-1]))
    assert code is not None
    wrong = "000000" if code.group(1) != "000000" else "111111"
    assert capp.contact.recipient_verify(token, wrong, "browser-1") is False
    assert capp.contact.recipient_verify(token, code.group(1), "browser-1") is True
    read = capp.contact.recipient_read(token, "browser-1")
    assert isinstance(read, Inquiry) and read.id == sent.id
    assert read.status == "seen"
    assert capp.contact.recipient_read(token, "browser-2") is False, "only that browser"
    assert capp.contact.recipient_verify(token, code.group(1), "browser-2") is False, \
        "a code works once"
    entries, _ = capp.contact.audit_log(inquiry_id=sent.id)
    assert [(e.actor, e.action) for e in entries] == [(f"email:{Y_SITE}", "read")]


def test_brute_force_on_codes_locks_the_link(capp: TrialScout) -> None:
    send(capp, TRIAL_Y)
    link = re.search(r"/inquiries/access/(\S+)", body(outbox(capp)[0]))
    assert link is not None
    capp.contact.recipient_send_code(link.group(1))
    code = re.search(r"is (\d{6})\.", body(outbox(capp)[-1]))
    assert code is not None
    guesses = [f"{n:06d}" for n in range(10) if f"{n:06d}" != code.group(1)]
    for guess in guesses[:attempts.MAX_FAILURES]:
        assert capp.contact.recipient_verify(link.group(1), guess, "b") is False
    with pytest.raises(attempts.Locked):
        capp.contact.recipient_verify(link.group(1), code.group(1), "b")
