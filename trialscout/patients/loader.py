"""Read a patient file of any supported kind: a FHIR Bundle, our profile JSON, or a note.

The kind is detected from the content, not the file name: JSON with a ``resourceType`` is
FHIR, other JSON objects are profiles, and anything else that decodes as text is a note.
A text that starts like JSON (``{``, or ``[`` then ``{`` or ``[``) must parse as JSON: a
truncated or broken bundle is refused with the parse error, never read as a note, because
the note reader would then list refuted conditions, stopped drugs and allergies as facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import orjson
from pydantic import ValidationError

from trialscout.patients.fhir import import_bundle
from trialscout.patients.model import MAX_TEXT, PatientProfile
from trialscout.patients.notes import extract_note

PatientFileKind = Literal["fhir", "profile", "note"]
MAX_FILE_BYTES = 20_000_000


class PatientFileError(ValueError):
    """A patient file that cannot be read; the message says why, in one line."""


@dataclass(frozen=True)
class LoadedPatient:
    kind: PatientFileKind
    profile: PatientProfile


def looks_like_json(text: str) -> bool:
    """Whether ``text`` opens like a JSON object or an array of objects or arrays."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        return True
    return stripped.startswith("[") and stripped[1:].lstrip(" \t\r\n")[:1] in ("{", "[")


def detect_kind(text: str) -> PatientFileKind:
    """The file's kind; a text that starts like JSON but does not parse is an error."""
    if not looks_like_json(text):
        return "note"
    try:
        data = orjson.loads(text.lstrip("\ufeff \t\r\n"))
    except orjson.JSONDecodeError as exc:
        raise PatientFileError(
            f"the file starts like JSON but does not parse ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}): is it cut short? A FHIR Bundle or profile JSON must be "
            "complete; a note must not start with '{' or '['") from exc
    if isinstance(data, dict) and "resourceType" in data:
        return "fhir"
    return "profile"


def _profile_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "profile"
        parts.append(f"{where}: {err['msg']}")
    return "invalid profile JSON: " + "; ".join(parts)


def load_patient_text(text: str, *, reference_date: date | None = None,
                      label: str | None = None, max_note_chars: int = MAX_TEXT
                      ) -> LoadedPatient:
    """Parse patient content already decoded to text."""
    kind = detect_kind(text)
    if kind == "fhir":
        return LoadedPatient("fhir", import_bundle(orjson.loads(text.lstrip("\ufeff")),
                                                   label=label))
    if kind == "profile":
        data = orjson.loads(text.lstrip("\ufeff"))
        if not isinstance(data, dict):
            raise PatientFileError("invalid profile JSON: expected an object")
        try:
            profile = PatientProfile.model_validate(data)
        except ValidationError as exc:
            raise PatientFileError(_profile_error(exc)) from exc
        if label is not None:
            profile.label = label
        return LoadedPatient("profile", profile)
    limit = min(max_note_chars, MAX_TEXT)
    if len(text) > limit:
        raise PatientFileError(f"the note is too long ({len(text):,} characters; at most "
                               f"{limit:,}, the max_note_chars setting)")
    return LoadedPatient("note", extract_note(text, reference_date=reference_date, label=label,
                                              max_chars=limit))


def load_patient_bytes(raw: bytes, *, reference_date: date | None = None,
                       label: str | None = None, max_note_chars: int = MAX_TEXT
                       ) -> LoadedPatient:
    if len(raw) > MAX_FILE_BYTES:
        raise PatientFileError(f"the file is too large ({len(raw)} bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PatientFileError(f"not UTF-8 text (byte {exc.start}): expected a FHIR Bundle, "
                               "a profile JSON or a text note") from exc
    return load_patient_text(text, reference_date=reference_date, label=label,
                             max_note_chars=max_note_chars)


def load_patient_file(path: Path, *, reference_date: date | None = None,
                      max_note_chars: int = MAX_TEXT) -> LoadedPatient:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PatientFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return load_patient_bytes(raw, reference_date=reference_date,
                              max_note_chars=max_note_chars)
