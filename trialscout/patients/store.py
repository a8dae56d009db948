"""Saving and loading patient profiles, one immutable version per change.

Saving the same content again adds nothing (the content hash is compared with the latest
version), so re-importing a file is idempotent while every real edit is kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

import orjson
from sqlalchemy import Connection, delete, func, insert, select, update

from trialscout.patients.model import PatientProfile
from trialscout.patients.tables import PatientMatchRow, PatientRow, PatientVersionRow


class PatientNotFound(LookupError):
    pass


@dataclass(frozen=True)
class StoredProfile:
    patient_id: int
    version: int
    source: str
    created_at: datetime
    profile: PatientProfile


@dataclass(frozen=True)
class VersionInfo:
    version: int
    source: str
    content_hash: str
    created_at: datetime


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def profile_document(profile: PatientProfile) -> bytes:
    return orjson.dumps(profile.model_dump(mode="json", exclude_none=True),
                        option=orjson.OPT_SORT_KEYS)


def content_hash(profile: PatientProfile) -> str:
    return hashlib.sha256(profile_document(profile)).hexdigest()


def save_profile(conn: Connection, profile: PatientProfile, *, patient_id: int | None = None,
                 source: str = "form") -> StoredProfile:
    """Store ``profile`` as a new patient, or as the next version of ``patient_id``."""
    document = profile_document(profile)
    digest = hashlib.sha256(document).hexdigest()
    now = _now()
    if patient_id is None:
        patient_id = int(conn.execute(insert(PatientRow).values(
            label=profile.label, latest_version=0, created_at=now, updated_at=now)
        ).inserted_primary_key[0])  # type: ignore[index]
        latest = 0
    else:
        row = conn.execute(select(PatientRow.latest_version).where(
            PatientRow.id == patient_id)).first()
        if row is None:
            raise PatientNotFound(f"no patient with id {patient_id}")
        latest = int(row[0])
        if latest:
            previous = conn.execute(select(
                PatientVersionRow.content_hash, PatientVersionRow.source,
                PatientVersionRow.created_at).where(
                PatientVersionRow.patient_id == patient_id,
                PatientVersionRow.version == latest)).one()
            if previous.content_hash == digest:
                return StoredProfile(patient_id, latest, previous.source, previous.created_at,
                                     profile)
    version = latest + 1
    conn.execute(insert(PatientVersionRow).values(
        patient_id=patient_id, version=version, source=source, content_hash=digest,
        document=document.decode(), created_at=now))
    conn.execute(update(PatientRow).where(PatientRow.id == patient_id).values(
        latest_version=version, label=profile.label, updated_at=now))
    return StoredProfile(patient_id, version, source, now, profile)


def load_profile(conn: Connection, patient_id: int, version: int | None = None
                 ) -> StoredProfile:
    """The latest (or a given) version of a patient's profile."""
    table = PatientVersionRow.__table__
    query = select(table).where(table.c.patient_id == patient_id)
    if version is None:
        query = query.order_by(table.c.version.desc()).limit(1)
    else:
        query = query.where(table.c.version == version)
    row = conn.execute(query).first()
    if row is None:
        what = f"version {version} of patient {patient_id}" if version else \
            f"patient {patient_id}"
        raise PatientNotFound(f"no {what}")
    profile = PatientProfile.model_validate(orjson.loads(row.document))
    return StoredProfile(patient_id, row.version, row.source, row.created_at, profile)


def list_versions(conn: Connection, patient_id: int) -> list[VersionInfo]:
    table = PatientVersionRow.__table__
    rows = conn.execute(select(table).where(table.c.patient_id == patient_id)
                        .order_by(table.c.version)).all()
    return [VersionInfo(r.version, r.source, r.content_hash, r.created_at) for r in rows]


def list_patients(conn: Connection) -> list[tuple[int, str | None, int]]:
    rows = conn.execute(select(PatientRow.id, PatientRow.label, PatientRow.latest_version)
                        .order_by(PatientRow.id)).all()
    return [(int(r[0]), r[1], int(r[2])) for r in rows]


def delete_patient(conn: Connection, patient_id: int) -> bool:
    """Remove a patient with every version and saved match (health data must be erasable)."""
    conn.execute(delete(PatientMatchRow).where(PatientMatchRow.patient_id == patient_id))
    conn.execute(delete(PatientVersionRow).where(PatientVersionRow.patient_id == patient_id))
    result = conn.execute(delete(PatientRow).where(PatientRow.id == patient_id))
    return bool(result.rowcount)


def save_matches(conn: Connection, patient_id: int, version: int, reference_date: date,
                 results: list[tuple[str, str, float, bytes]]) -> int:
    """Replace the saved matches of one profile version: rows of (nct, verdict, score, doc)."""
    conn.execute(delete(PatientMatchRow).where(PatientMatchRow.patient_id == patient_id,
                                               PatientMatchRow.version == version))
    now = _now()
    rows = [{"patient_id": patient_id, "version": version, "nct_id": nct, "verdict": verdict,
             "score": score, "rank": rank, "document": doc.decode(),
             "reference_date": reference_date, "created_at": now}
            for rank, (nct, verdict, score, doc) in enumerate(results, start=1)]
    if rows:
        conn.execute(insert(PatientMatchRow), rows)
    return len(rows)


def load_matches(conn: Connection, patient_id: int, version: int | None = None
                 ) -> list[dict[str, object]]:
    if version is None:
        version = conn.execute(select(func.max(PatientMatchRow.version)).where(
            PatientMatchRow.patient_id == patient_id)).scalar()
        if version is None:
            return []
    rows = conn.execute(select(PatientMatchRow.document).where(
        PatientMatchRow.patient_id == patient_id, PatientMatchRow.version == version
    ).order_by(PatientMatchRow.rank)).scalars().all()
    return [orjson.loads(doc) for doc in rows]
