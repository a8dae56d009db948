"""A volunteer's categories are saved searches: created, updated and removed with the
registration, and alerted like any other."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tests.alerts.helpers import BOSTON, DENVER, make_account, store, trial
from tests.mailserver import MailServer
from trialscout.alerts.service import AlertService
from trialscout.alerts.tables import SavedSearchRow
from trialscout.app import create_app
from trialscout.mail.outbox import utcnow
from trialscout.search.models import ResolvedPlace
from trialscout.sessions.models import Profile
from trialscout.volunteers.consent import CURRENT_CONSENT
from trialscout.volunteers.registry import Registration, register, withdraw


def _searches(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return sorted((r.name, r.delivery) for r in conn.execute(
            select(SavedSearchRow.name, SavedSearchRow.delivery)))


def test_volunteer_categories_alert_and_withdrawal_removes_them(
        tmp_path: Path, mail_server: MailServer) -> None:
    app = create_app(database_url=f"sqlite:///{tmp_path / 'v.db'}", **mail_server.settings())
    owner = make_account(app, "vol@example.org")
    account_id = int(owner.split(":")[1])
    boston = ResolvedPlace(name="Boston", lat=42.36, lon=-71.06)
    with app.engine.begin() as conn:
        register(conn, account_id, Registration(
            conditions=["Osteoporosis"], terms=["bone density"], place="Boston",
            radius_km=50, consent_version=CURRENT_CONSENT), Profile(age=60, sex="FEMALE"),
            boston, {"Osteoporosis"}, utcnow())
    service = AlertService(app)
    assert service.run().alerts == 0
    assert _searches(app) == [("Volunteer: Osteoporosis", "daily"),
                              ("Volunteer: bone density", "daily")]
    store(app, tmp_path, [trial("NCT09002001", title="Bone density after menopause",
                                sites=[BOSTON]),
                          trial("NCT09002002", sites=[DENVER])])
    report = service.run()
    assert report.alerts == 2 and report.sent == 2  # one email per saved search
    bodies = [m.get_body(("plain",)).get_content() for m in mail_server.messages]
    assert all("NCT09002001" in b and "NCT09002002" not in b for b in bodies)
    with app.engine.begin() as conn:
        withdraw(conn, account_id, utcnow())
    service.run()
    assert _searches(app) == []
    app.close()
