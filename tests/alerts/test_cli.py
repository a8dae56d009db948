"""`trialscout alerts run` and `trialscout worker` against a real SMTP server."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import trialscout.cli.alerts_cmd  # noqa: F401 - registers the commands
from tests.alerts.helpers import make_account, store, trial
from tests.mailserver import MailServer
from trialscout.alerts.models import SavedSearchCreate
from trialscout.alerts.service import AlertService
from trialscout.app import create_app
from trialscout.cli import cli
from trialscout.search.models import SearchRequest


def test_alerts_run_and_worker(tmp_path: Path, mail_server: MailServer) -> None:
    db = tmp_path / "cli.db"
    app = create_app(database_url=f"sqlite:///{db}")
    owner = make_account(app, "cli@example.org")
    AlertService(app).save(owner, SavedSearchCreate(request=SearchRequest(q="osteoporosis")))
    store(app, tmp_path, [trial("NCT09000901")])
    app.close()
    args = ["--database", str(db)]
    for name, value in mail_server.settings().items():
        args += ["--set", f"{name}={value}"]
    result = CliRunner().invoke(cli, [*args, "alerts", "run", "--no-send", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["alerts"], report["emails_queued"], report["sent"]) == (1, 1, 0)
    assert mail_server.messages == []
    result = CliRunner().invoke(cli, [*args, "worker", "--passes", "1", "--interval", "1"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert [m["To"] for m in mail_server.messages] == ["cli@example.org"]
    result = CliRunner().invoke(cli, [*args, "alerts", "outbox", "--json"])
    assert json.loads(result.output) == {"sent": 1}
