"""From an import to an alert email: which changes alert which saved searches, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.alerts.helpers import BOSTON, DENVER, make_account, store, trial
from tests.mailserver import MailServer
from trialscout.alerts.models import SavedSearchCreate
from trialscout.alerts.service import AlertsError, AlertService
from trialscout.alerts.tables import AlertRow
from trialscout.app import TrialScout, create_app
from trialscout.mail.outbox import utcnow
from trialscout.search.models import SearchRequest


@pytest.fixture
def alert_app(tmp_path: Path, mail_server: MailServer) -> Iterator[TrialScout]:
    app = create_app(database_url=f"sqlite:///{tmp_path / 'alerts.db'}",
                     public_url="https://scout.example", **mail_server.settings())
    yield app
    app.close()


def _save(app: TrialScout, owner: str, delivery: str = "immediate", **request: object) -> int:
    create = SavedSearchCreate(request=SearchRequest.model_validate(request), delivery=delivery)
    return AlertService(app).save(owner, create).id


def _alerts(app: TrialScout) -> list[tuple[int, str, str]]:
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(
            AlertRow.saved_search_id, AlertRow.nct_id, AlertRow.kind).order_by(AlertRow.id))]


def test_new_recruiting_trial_alerts_matching_searches_only(alert_app: TrialScout,
                                                            tmp_path: Path,
                                                            mail_server: MailServer) -> None:
    owner = make_account(alert_app, "ann@example.org")
    bones = _save(alert_app, owner, q="osteoporosis")
    lungs = _save(alert_app, owner, q="asthma")
    store(alert_app, tmp_path, [
        trial("NCT09000101"),
        trial("NCT09000102", status="COMPLETED"),
        trial("NCT09000103", title="Inhaled steroid for asthma", conditions=["Asthma"]),
    ])
    report = AlertService(alert_app).run()
    assert report.alerts == 2 and report.emails_queued == 2 and report.sent == 2
    assert _alerts(alert_app) == [(bones, "NCT09000101", "new"),
                                  (lungs, "NCT09000103", "new")]
    msgs = {m["Subject"]: m for m in mail_server.messages}
    assert all(m["To"] == "ann@example.org" for m in msgs.values())
    msg = next(m for m in msgs.values() if "osteoporosis" in m["Subject"])
    token_url = msg["List-Unsubscribe"].strip("<>")
    assert token_url.startswith("https://scout.example/alerts/unsubscribe/")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "https://scout.example/trials/NCT09000101" in text
    assert 'href="https://scout.example/trials/NCT09000101"' in html
    assert "because you saved the search “osteoporosis”" in text
    assert "because you saved the search “osteoporosis”" in html
    rerun = AlertService(alert_app).run()
    assert (rerun.alerts, rerun.emails_queued, rerun.sent) == (0, 0, 0)
    assert len(mail_server.messages) == 2


def test_status_site_and_criteria_changes(alert_app: TrialScout, tmp_path: Path) -> None:
    owner = make_account(alert_app, "bo@example.org")
    store(alert_app, tmp_path, [trial("NCT09000201", status="ACTIVE_NOT_RECRUITING",
                                      sites=[DENVER]),
                                trial("NCT09000202", sites=[DENVER])])
    anywhere = _save(alert_app, owner, q="osteoporosis")
    boston = _save(alert_app, owner, q="osteoporosis", lat=42.3, lon=-71.0, radius=50)
    store(alert_app, tmp_path, [
        trial("NCT09000201", status="RECRUITING", sites=[DENVER], last_update="2024-06-01"),
        trial("NCT09000202", sites=[DENVER, BOSTON], last_update="2024-06-01",
              criteria="Inclusion Criteria:\n\n* Age 55 or older"),
    ])
    AlertService(alert_app).run(deliver=False)
    got = set(_alerts(alert_app))
    assert got == {
        (anywhere, "NCT09000201", "recruiting"),
        (anywhere, "NCT09000202", "eligibility"),
        (boston, "NCT09000202", "new_site"),
        (boston, "NCT09000202", "eligibility"),
    }
    store(alert_app, tmp_path, [
        trial("NCT09000202", last_update="2024-07-01", criteria="Inclusion Criteria:\n\n* "
              "Age 55 or older", sites=[DENVER, BOSTON, dict(DENVER, facility="Other")])])
    assert AlertService(alert_app).run(deliver=False).alerts == 0


def test_trials_stored_before_a_search_exists_raise_nothing(alert_app: TrialScout,
                                                             tmp_path: Path) -> None:
    store(alert_app, tmp_path, [trial("NCT09000301")])
    owner = make_account(alert_app, "cy@example.org")
    _save(alert_app, owner, q="osteoporosis")
    assert AlertService(alert_app).run(deliver=False).alerts == 0
    store(alert_app, tmp_path, [trial("NCT09000302")])
    assert AlertService(alert_app).run(deliver=False).alerts == 1


def test_daily_delivery_sends_one_digest_per_day(alert_app: TrialScout, tmp_path: Path,
                                                 mail_server: MailServer) -> None:
    owner = make_account(alert_app, "di@example.org")
    _save(alert_app, owner, delivery="daily", q="osteoporosis")
    now = utcnow()
    service = AlertService(alert_app)
    store(alert_app, tmp_path, [trial("NCT09000401")])
    assert service.run(now).sent == 1
    store(alert_app, tmp_path, [trial("NCT09000402"), trial("NCT09000403")])
    assert service.run(now + timedelta(hours=3)).emails_queued == 0
    assert service.run(now + timedelta(hours=25)).sent == 1
    second = mail_server.messages[-1]
    assert "2 updates" in second["Subject"]
    body = second.get_body(("plain",)).get_content()
    assert "NCT09000402" in body and "NCT09000403" in body


def test_unverified_and_anonymous_owners_get_no_email(alert_app: TrialScout, tmp_path: Path,
                                                      mail_server: MailServer) -> None:
    unverified = make_account(alert_app, "un@example.org", verified=False)
    _save(alert_app, unverified, q="osteoporosis")
    _save(alert_app, "session:" + "a" * 64, q="osteoporosis")
    store(alert_app, tmp_path, [trial("NCT09000501")])
    report = AlertService(alert_app).run()
    assert report.alerts == 2 and report.emails_queued == 0
    assert mail_server.messages == []


def test_unsubscribe_stops_the_emails(alert_app: TrialScout, tmp_path: Path,
                                      mail_server: MailServer) -> None:
    owner = make_account(alert_app, "ux@example.org")
    _save(alert_app, owner, q="osteoporosis")
    store(alert_app, tmp_path, [trial("NCT09000601")])
    AlertService(alert_app).run()
    token = mail_server.messages[0]["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    raw = mail_server.received[0].raw  # as a mail client sees it: a URL, not encoded words
    assert f"\r\nList-Unsubscribe: <https://scout.example/alerts/unsubscribe/{token}>\r\n" \
        .encode() in raw
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    assert AlertService(alert_app).unsubscribe(token) == "osteoporosis"
    assert AlertService(alert_app).unsubscribe("not-a-token") is None
    store(alert_app, tmp_path, [trial("NCT09000602")])
    assert AlertService(alert_app).run().emails_queued == 0
    assert len(mail_server.messages) == 1


def test_member_with_a_profile_sees_a_verdict(alert_app: TrialScout, tmp_path: Path,
                                              mail_server: MailServer) -> None:
    from sqlalchemy import insert

    from trialscout.accounts.tables import AccountRow
    from trialscout.sessions.tables import WebSessionRow

    owner = make_account(alert_app, "vi@example.org")
    with alert_app.engine.begin() as conn:
        home = conn.execute(select(AccountRow.home_hash).where(
            AccountRow.email == "vi@example.org")).scalar_one()
        conn.execute(insert(WebSessionRow).values(
            id_hash=home, created_at=utcnow(), last_seen=utcnow(),
            profile='{"age": 30, "sex": "MALE"}'))
    _save(alert_app, owner, q="osteoporosis")
    store(alert_app, tmp_path, [trial("NCT09000701")])  # women aged 50 or older
    AlertService(alert_app).run()
    text = mail_server.messages[0].get_body(("plain",)).get_content()
    assert "You are likely not eligible" in text


@pytest.mark.parametrize("request_fields", [
    {"q": "AND OR"}, {"status": ["SOMETIMES"]}, {"radius": 10.0},
    {"near": "Nowhereville Zzyzx"}])
def test_bad_searches_are_refused(alert_app: TrialScout, request_fields: dict) -> None:
    with pytest.raises(AlertsError):
        _save(alert_app, "session:" + "b" * 64, **request_fields)


def test_pipeline_on_each_backend(backend_app: TrialScout, tmp_path: Path,
                                  mail_server: MailServer) -> None:
    import dataclasses

    app = create_app(dataclasses.replace(backend_app.settings, **mail_server.settings()))
    owner = make_account(app, "pg@example.org")
    _save(app, owner, q="osteoporosis", lat=42.3, lon=-71.0, radius=50)
    store(app, tmp_path, [trial("NCT09001101", sites=[BOSTON]),
                          trial("NCT09001102", sites=[DENVER])])
    report = AlertService(app).run()
    assert (report.alerts, report.sent) == (1, 1)
    assert AlertService(app).run().alerts == 0
    assert "NCT09001101" in mail_server.messages[0].get_body(("plain",)).get_content()
    app.close()


def test_a_rerun_of_unfinished_changes_adds_no_duplicate(backend_app: TrialScout,
                                                         tmp_path: Path) -> None:
    from sqlalchemy import func, update

    from trialscout.alerts.compute import compute_alerts
    from trialscout.alerts.tables import TrialChangeRow

    owner = make_account(backend_app, "re@example.org")
    for q in ("osteoporosis", "denosumab", "osteoporosis denosumab"):
        _save(backend_app, owner, q=q)
    store(backend_app, tmp_path, [trial("NCT09001201"), trial("NCT09001202")])
    assert compute_alerts(backend_app.engine).alerts == 6
    with backend_app.engine.begin() as conn:  # as if the pass died before marking them
        conn.execute(update(TrialChangeRow).values(processed=False))
    assert compute_alerts(backend_app.engine).alerts == 6
    with backend_app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AlertRow)).scalar_one() == 6


def test_old_alerts_and_changes_are_pruned(alert_app: TrialScout, tmp_path: Path) -> None:
    from sqlalchemy import func

    from trialscout.alerts.compute import prune
    from trialscout.alerts.tables import TrialChangeRow

    owner = make_account(alert_app, "old@example.org")
    _save(alert_app, owner, q="osteoporosis")
    store(alert_app, tmp_path, [trial("NCT09001301"), trial("NCT09001302", title="Asthma",
                                                            conditions=["Asthma"])])
    AlertService(alert_app).run(deliver=False)
    with alert_app.engine.begin() as conn:
        assert prune(conn, now=utcnow() + timedelta(days=40)) == 1  # the unmatched change
        assert prune(conn, now=utcnow() + timedelta(days=181)) == 2  # the alert, its change
        assert conn.execute(select(func.count()).select_from(TrialChangeRow)).scalar_one() == 0


def test_one_run_sends_every_due_message_in_batches(alert_app: TrialScout, tmp_path: Path,
                                                    mail_server: MailServer) -> None:
    owners = [make_account(alert_app, f"batch{i}@example.org") for i in range(5)]
    for owner in owners:
        _save(alert_app, owner, q="osteoporosis")
    store(alert_app, tmp_path, [trial("NCT09001401")])
    report = AlertService(alert_app).run(delivery_batch=2)
    assert (report.emails_queued, report.sent) == (5, 5)
    assert sorted(m["To"] for m in mail_server.messages) == [
        f"batch{i}@example.org" for i in range(5)]


def test_account_export_and_deletion_cover_saved_searches(alert_app: TrialScout,
                                                          tmp_path: Path) -> None:
    from sqlalchemy import func

    from trialscout.accounts.data import delete_account, export_account
    from trialscout.alerts.tables import SavedSearchRow

    owner = make_account(alert_app, "gone@example.org")
    _save(alert_app, owner, q="osteoporosis")
    store(alert_app, tmp_path, [trial("NCT09001501")])
    AlertService(alert_app).run()
    account_id = int(owner.split(":")[1])
    with alert_app.engine.begin() as conn:
        exported = export_account(conn, account_id)
        assert [r["name"] for r in exported["owned"]["saved_searches"]] == ["osteoporosis"]
        assert delete_account(conn, account_id)
    with alert_app.engine.connect() as conn:
        for table in (SavedSearchRow, AlertRow):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
