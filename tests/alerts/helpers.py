"""Writing studies into a store the way an import does, and accounts for alert tests."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from tests.factories import study
from trialscout.app import TrialScout
from trialscout.mail.outbox import utcnow

BOSTON = {"facility": "Harbor Clinic", "city": "Boston", "state": "Massachusetts",
          "country": "United States", "geoPoint": {"lat": 42.36, "lon": -71.06}}
DENVER = {"facility": "Mile High Hospital", "city": "Denver", "state": "Colorado",
          "country": "United States", "geoPoint": {"lat": 39.74, "lon": -104.99}}


def trial(nct_id: str, *, title: str = "Denosumab for osteoporosis",
          status: str = "RECRUITING", criteria: str = "Inclusion Criteria:\n\n* Age 50 or older",
          sites: list[dict[str, Any]] | None = None, last_update: str = "2024-05-01",
          conditions: list[str] | None = None) -> dict[str, Any]:
    record = study(nct_id, title=title, last_update=last_update)
    proto = record["protocolSection"]
    proto["statusModule"]["overallStatus"] = status
    proto["eligibilityModule"]["eligibilityCriteria"] = criteria
    proto["conditionsModule"]["conditions"] = conditions or ["Osteoporosis"]
    if sites:
        proto["contactsLocationsModule"] = {"locations": sites}
    return record


def store(app: TrialScout, tmp: Path, records: list[dict[str, Any]]) -> None:
    path = tmp / f"batch-{secrets.token_hex(4)}.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    app.store_paths([path])


def make_account(app: TrialScout, email: str, *, verified: bool = True) -> str:
    """An account row (the accounts package owns sign-up; tests need only the row)."""
    from trialscout.accounts.tables import AccountRow

    values: dict[str, Any] = {}
    for column in AccountRow.__table__.columns:
        if column.name == "id":
            continue
        if column.name == "email":
            values["email"] = email
        elif column.name == "verified_at":
            values["verified_at"] = utcnow() if verified else None
        elif column.name == "home_hash":
            values["home_hash"] = secrets.token_hex(32)
        elif column.name == "disabled":
            values["disabled"] = False
        elif column.name == "role":
            values["role"] = "member"
        elif not column.nullable and column.default is None and column.server_default is None:
            python_type = column.type.python_type
            values[column.name] = (utcnow() if python_type.__name__ == "datetime"
                                   else 0 if python_type is int else "x")
    with app.engine.begin() as conn:
        new_id = conn.execute(insert(AccountRow).values(values)
                              .returning(AccountRow.id)).scalar_one()
    return f"account:{new_id}"
