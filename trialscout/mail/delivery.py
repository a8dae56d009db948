"""Sending the outbox over SMTP: at most once per message, retried with backoff.

Each message goes through these steps, each committed before the next:

1. **claim**: ``pending`` -> ``sending`` (stage ``claimed``), recording which process took it;
   only one process can win the update, so two runners never send the same message.
2. **envelope**: MAIL FROM and RCPT TO. When the server accepts the recipient the stage
   becomes ``data`` (committed) and only then is the message body transmitted.
3. **done**: on the server's final reply the row becomes ``sent``, ``pending`` again with a
   later ``next_attempt_at`` (4xx, connection lost before DATA), or ``failed`` (5xx; a
   refused recipient is also added to ``mail_suppressions`` and nothing more goes there).

A crash (kill -9, power loss) leaves the row in ``sending``. The next pass recovers rows
whose process is gone (same host, pid not alive) or whose claim is older than the lease:
a row still at stage ``claimed`` never reached DATA, so the server cannot have it and it is
sent again; a row at stage ``data`` may or may not have been accepted, so it becomes
``uncertain`` and is **not** sent again (``trialscout alerts run --resend-uncertain``
sends those after a person has looked). The guarantee is therefore: never a duplicate,
and exactly once unless the crash falls between the start of DATA and the commit of
``sent`` (a window of one server reply), which is reported, not hidden.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from trialscout.mail.mime import header_line
from trialscout.mail.outbox import utcnow
from trialscout.mail.tables import OutboxRow, SuppressionRow

if TYPE_CHECKING:
    from collections.abc import Callable

    from trialscout.settings import Settings

LEASE_MIN_SECONDS = 120.0
_FROM = re.compile(rb"(?im)^from:")
_LINE_END = re.compile(rb"\r?\n")
ERROR_CHARS = 500


class TemporaryFailure(Exception):
    """4xx or a connection problem: try again later. ``stop`` ends the pass."""

    def __init__(self, text: str, *, stop: bool) -> None:
        super().__init__(text)
        self.stop = stop


class PermanentFailure(Exception):
    """A 5xx reply. ``suppress``: the recipient refused, send nothing more to it."""

    def __init__(self, code: int, text: str, *, suppress: bool, stop: bool = False) -> None:
        super().__init__(text)
        self.code = code
        self.suppress = suppress
        self.stop = stop


class UncertainFailure(Exception):
    """The connection died during DATA: the server may or may not have the message."""


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    suppressed: int = 0
    recovered: int = 0
    uncertain: int = 0
    configured: bool = True
    more: bool = False
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "deferred": self.deferred, "failed": self.failed,
                "suppressed": self.suppressed, "recovered": self.recovered,
                "uncertain": self.uncertain, "configured": self.configured}


def _worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def _alive(worker: str | None) -> bool:
    """Whether the process that claimed a row still runs (only knowable on this host)."""
    if not worker:
        return False
    host, _, pid_text = worker.rpartition(":")
    if host != socket.gethostname()[:60] or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reply(resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return text[:ERROR_CHARS]


class SmtpClient:
    """One SMTP connection, opened on first use, reused for the pass."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        host = s.smtp_host or ""
        try:
            smtp: smtplib.SMTP
            if s.smtp_security == "tls":
                smtp = smtplib.SMTP_SSL(host, s.smtp_port, timeout=s.smtp_timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, s.smtp_port, timeout=s.smtp_timeout)
                if s.smtp_security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
        except smtplib.SMTPResponseException as exc:
            raise TemporaryFailure(f"{exc.smtp_code} {_reply(exc.smtp_error)}",
                                   stop=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot reach the SMTP server: {type(exc).__name__}",
                                   stop=True) from exc
        return smtp

    def send(self, sender: str, recipient: str, data: bytes,
             before_data: Callable[[], None]) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        try:
            smtp.ehlo_or_helo_if_needed()
            code, resp = smtp.mail(sender)
            if code != 250:
                smtp.rset()
                self._raise(code, resp, recipient_refused=False)
            code, resp = smtp.rcpt(recipient)
            if code not in (250, 251):
                smtp.rset()
                self._raise(code, resp, recipient_refused=True)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self.close()
            raise TemporaryFailure(f"connection lost: {type(exc).__name__}", stop=True) from exc
        before_data()
        try:
            code, resp = smtp.data(data)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self.close()
            raise UncertainFailure(f"connection lost during DATA: {type(exc).__name__}"
                                   ) from exc
        except smtplib.SMTPDataError as exc:
            self._raise(exc.smtp_code, exc.smtp_error, recipient_refused=True)
        if code != 250:
            self._raise(code, resp, recipient_refused=True)

    @staticmethod
    def _raise(code: int, resp: bytes | str, *, recipient_refused: bool) -> None:
        text = f"{code} {_reply(resp)}"
        if code >= 500:
            raise PermanentFailure(code, text, suppress=recipient_refused,
                                   stop=not recipient_refused)
        raise TemporaryFailure(text, stop=False)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def _lease(settings: Settings) -> timedelta:
    return timedelta(seconds=max(LEASE_MIN_SECONDS, settings.smtp_timeout * 4))


