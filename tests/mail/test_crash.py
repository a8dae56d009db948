"""kill -9 in the middle of a send batch, then a rerun: no message is sent twice."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import select

from tests.mailserver import MailServer
from trialscout.app import create_app
from trialscout.mail.delivery import deliver_pending
from trialscout.mail.outbox import enqueue
from trialscout.mail.tables import OutboxRow

SENDER = """
from trialscout.app import create_app
from trialscout.mail.delivery import deliver_pending
deliver_pending(create_app())
"""


def test_kill_during_batch_then_rerun_delivers_each_once(tmp_path,
                                                         mail_server: MailServer) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    app = create_app(database_url=url, **mail_server.settings())
    total = 40
    with app.engine.begin() as conn:
        for i in range(total):
            enqueue(conn, to=f"p{i}@example.org", subject=f"n{i}", text="t", key=f"crash-{i}")
    mail_server.handler.rcpt_delay = 0.05
    env = {**os.environ, "TRIALSCOUT_DATABASE_URL": url}
    env.update({f"TRIALSCOUT_{k.upper()}": str(v) for k, v in mail_server.settings().items()})
    proc = subprocess.Popen([sys.executable, "-c", SENDER], env=env)
    deadline = time.monotonic() + 60
    while len(mail_server.received) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(mail_server.received)
    assert 8 <= before < total, "the kill must land inside the batch"
    mail_server.handler.rcpt_delay = 0.0
    report = deliver_pending(app)
    assert report.recovered + report.uncertain <= 1  # the message in flight at the kill
    counts = collections.Counter(m["Message-ID"] for m in mail_server.messages)
    assert max(counts.values()) == 1
    with app.engine.connect() as conn:
        rows = conn.execute(select(OutboxRow.message_id, OutboxRow.state)).all()
    uncertain = [r.message_id for r in rows if r.state == "uncertain"]
    assert all(r.state in {"sent", "uncertain"} for r in rows)
    assert len(uncertain) == report.uncertain
    assert {r.message_id for r in rows if r.state == "sent"} <= set(counts)
    assert len(counts) in {total, total - len(uncertain)}
    app.close()
