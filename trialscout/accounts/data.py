""""Export my data" and "Delete my account".

The export is one JSON document of everything kept about the account: the account itself
(never the password hash), the profile, self-check answers, every version of the patient
record, the volunteer registration and consent records, and every row of the per-user
tables registered in ``owners`` (saved searches, notes, ... by owner key; a coordinator's
claims by account id). Deletion removes all of that
in one transaction, with the account's sessions, one-time links, sign-in failure counter
and the mail queued to its address.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, delete, select

from trialscout.accounts import lockout
from trialscout.accounts.owners import (
    delete_account_rows,
    delete_owner,
    export_account_rows,
    export_owner,
    owner_for,
)
from trialscout.accounts.tables import AccountRow, AuthTokenRow
from trialscout.patients.store import delete_patient
from trialscout.patients.tables import PatientVersionRow
from trialscout.sessions.tables import SessionAnswerRow, SessionPatientRow, WebSessionRow
from trialscout.volunteers import registry
from trialscout.volunteers.tables import (
    VolunteerCategoryRow,
    VolunteerConsentRow,
    VolunteerRow,
)

EXPORT_FORMAT = "trialscout-account-export/1"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def export_account(conn: Connection, account_id: int) -> dict[str, Any]:
    """Everything kept about ``account_id`` as JSON-ready data."""
    row = conn.execute(select(AccountRow.__table__).where(AccountRow.id == account_id)).one()
    home = row.home_hash
    profile = conn.execute(select(WebSessionRow.profile).where(
        WebSessionRow.id_hash == home)).scalar_one_or_none()
    answers = {k: a for k, a in conn.execute(select(
        SessionAnswerRow.question_key, SessionAnswerRow.answer).where(
        SessionAnswerRow.session_hash == home).order_by(SessionAnswerRow.question_key))}
    patient_id = conn.execute(select(SessionPatientRow.patient_id).where(
        SessionPatientRow.session_hash == home)).scalar_one_or_none()
    versions = [] if patient_id is None else [
        {"version": v.version, "source": v.source, "created_at": v.created_at,
         "profile": orjson.loads(v.document)}
        for v in conn.execute(select(PatientVersionRow.__table__).where(
            PatientVersionRow.patient_id == patient_id).order_by(PatientVersionRow.version))]
    volunteer = registry.registration(conn, account_id)
    data = {
        "format": EXPORT_FORMAT,
        "account": {"id": row.id, "email": row.email, "role": row.role,
                    "verified_at": row.verified_at, "disabled": bool(row.disabled),
                    "created_at": row.created_at, "updated_at": row.updated_at},
        "profile": json.loads(profile) if profile else None,
        "answers": answers,
        "medical_history": versions,
        "volunteer": volunteer.model_dump() if volunteer else None,
        "consents": [c.model_dump() for c in registry.consents(conn, account_id)],
        "owned": export_owner(conn, owner_for(None, account_id)),
        "account_rows": export_account_rows(conn, account_id),
    }
    return dict(_plain(data))


def delete_account(conn: Connection, account_id: int) -> bool:
    """Delete every personal row of ``account_id`` in the caller's transaction."""
    row = conn.execute(select(AccountRow.email, AccountRow.home_hash).where(
        AccountRow.id == account_id)).first()
    if row is None:
        return False
    delete_owner(conn, [owner_for(None, account_id)])
    delete_account_rows(conn, account_id)
    for patient_id in conn.execute(select(SessionPatientRow.patient_id).where(
            SessionPatientRow.session_hash == row.home_hash)).scalars().all():
        conn.execute(delete(SessionPatientRow).where(SessionPatientRow.patient_id == patient_id))
        delete_patient(conn, patient_id)
    conn.execute(delete(SessionAnswerRow).where(SessionAnswerRow.session_hash == row.home_hash))
    conn.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == row.home_hash))
    conn.execute(delete(WebSessionRow).where(WebSessionRow.account_id == account_id))
    conn.execute(delete(VolunteerCategoryRow).where(
        VolunteerCategoryRow.account_id == account_id))
    conn.execute(delete(VolunteerRow).where(VolunteerRow.account_id == account_id))
    conn.execute(delete(VolunteerConsentRow).where(VolunteerConsentRow.account_id == account_id))
    conn.execute(delete(AuthTokenRow).where(AuthTokenRow.account_id == account_id))
    lockout.clear(conn, lockout.email_key(row.email))
    _delete_mail(conn, row.email)
    conn.execute(delete(AccountRow).where(AccountRow.id == account_id))
    return True


def _delete_mail(conn: Connection, address: str) -> None:
    """Queued and sent mail to the address names it: it goes too (not a suppression entry,
    which only stops mail to an address that refused it)."""
    from trialscout.mail.tables import OutboxRow

    conn.execute(delete(OutboxRow).where(OutboxRow.recipient == address))