def recover(engine: Engine, settings: Settings, now: datetime,
            report: DeliveryReport) -> None:
    """Settle rows a crashed sender left in ``sending`` (see the module docstring)."""
    with engine.begin() as conn:
        rows = conn.execute(select(OutboxRow.id, OutboxRow.stage, OutboxRow.claimed_by,
                                   OutboxRow.claimed_at)
                            .where(OutboxRow.state == "sending")).all()
        for row in rows:
            stale = row.claimed_at is None or now - row.claimed_at > _lease(settings)
            if _alive(row.claimed_by) and not stale:
                continue
            values: dict[str, str | None]
            if row.stage == "data":
                values = {"state": "uncertain", "last_error": "crashed during DATA: maybe "
                          "delivered, not sent again"}
                report.uncertain += 1
            else:
                values = {"state": "pending", "stage": None}
                report.recovered += 1
            conn.execute(update(OutboxRow).where(OutboxRow.id == row.id,
                                                 OutboxRow.state == "sending")
                         .values(claimed_by=None, **values))


def _backoff(settings: Settings, attempts: int) -> timedelta:
    seconds = settings.mail_retry_base * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, settings.mail_retry_max))


def _suppress(engine: Engine, address: str, code: int, reason: str, now: datetime) -> int:
    values = {"address": address, "code": code, "reason": reason, "recorded_at": now}
    with engine.begin() as conn:
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)
        conn.execute(insert(SuppressionRow).values(values)
                     .on_conflict_do_nothing(index_elements=["address"]))
        result = conn.execute(update(OutboxRow).where(OutboxRow.recipient == address,
                                                      OutboxRow.state == "pending")
                              .values(state="suppressed", last_error=reason))
        return int(result.rowcount or 0)


def _finish(engine: Engine, row_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(**values))


def _envelope(settings: Settings, data: bytes) -> tuple[str, bytes]:
    """The envelope sender and the bytes to send: the stored message with CRLF line ends
    and, if it was stored without one, a From header from ``mail_sender``. The message is
    not parsed and written again: that refolded its headers, and a long
    ``List-Unsubscribe`` came out as encoded words no mail client reads as a URL."""
    sender = parseaddr(settings.mail_sender)[1]
    head = data.partition(b"\n\n")[0]
    if not _FROM.search(head):
        data = header_line("From", settings.mail_sender).encode("ascii") + b"\n" + data
    return sender, _LINE_END.sub(b"\r\n", data)


def deliver_pending(app: Any, now: datetime | None = None, *, limit: int = 1000,
                    resend_uncertain: bool = False,
                    client: SmtpClient | None = None) -> DeliveryReport:
    """Send the due messages of the outbox once each (one pass; see the module docstring)."""
    settings: Settings = app.settings
    engine: Engine = app.engine
    report = DeliveryReport()
    if not settings.smtp_host:
        report.configured = False
        return report
    now = now or utcnow()
    recover(engine, settings, now, report)
    if resend_uncertain:
        with engine.begin() as conn:
            conn.execute(update(OutboxRow).where(OutboxRow.state == "uncertain")
                         .values(state="pending", stage=None, next_attempt_at=now))
    with engine.connect() as conn:
        due = list(conn.execute(select(OutboxRow.id).where(
            OutboxRow.state == "pending", OutboxRow.next_attempt_at <= now)
            .order_by(OutboxRow.id).limit(limit)).scalars())
    smtp = client or SmtpClient(settings)
    me = _worker_id()
    stopped = False
    try:
        for row_id in due:
            if _send_one(engine, settings, smtp, row_id, me, now, report):
                stopped = True
                break
    finally:
        smtp.close()
    report.more = len(due) >= limit and not stopped
    return report


def _send_one(engine: Engine, settings: Settings, smtp: SmtpClient, row_id: int, me: str,
              now: datetime, report: DeliveryReport) -> bool:
    """Claim, send and settle one message; True when the pass should stop."""
    with engine.begin() as conn:
        claimed = conn.execute(
            update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.state == "pending")
            .values(state="sending", stage="claimed", claimed_by=me, claimed_at=utcnow(),
                    attempts=OutboxRow.attempts + 1)).rowcount
        if not claimed:
            return False
        row = conn.execute(select(OutboxRow.recipient, OutboxRow.message, OutboxRow.attempts)
                           .where(OutboxRow.id == row_id)).one()
        blocked = conn.execute(select(SuppressionRow.code)
                               .where(SuppressionRow.address == row.recipient)).first()
    if blocked is not None:
        _finish(engine, row_id, state="suppressed", stage=None, attempts=row.attempts - 1,
                last_error="address refused mail earlier")
        report.suppressed += 1
        return False
    sender, data = _envelope(settings, row.message)
    try:
        smtp.send(sender, row.recipient, data,
                  before_data=lambda: _finish(engine, row_id, stage="data"))
    except TemporaryFailure as exc:
        if row.attempts >= settings.mail_max_attempts:
            _finish(engine, row_id, state="failed", stage=None, last_error=str(exc))
            report.failed += 1
        else:
            _finish(engine, row_id, state="pending", stage=None, last_error=str(exc),
                    next_attempt_at=now + _backoff(settings, row.attempts))
            report.deferred += 1
        report.errors.append(str(exc))
        return exc.stop
    except PermanentFailure as exc:
        _finish(engine, row_id, state="failed", stage=None, last_error=str(exc))
        report.failed += 1
        report.errors.append(str(exc))
        if exc.suppress:
            report.suppressed += _suppress(engine, row.recipient, exc.code, str(exc), now)
        return exc.stop
    except UncertainFailure as exc:
        _finish(engine, row_id, state="uncertain", last_error=str(exc))
        report.uncertain += 1
        report.errors.append(str(exc))
        return True
    _finish(engine, row_id, state="sent", stage=None, sent_at=utcnow(), last_error=None)
    report.sent += 1
    return False
