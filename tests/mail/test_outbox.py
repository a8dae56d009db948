"""The outbox against a real SMTP server: idempotent composition, delivery, retries, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.mailserver import MailServer
from trialscout.app import TrialScout, create_app
from trialscout.mail.delivery import deliver_pending
from trialscout.mail.outbox import MailError, enqueue, outbox_counts, utcnow
from trialscout.mail.tables import OutboxRow, SuppressionRow


@pytest.fixture
def mail_app(tmp_path, mail_server: MailServer) -> Iterator[TrialScout]:
    app = create_app(database_url=f"sqlite:///{tmp_path / 'mail.db'}",
                     mail_retry_base=10.0, mail_max_attempts=3, **mail_server.settings())
    yield app
    app.close()


def _enqueue(app: TrialScout, key: str, to: str = "ann@example.org") -> str:
    with app.engine.begin() as conn:
        return enqueue(conn, to=to, subject=f"Subject {key}", text=f"Text {key}",
                       html=f"<p>HTML {key}</p>", headers={"X-Test": key}, key=key).message_id


def test_enqueue_composes_once_per_key(mail_app: TrialScout) -> None:
    first = _enqueue(mail_app, "k1")
    with mail_app.engine.begin() as conn:
        again = enqueue(conn, to="other@example.org", subject="changed", text="changed",
                        key="k1")
    assert again.message_id == first and not again.created
    with mail_app.engine.connect() as conn:
        rows = conn.execute(select(OutboxRow.recipient, OutboxRow.subject)).all()
    assert [(r.recipient, r.subject) for r in rows] == [("ann@example.org", "Subject k1")]


@pytest.mark.parametrize("address", ["", "no-at-sign", "a@b", "x@y.org\nBcc: z@w.org",
                                     "a" * 400 + "@example.org"])
def test_bad_addresses_are_refused(mail_app: TrialScout, address: str) -> None:
    with mail_app.engine.begin() as conn, pytest.raises(MailError):
        enqueue(conn, to=address, subject="s", text="t", key=f"bad-{address!r}")


def test_header_injection_is_refused(mail_app: TrialScout) -> None:
    with mail_app.engine.begin() as conn, pytest.raises(MailError):
        enqueue(conn, to="a@example.org", subject="hi\nBcc: x@example.org", text="t", key="h")


def test_delivery_sends_text_and_html_once(mail_app: TrialScout,
                                           mail_server: MailServer) -> None:
    ids = [_enqueue(mail_app, f"m{i}") for i in range(3)]
    report = deliver_pending(mail_app)
    assert report.sent == 3
    assert deliver_pending(mail_app).sent == 0
    received = mail_server.messages
    assert sorted(m["Message-ID"] for m in received) == sorted(ids)
    msg = received[0]
    assert msg["From"] == "TrialScout <alerts@trialscout.test>"
    assert msg["X-Test"] == "m0"
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(("plain",)).get_content().strip() == "Text m0"
    assert "<p>HTML m0</p>" in msg.get_body(("html",)).get_content()
    with mail_app.engine.connect() as conn:
        assert outbox_counts(conn) == {"sent": 3}


def test_smtp_down_then_delivered_after_backoff(mail_app: TrialScout,
                                                mail_server: MailServer) -> None:
    mail_server.stop()
    _enqueue(mail_app, "down1")
    _enqueue(mail_app, "down2")
    now = utcnow()
    report = deliver_pending(mail_app, now=now)
    assert report.sent == 0 and report.deferred == 1  # the pass stops at the first failure
    report = deliver_pending(mail_app, now=now + timedelta(seconds=5))
    assert report.deferred == 1  # the second message, the first one waits for its delay
    mail_server.start()
    assert deliver_pending(mail_app, now=now + timedelta(seconds=6)).sent == 0  # none due
    assert deliver_pending(mail_app, now=now + timedelta(seconds=11)).sent == 1
    assert deliver_pending(mail_app, now=now + timedelta(seconds=16)).sent == 1
    assert len(mail_server.messages) == 2
    with mail_app.engine.connect() as conn:
        attempts = sorted(conn.execute(select(OutboxRow.attempts)).scalars())
    assert attempts == [2, 2]


def test_temporary_refusal_is_retried_then_given_up(mail_app: TrialScout,
                                                    mail_server: MailServer) -> None:
    mail_server.refuse(None, "451 4.3.0 Try again later")
    _enqueue(mail_app, "t1")
    now = utcnow()
    for hour in range(6):
        deliver_pending(mail_app, now=now + timedelta(hours=hour))
    with mail_app.engine.connect() as conn:
        row = conn.execute(select(OutboxRow.state, OutboxRow.attempts,
                                  OutboxRow.last_error)).one()
    assert (row.state, row.attempts) == ("failed", 3)
    assert row.last_error.startswith("451")
    assert mail_server.messages == []


def test_permanent_refusal_is_recorded_and_stops_sends(mail_app: TrialScout,
                                                       mail_server: MailServer) -> None:
    mail_server.refuse("gone@example.org", "550 5.1.1 No such user")
    _enqueue(mail_app, "p1", to="gone@example.org")
    _enqueue(mail_app, "p2", to="gone@example.org")
    _enqueue(mail_app, "ok", to="ann@example.org")
    now = utcnow()
    report = deliver_pending(mail_app, now=now)
    assert report.failed == 1 and report.sent == 1 and report.suppressed == 1
    for day in range(1, 4):
        assert deliver_pending(mail_app, now=now + timedelta(days=day)).sent == 0
    _enqueue(mail_app, "p3", to="Gone@Example.org")
    deliver_pending(mail_app, now=now + timedelta(days=5))
    with mail_app.engine.connect() as conn:
        states = dict(conn.execute(select(OutboxRow.subject, OutboxRow.state)).all())
        attempts = dict(conn.execute(select(OutboxRow.subject, OutboxRow.attempts)).all())
        suppression = conn.execute(select(SuppressionRow)).one()
    assert states == {"Subject p1": "failed", "Subject p2": "suppressed",
                      "Subject p3": "suppressed", "Subject ok": "sent"}
    assert attempts["Subject p1"] == 1 and attempts["Subject p2"] == 0
    assert suppression.address == "gone@example.org" and suppression.code == 550
    assert [m["To"] for m in mail_server.messages] == ["ann@example.org"]


def test_unconfigured_smtp_keeps_mail_in_the_outbox(tmp_path) -> None:
    app = create_app(database_url=f"sqlite:///{tmp_path / 'n.db'}")
    _enqueue(app, "x")
    report = deliver_pending(app)
    assert not report.configured and report.sent == 0
    with app.engine.connect() as conn:
        assert outbox_counts(conn) == {"pending": 1}
    app.close()


def test_outbox_on_each_backend(backend_app: TrialScout, mail_server: MailServer) -> None:
    import dataclasses

    app = create_app(dataclasses.replace(backend_app.settings, **mail_server.settings()))
    first = _enqueue(app, "b1")
    assert _enqueue(app, "b1") == first
    mail_server.refuse("gone@example.org", "550 5.1.1 No such user")
    _enqueue(app, "b2", to="gone@example.org")
    _enqueue(app, "b3", to="gone@example.org")
    report = deliver_pending(app)
    assert (report.sent, report.failed, report.suppressed) == (1, 1, 1)
    with app.engine.connect() as conn:
        assert outbox_counts(conn) == {"sent": 1, "failed": 1, "suppressed": 1}
    app.close()


def test_settled_messages_are_pruned_after_thirty_days(mail_app: TrialScout,
                                                       mail_server: MailServer) -> None:
    from trialscout.mail.outbox import prune_outbox

    _enqueue(mail_app, "old-sent")
    deliver_pending(mail_app)
    mail_server.stop()
    _enqueue(mail_app, "old-pending")
    with mail_app.engine.begin() as conn:
        assert prune_outbox(conn, now=utcnow() + timedelta(days=29)) == 0
        assert prune_outbox(conn, now=utcnow() + timedelta(days=31)) == 1
        assert outbox_counts(conn) == {"pending": 1}
