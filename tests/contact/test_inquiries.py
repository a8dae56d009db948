"""Sending, routing, following and withdrawing inquiries; the public count; limits."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.contact.conftest import body, outbox
from tests.contact.helpers import key_of, request, send, trial
from tests.contact.studies import TRIAL_X, TRIAL_Y, X_SITE_A, X_SITE_B
from trialscout.app import TrialScout
from trialscout.contact import inquiries
from trialscout.contact.inquiries import ContactError, Limits, RateLimited
from trialscout.contact.models import ContactDetails
from trialscout.sessions.questions import questions_for


def test_unclaimed_site_gets_an_email_with_only_a_link(capp: TrialScout) -> None:
    sent = send(capp, TRIAL_X, site=1)
    assert (sent.route, sent.status, [e.status for e in sent.history]) == (
        "email", "sent", ["sent"])
    mails = outbox(capp)
    to_site = [m for m in mails if m["To"] == X_SITE_B]
    assert len(to_site) == 1
    text = body(to_site[0])
    assert "/inquiries/access/" in text and "Denver" in text
    for private in ("Ada", "ada@example.org", "walk every day", "Self-check"):
        assert private not in text
    assert [m["To"] for m in mails if m["To"] == "ada@example.org"] == ["ada@example.org"]
    assert not [m for m in mails if m["To"] == X_SITE_A]


def test_email_carries_details_only_when_the_patient_chose_it(capp: TrialScout) -> None:
    send(capp, TRIAL_X, email_health_data=True)
    text = body(next(m for m in outbox(capp) if m["To"] == X_SITE_A))
    assert "walk every day" in text and "ada@example.org" in text and "Self-check" in text


def test_claimed_trial_goes_to_the_workspace_and_not_by_email(capp: TrialScout) -> None:
    capp.contact.grant(trial(capp, TRIAL_X), 7, "*", admin_id=1)
    sent = send(capp, TRIAL_X, email_health_data=True)
    assert sent.route == "workspace" and not sent.email_health_data
    assert not [m for m in outbox(capp) if m["To"] in (X_SITE_A, X_SITE_B)]
    listed, total = capp.contact.workspace(7)
    assert total == 1 and listed[0].id == sent.id


def test_sites_nearest_first(capp: TrialScout) -> None:
    near_denver = capp.contact.site_choices(trial(capp, TRIAL_X), (39.7, -105.0))
    assert [c.label.split(" — ")[0] for c in near_denver] == ["Denver Bone Centre",
                                                              "Boston Bone Clinic"]
    assert near_denver[0].distance_km is not None and near_denver[0].distance_km < 20
    assert all(c.reachable for c in near_denver)
    no_place = capp.contact.site_choices(trial(capp, TRIAL_X))
    assert no_place[0].label.startswith("Boston") and no_place[0].distance_km is None


def test_prescreen_shares_fit_per_criterion_with_the_answer(capp: TrialScout) -> None:
    found = trial(capp, TRIAL_X)
    questions, _ = questions_for(found, functools.partial(capp.parsed_criteria, TRIAL_X))
    walk = next(q for q in questions if q.askable and "menopaus" in q.text)
    assert walk.question_key is not None
    sent = capp.contact.send(found, request(capp, TRIAL_X), owner="account:1",
                             client_key="c", answers={walk.question_key: "yes"})
    assert sent.shared.prescreen is not None
    items = {i.text: i for i in sent.shared.prescreen.items}
    assert items[walk.text].fit == "met" and items[walk.text].answer == "yes"
    assert sent.shared.prescreen.to_confirm, "unanswered criteria are listed to confirm"
    private = send(capp, TRIAL_X, owner="account:2", share_prescreen=False)
    assert private.shared.prescreen is None


@pytest.mark.parametrize(("change", "field"), [
    ({"agree": False}, "agree"),
    ({"site_key": "000000000000"}, "site_key"),
    ({"contact": ContactDetails(name="A", preferred_way="either")}, "email"),
    ({"contact": ContactDetails(name="A", email="not-an-address")}, "email"),
    ({"contact": ContactDetails(name="A", phone="call me maybe")}, "phone"),
    ({"contact": ContactDetails(name="A", phone="+1 555 0100", preferred_way="email")},
     "email"),
    ({"contact": ContactDetails(name="  \u200b ", email="a@example.org")}, "name"),
])
def test_bad_input_names_the_field(capp: TrialScout, change: dict[str, Any],
                                   field: str) -> None:
    with pytest.raises(ContactError) as caught:
        send(capp, TRIAL_X, **change)
    assert caught.value.field == field
    assert outbox(capp) == []


def test_sizes_are_limited_at_the_boundary(capp: TrialScout) -> None:
    with pytest.raises(ValidationError):
        request(capp, TRIAL_X, message="x" * 2001)
    with pytest.raises(ValidationError):
        ContactDetails(name="n" * 121, email="a@example.org")


def test_patient_follows_and_withdraws_only_their_own(capp: TrialScout) -> None:
    mine = send(capp, TRIAL_X, owner="account:1")
    theirs = send(capp, TRIAL_Y, owner="account:2")
    assert [i.id for i in capp.contact.mine("account:1")] == [mine.id]
    assert capp.contact.mine_one("account:1", theirs.id) is None
    assert capp.contact.withdraw("account:1", theirs.id) is None
    withdrawn = capp.contact.withdraw("account:1", mine.id, "Found another trial")
    assert withdrawn is not None and withdrawn.status == "withdrawn"
    assert [e.status for e in withdrawn.history] == ["sent", "withdrawn"]
    subjects = [m["Subject"] for m in outbox(capp) if m["To"] == "ada@example.org"]
    assert subjects[-1].endswith("Withdrawn")
    capp.contact.grant(trial(capp, TRIAL_X), 9, "*", admin_id=1)
    with pytest.raises(ContactError):
        capp.contact.team_status(9, mine.id, "contacted", None)


def test_team_status_changes_email_the_patient(capp: TrialScout) -> None:
    sent = send(capp, TRIAL_X)
    capp.contact.grant(trial(capp, TRIAL_X), 7, key_of(capp, TRIAL_X, 0), admin_id=1)
    read = capp.contact.team_read(7, sent.id)
    assert read is not None and read.status == "seen"
    changed = capp.contact.team_status(7, sent.id, "contacted", "Called on Monday")
    assert changed is not None
    assert [(e.status, e.by) for e in changed.history] == [
        ("sent", "patient"), ("seen", "study team"), ("contacted", "study team")]
    assert changed.history[-1].note == "Called on Monday"
    subjects = [m["Subject"] for m in outbox(capp) if m["To"] == "ada@example.org"]
    assert [s.rsplit(": ", 1)[1] for s in subjects] == [
        "Sent", "Seen by the study team", "Contacted"]


def test_public_count_is_rounded_down_and_hidden_below_five(capp: TrialScout) -> None:
    seen = []
    for n in range(1, 12):
        send(capp, TRIAL_X, owner=f"account:{n}", client=f"10.0.0.{n}")
        seen.append(capp.contact.asked_count(TRIAL_X))
    assert seen == [None, None, None, None, 5, 5, 5, 5, 5, 10, 10]
    send(capp, TRIAL_X, owner="account:11", client="10.0.0.99", site=1)
    assert capp.contact.asked_count(TRIAL_X) == 10, "people, not inquiries, are counted"
    assert capp.contact.asked_count(TRIAL_Y) is None


def test_limits_per_account_per_client_and_for_the_site(capp: TrialScout) -> None:
    capp.contact.limits = Limits(per_owner=2, per_address=3, daily_total=5)
    send(capp, TRIAL_X, owner="account:1", client="a")
    send(capp, TRIAL_Y, owner="account:1", client="a")
    with pytest.raises(RateLimited) as per_owner:
        send(capp, TRIAL_X, owner="account:1", client="b", site=1)
    assert per_owner.value.scope == "visitor" and 0 < per_owner.value.retry_after <= 86401
    send(capp, TRIAL_X, owner="account:2", client="a", site=1)
    with pytest.raises(RateLimited):
        send(capp, TRIAL_X, owner="account:3", client="a")
    send(capp, TRIAL_X, owner="account:4", client="b")
    send(capp, TRIAL_Y, owner="account:5", client="c")
    with pytest.raises(RateLimited) as site:
        send(capp, TRIAL_Y, owner="account:6", client="d")
    assert site.value.scope == "site"


def test_one_client_cannot_use_up_the_site_limit() -> None:
    limits = Limits.from_settings(object())
    assert limits.per_address < limits.daily_total and limits.per_owner < limits.per_address


def test_day_window_reopens(capp: TrialScout) -> None:
    found = trial(capp, TRIAL_X)
    limits = Limits(per_owner=1, per_address=5, daily_total=10)
    with capp.engine.begin() as conn:
        start = inquiries.now() - timedelta(days=2)
        inquiries.create(conn, found, request(capp, TRIAL_X), owner="account:1",
                         client_hash="h", prescreen=None, limits=limits, at=start)
        inquiries.create(conn, found, request(capp, TRIAL_X), owner="account:1",
                         client_hash="h", prescreen=None, limits=limits)


def test_line_breaks_are_stored_as_newlines(capp: TrialScout) -> None:
    sent = send(capp, TRIAL_X, message="one\rtwo\r\nthree")
    assert sent.shared.message == "one\ntwo\nthree"


def test_csv_quotes_formulas(capp: TrialScout) -> None:
    sent = send(capp, TRIAL_X, message="=HYPERLINK(\"http://evil\")",
                contact=ContactDetails(name="@SUM(A1)", email="ada@example.org"))
    text = inquiries.to_csv([sent])
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text
    assert text.splitlines()[0].startswith("id,nct_id,site,status")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=120), message=st.text(max_size=2000),
       phone=st.one_of(st.none(), st.text(max_size=40)))
def test_any_text_is_stored_as_typed_or_refused_by_field(capp: TrialScout, name: str,
                                                         message: str,
                                                         phone: str | None) -> None:
    capp.contact.limits = Limits(per_owner=10**6, per_address=10**6, daily_total=10**6)
    try:
        sent = send(capp, TRIAL_X, contact=ContactDetails(
            name=name or "x", email="ada@example.org", phone=phone), message=message)
    except ContactError as exc:
        assert exc.field in {"name", "phone", "message"}
        return
    stored = sent.shared.message or ""
    assert set(stored) <= set(message.replace("\r", "\n") + "\n")
    assert not any(ord(c) < 32 and c not in "\n\t" for c in stored)
    assert capp.contact.mine_one("account:1", sent.id) == sent


def test_parallel_sends_cannot_pass_the_limit_together(capp: TrialScout) -> None:
    from concurrent.futures import ThreadPoolExecutor

    capp.contact.limits = Limits(per_owner=3, per_address=100, daily_total=100)

    def attempt(n: int) -> str:
        try:
            send(capp, TRIAL_X, owner="account:77", client=f"c{n}", site=n % 2)
        except RateLimited:
            return "limited"
        return "sent"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert sorted(results) == ["limited"] * 5 + ["sent"] * 3
