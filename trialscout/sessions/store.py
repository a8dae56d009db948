"""Read and write a visitor's session: answers by question key, their profile, and the
patient record (medical history) they uploaded.

Every method takes the raw session token and hashes it here, so callers never handle the
stored key. A session row is created on the first write only: browsing never writes.
Sessions unused for longer than ``max_age`` are treated as gone and purged, together with
their patient record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, Select, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from trialscout.accounts.owners import delete_owner, move_owned_rows, owner_for
from trialscout.accounts.tables import AccountRow
from trialscout.patients.model import PatientProfile
from trialscout.patients.store import StoredProfile, delete_patient, save_profile
from trialscout.sessions.models import ANSWERS, Answer, Profile
from trialscout.sessions.tables import SessionAnswerRow, SessionPatientRow, WebSessionRow
from trialscout.sessions.tokens import hash_session_token

LONG_KEY = 200
WEB_PATIENT_LABEL = "web session"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def has_nul(text: str) -> bool:
    """PostgreSQL text cannot hold NUL (SQLite can): such a text is refused everywhere, so
    both backends behave alike."""
    return "\x00" in text


def stored_key(key: str) -> str:
    """Question keys longer than the column are stored by their SHA-256."""
    if len(key) <= LONG_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


class SessionStore:
    def __init__(self, engine: Engine, max_age: timedelta = timedelta(days=30)) -> None:
        self.engine = engine
        self.max_age = max_age

    def _live_hash(self, conn: Connection, token: str | None) -> str | None:
        """The row holding this live session's data: its own, or (signed in) the account's
        home row."""
        if not token:
            return None
        id_hash = hash_session_token(token)
        row = conn.execute(select(WebSessionRow.last_seen, WebSessionRow.account_id)
                           .where(WebSessionRow.id_hash == id_hash)).first()
        if row is None or row.last_seen < _now() - self.max_age:
            return None
        if row.account_id is not None:
            return _home_hash(conn, row.account_id)
        return id_hash

    def _ensure(self, conn: Connection, token: str) -> str:
        id_hash = hash_session_token(token)
        now = _now()
        found = conn.execute(select(WebSessionRow.last_seen, WebSessionRow.account_id)
                             .where(WebSessionRow.id_hash == id_hash)).first()
        row = None if found is None else found.last_seen
        if found is not None and found.account_id is not None and row is not None \
                and row >= now - self.max_age:
            from trialscout.accounts.session_data import ensure_home_row

            home = _home_hash(conn, found.account_id)
            if home is not None:
                conn.execute(update(WebSessionRow).where(WebSessionRow.id_hash == id_hash)
                             .values(last_seen=now))
                ensure_home_row(conn, home)
                return home
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(WebSessionRow).values(
                        id_hash=id_hash, created_at=now, last_seen=now, profile=None))
            except IntegrityError:
                pass
        elif row < now - self.max_age:
            _delete_patients(conn, [id_hash])
            conn.execute(delete(SessionAnswerRow).where(SessionAnswerRow.session_hash == id_hash))
            delete_owner(conn, [owner_for(id_hash, None)])
            conn.execute(update(WebSessionRow).where(WebSessionRow.id_hash == id_hash)
                         .values(created_at=now, last_seen=now, profile=None, account_id=None))
        else:
            conn.execute(update(WebSessionRow).where(WebSessionRow.id_hash == id_hash)
                         .values(last_seen=now))
        return id_hash

    def has_data(self, token: str | None) -> bool:
        """Whether this session holds anything (answers or a profile) right now."""
        if not token:
            return False
        with self.engine.connect() as conn:
            return self._live_hash(conn, token) is not None

    def answers(self, token: str | None, keys: Iterable[str] | None = None) -> dict[str, Answer]:
        """The visitor's remembered answers, optionally only for ``keys``."""
        by_stored = None if keys is None else {stored_key(k): k for k in keys if not has_nul(k)}
        if by_stored is not None and not by_stored:
            return {}
        with self.engine.connect() as conn:
            id_hash = self._live_hash(conn, token)
            if id_hash is None:
                return {}
            query = select(SessionAnswerRow.question_key, SessionAnswerRow.answer).where(
                SessionAnswerRow.session_hash == id_hash)
            if by_stored is not None:
                query = query.where(SessionAnswerRow.question_key.in_(sorted(by_stored)))
            found: dict[str, Answer] = {}
            for key, answer in conn.execute(query):
                if answer in ANSWERS:
                    found[by_stored.get(key, key) if by_stored else key] = answer
            return found

    def put_answers(self, token: str, answers: Mapping[str, Answer | None]) -> None:
        """Set answers by question key; ``None`` forgets that answer."""
        for key, answer in answers.items():
            if not key:
                raise ValueError("question keys cannot be empty")
            if has_nul(key):
                raise ValueError("question keys cannot contain NUL characters")
            if answer is not None and answer not in ANSWERS:
                raise ValueError(f"answer must be one of {ANSWERS}")
        answers = {stored_key(key): answer for key, answer in answers.items()}
        with self.engine.begin() as conn:
            id_hash = self._ensure(conn, token)
            keys = list(answers)
            if keys:
                conn.execute(delete(SessionAnswerRow).where(
                    SessionAnswerRow.session_hash == id_hash,
                    SessionAnswerRow.question_key.in_(keys)))
            rows = [{"session_hash": id_hash, "question_key": key, "answer": answer,
                     "updated_at": _now()} for key, answer in answers.items() if answer]
            if rows:
                conn.execute(insert(SessionAnswerRow), rows)

    def clear_answers(self, token: str | None, keys: Iterable[str] | None = None) -> None:
        """Forget all answers, or only those for ``keys``."""
        if not token:
            return
        wanted = None if keys is None else sorted({stored_key(k) for k in keys
                                                   if not has_nul(k)})
        if wanted is not None and not wanted:
            return
        with self.engine.begin() as conn:
            id_hash = self._live_hash(conn, token) or hash_session_token(token)
            query = delete(SessionAnswerRow).where(SessionAnswerRow.session_hash == id_hash)
            if wanted is not None:
                query = query.where(SessionAnswerRow.question_key.in_(wanted))
            conn.execute(query)

    def profile(self, token: str | None) -> Profile:
        with self.engine.connect() as conn:
            id_hash = self._live_hash(conn, token)
            if id_hash is None:
                return Profile()
            stored = conn.execute(select(WebSessionRow.profile)
                                  .where(WebSessionRow.id_hash == id_hash)).scalar_one_or_none()
        if not stored:
            return Profile()
        try:
            return Profile.model_validate_json(stored)
        except ValueError:
            return Profile()

    def put_profile(self, token: str, profile: Profile) -> None:
        payload = None if profile.is_empty() else profile.model_dump_json()
        with self.engine.begin() as conn:
            id_hash = self._ensure(conn, token)
            conn.execute(update(WebSessionRow).where(WebSessionRow.id_hash == id_hash)
                         .values(profile=payload))

    # ------------------------------------------------------------------ patient record
    def patient_id(self, token: str | None) -> int | None:
        """The id of the patient record this (live) session owns, if it uploaded one."""
        with self.engine.connect() as conn:
            id_hash = self._live_hash(conn, token)
            if id_hash is None:
                return None
            return conn.execute(select(SessionPatientRow.patient_id).where(
                SessionPatientRow.session_hash == id_hash)).scalar_one_or_none()

    def save_patient(self, token: str, profile: PatientProfile, source: str) -> StoredProfile:
        """Store ``profile`` as the next version of this session's patient record (created
        and linked to the session on first use), in one transaction."""
        profile = profile.model_copy(update={"label": WEB_PATIENT_LABEL})
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    id_hash = self._ensure(conn, token)
                    existing = conn.execute(select(SessionPatientRow.patient_id).where(
                        SessionPatientRow.session_hash == id_hash)).scalar_one_or_none()
                    stored = save_profile(conn, profile, patient_id=existing, source=source)
                    if existing is None:
                        conn.execute(insert(SessionPatientRow).values(
                            session_hash=id_hash, patient_id=stored.patient_id,
                            linked_at=_now()))
                    return stored
            except IntegrityError:
                if attempt == 2:  # a concurrent first upload linked a record: add to it
                    raise
        raise AssertionError("unreachable")

    def delete_patient(self, token: str | None) -> bool:
        """Delete this session's patient record with every version and saved match."""
        if not token:
            return False
        with self.engine.begin() as conn:
            id_hash = self._live_hash(conn, token) or hash_session_token(token)
            return _delete_patients(conn, [id_hash]) > 0

    def rotate(self, old: str | None, new: str) -> bool:
        """Move everything session ``old`` holds (profile, answers, patient record) to the
        id ``new``, in one transaction, so ``old`` no longer reaches it. Called when the
        visitor's data changes: an id someone else planted or saw stops being useful.
        Returns whether there was anything to move."""
        if not old or old == new:
            return False
        with self.engine.begin() as conn:
            old_hash = self._live_hash(conn, old)
            if old_hash is None:
                return False
            old_hash = hash_session_token(old)
            row = conn.execute(select(WebSessionRow.created_at, WebSessionRow.profile,
                                      WebSessionRow.account_id)
                               .where(WebSessionRow.id_hash == old_hash)).one()
            new_hash = hash_session_token(new)
            conn.execute(insert(WebSessionRow).values(
                id_hash=new_hash, created_at=row.created_at, last_seen=_now(),
                profile=row.profile, account_id=row.account_id))
            move_owned_rows(conn, owner_for(old_hash, None), owner_for(new_hash, None))
            conn.execute(update(SessionAnswerRow).where(SessionAnswerRow.session_hash == old_hash)
                         .values(session_hash=new_hash))
            conn.execute(update(SessionPatientRow)
                         .where(SessionPatientRow.session_hash == old_hash)
                         .values(session_hash=new_hash))
            conn.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == old_hash))
            return True

    def forget(self, token: str | None) -> None:
        """Delete the session with everything it holds."""
        if not token:
            return
        id_hash = hash_session_token(token)
        with self.engine.begin() as conn:
            _delete_patients(conn, [id_hash])
            delete_owner(conn, [owner_for(id_hash, None)])
            conn.execute(delete(SessionAnswerRow).where(SessionAnswerRow.session_hash == id_hash))
            conn.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == id_hash))

    def purge_expired(self) -> int:
        cutoff = _now() - self.max_age
        homes = select(AccountRow.home_hash)
        expired = (WebSessionRow.last_seen < cutoff) & WebSessionRow.id_hash.not_in(homes)
        with self.engine.begin() as conn:
            stale = select(WebSessionRow.id_hash).where(expired)
            _delete_patients(conn, stale)
            delete_owner(conn, [owner_for(h, None) for h in conn.execute(stale).scalars()])
            conn.execute(delete(SessionAnswerRow).where(SessionAnswerRow.session_hash.in_(stale)))
            result = conn.execute(delete(WebSessionRow).where(expired))
            return int(result.rowcount or 0)


def _home_hash(conn: Connection, account_id: int) -> str | None:
    return conn.execute(select(AccountRow.home_hash).where(
        AccountRow.id == account_id)).scalar_one_or_none()


def _delete_patients(conn: Connection, session_hashes: list[str] | Select[str]) -> int:
    """Delete the patient records of these sessions (health data must not outlive them)."""
    ids = list(conn.execute(select(SessionPatientRow.patient_id).where(
        SessionPatientRow.session_hash.in_(session_hashes))).scalars())
    if not ids:
        return 0
    conn.execute(delete(SessionPatientRow).where(SessionPatientRow.patient_id.in_(ids)))
    for patient_id in ids:
        delete_patient(conn, patient_id)
    return len(ids)
