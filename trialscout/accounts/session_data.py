"""The session tables' side of merging owners: answers, profile and patient record.

A signed-in account keeps its answers, profile and patient record in its *home* session row
(``accounts.home_hash``): the same tables and code as an anonymous visitor's, reached
through the account instead of a cookie. Merging a visitor's session into the account moves
those rows from the session's hash to the home hash; the conflict rule is in
``accounts/owners.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select, update

from trialscout.accounts.owners import ACCOUNT_PREFIX, SESSION_PREFIX
from trialscout.accounts.tables import AccountRow
from trialscout.patients.store import delete_patient, load_profile, save_profile
from trialscout.sessions.models import Profile
from trialscout.sessions.tables import SessionAnswerRow, SessionPatientRow, WebSessionRow


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def session_data_hash(conn: Connection, key: str) -> str | None:
    """The ``web_sessions`` row holding this owner's answers, profile and record, if any."""
    if key.startswith(SESSION_PREFIX):
        return key[len(SESSION_PREFIX):] or None
    if key.startswith(ACCOUNT_PREFIX):
        account_id = int(key[len(ACCOUNT_PREFIX):])
        return conn.execute(select(AccountRow.home_hash).where(
            AccountRow.id == account_id)).scalar_one_or_none()
    raise ValueError(f"not an owner key: {key[:20]!r}")


def ensure_home_row(conn: Connection, home_hash: str) -> None:
    """Create the account's home session row if it is missing."""
    exists = conn.execute(select(WebSessionRow.id_hash).where(
        WebSessionRow.id_hash == home_hash)).scalar_one_or_none()
    if exists is None:
        now = _now()
        conn.execute(insert(WebSessionRow).values(id_hash=home_hash, created_at=now,
                                                  last_seen=now, profile=None))


def _profile(raw: str | None) -> Profile:
    if not raw:
        return Profile()
    try:
        return Profile.model_validate_json(raw)
    except ValueError:
        return Profile()


def merged_profile(older: Profile, newer: Profile) -> Profile:
    """Field by field: the newer profile's set values (the place with its radius and unit),
    else the older's."""
    values = older.model_dump()
    if newer.age is not None:
        values["age"] = newer.age
    if newer.sex is not None:
        values["sex"] = newer.sex
    if newer.near:
        values.update(near=newer.near, radius=newer.radius, unit=newer.unit)
    return Profile.model_validate(values)


def merge_session_data(conn: Connection, source: str, target: str) -> None:
    """Move answers, profile and patient record from session row ``source`` to ``target``."""
    src = conn.execute(select(WebSessionRow.profile).where(
        WebSessionRow.id_hash == source)).first()
    if src is None:
        return
    ensure_home_row(conn, target)
    _merge_answers(conn, source, target)
    dst_profile = conn.execute(select(WebSessionRow.profile).where(
        WebSessionRow.id_hash == target)).scalar_one_or_none()
    profile = merged_profile(_profile(dst_profile), _profile(src.profile))
    conn.execute(update(WebSessionRow).where(WebSessionRow.id_hash == target).values(
        profile=None if profile.is_empty() else profile.model_dump_json()))
    conn.execute(update(WebSessionRow).where(WebSessionRow.id_hash == source)
                 .values(profile=None))
    _merge_patient(conn, source, target)


def _merge_answers(conn: Connection, source: str, target: str) -> None:
    """Move the source's answers to the target in three set statements: on a question both
    answered, the older answer is deleted first (a tie keeps the target's)."""
    theirs = dict(conn.execute(select(SessionAnswerRow.question_key, SessionAnswerRow.updated_at)
                               .where(SessionAnswerRow.session_hash == target)).all())
    drop_source: list[str] = []
    drop_target: list[str] = []
    if theirs:
        for key, updated in conn.execute(select(
                SessionAnswerRow.question_key, SessionAnswerRow.updated_at).where(
                SessionAnswerRow.session_hash == source)):
            if key in theirs:
                (drop_target if updated > theirs[key] else drop_source).append(key)
    for session_hash, keys in ((source, drop_source), (target, drop_target)):
        for start in range(0, len(keys), 500):
            conn.execute(delete(SessionAnswerRow).where(
                SessionAnswerRow.session_hash == session_hash,
                SessionAnswerRow.question_key.in_(keys[start:start + 500])))
    conn.execute(update(SessionAnswerRow).where(SessionAnswerRow.session_hash == source)
                 .values(session_hash=target))


def _merge_patient(conn: Connection, source: str, target: str) -> None:
    mine = conn.execute(select(SessionPatientRow.patient_id).where(
        SessionPatientRow.session_hash == source)).scalar_one_or_none()
    if mine is None:
        return
    theirs = conn.execute(select(SessionPatientRow.patient_id).where(
        SessionPatientRow.session_hash == target)).scalar_one_or_none()
    if theirs is None:
        conn.execute(update(SessionPatientRow).where(SessionPatientRow.session_hash == source)
                     .values(session_hash=target, linked_at=_now()))
        return
    latest = load_profile(conn, mine)
    save_profile(conn, latest.profile, patient_id=theirs, source=latest.source)
    conn.execute(delete(SessionPatientRow).where(SessionPatientRow.session_hash == source))
    delete_patient(conn, mine)
