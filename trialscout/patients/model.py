"""The patient profile: what matching may know about one person, each fact with its source.

Every fact carries an ``id`` (stable within one profile version) and where it came from (a
form, a FHIR resource, a note sentence, a self-check answer), so a verdict can name exactly
which facts it used. Profiles are validated at the boundary and stored as JSON documents.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Sex = Literal["female", "male", "other"]
Menopause = Literal["premenopausal", "perimenopausal", "postmenopausal"]
Smoking = Literal["never", "former", "current"]
AnswerValue = Literal["yes", "no", "unsure"]
SourceKind = Literal["form", "fhir", "note", "answer"]
MAX_TEXT = 200_000
Day = date


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Code(_Model):
    """A coded concept as given by the source (LOINC, SNOMED CT, RxNorm, ICD-10...)."""

    system: str | None = None
    code: str
    display: str | None = None


class FactSource(_Model):
    """Where a fact came from: a FHIR resource reference, or a note sentence and span."""

    kind: SourceKind = "form"
    ref: str | None = None
    sentence: int | None = None
    text: str | None = Field(default=None, max_length=5_000)
    start: int | None = None
    end: int | None = None


class _Fact(_Model):
    id: str = ""
    source: FactSource | None = None


class Condition(_Fact):
    name: str = Field(min_length=1, max_length=500)
    concept: str | None = None
    codes: list[Code] = Field(default_factory=list)
    onset: date | None = None
    abatement: date | None = None
    recorded: date | None = Field(
        default=None, description="When the condition was first recorded: its onset was on "
        "or before this day, even when the onset itself is unknown.")
    status: Literal["active", "resolved"] = "active"


class Medication(_Fact):
    name: str = Field(min_length=1, max_length=500)
    concept: str | None = None
    codes: list[Code] = Field(default_factory=list)
    start: date | None = None
    stop: date | None = None
    last_dose: date | None = Field(
        default=None, description="The last dose or administration, when the record gives it "
        "(\"last injection 7 months ago\"); windows such as \"within 6 months\" use it.")
    status: Literal["active", "completed", "stopped", "unknown"] = "unknown"


class Procedure(_Fact):
    name: str = Field(min_length=1, max_length=500)
    concept: str | None = None
    codes: list[Code] = Field(default_factory=list)
    date: Day | None = None


class Measurement(_Fact):
    """A lab or vital sign. ``analyte`` is the canonical name matching compares on."""

    name: str = Field(min_length=1, max_length=500)
    analyte: str | None = None
    value: float | None = None
    unit: str | None = Field(default=None, max_length=60)
    text: str | None = Field(default=None, max_length=500)
    date: Day | None = None
    codes: list[Code] = Field(default_factory=list)


class Allergy(_Fact):
    substance: str = Field(min_length=1, max_length=500)
    concept: str | None = None
    codes: list[Code] = Field(default_factory=list)


class DeniedFinding(_Fact):
    """Something the source says the patient does *not* have or take ("denies diabetes")."""

    name: str = Field(min_length=1, max_length=500)
    concept: str | None = None
    kind: Literal["condition", "medication", "procedure", "allergy", "finding"] = "condition"


class FamilyHistory(_Fact):
    """A relative's condition: never the patient's own, but some criteria ask about it."""

    name: str = Field(min_length=1, max_length=500)
    concept: str | None = None
    relative: str | None = None


class Answer(_Fact):
    """A self-check answer, keyed by the criteria's normalized question key."""

    question_key: str = Field(min_length=1, max_length=300)
    answer: AnswerValue
    question: str | None = Field(default=None, max_length=1_000)


class Location(_Model):
    place: str | None = Field(default=None, max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


_PREFIXES = {
    "conditions": "c", "medications": "m", "procedures": "p", "measurements": "l",
    "allergies": "a", "denied": "d", "family_history": "f", "answers": "q",
}


class PatientProfile(_Model):
    """One version of a patient's profile. All fields are optional: unknown stays unknown."""

    label: str | None = Field(default=None, max_length=200,
                              description="A pseudonym for lists; never a real name.")
    recorded_on: date | None = Field(
        default=None, description="When the facts were recorded; ages stated in the record "
        "are as of this day.")
    age_years: float | None = Field(default=None, ge=0, le=130)
    birth_date: date | None = None
    sex: Sex | None = None
    pregnant: bool | None = None
    lactating: bool | None = None
    menopause: Menopause | None = None
    menopause_date: date | None = None
    conditions: list[Condition] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    procedures: list[Procedure] = Field(default_factory=list)
    measurements: list[Measurement] = Field(default_factory=list)
    allergies: list[Allergy] = Field(default_factory=list)
    denied: list[DeniedFinding] = Field(default_factory=list)
    family_history: list[FamilyHistory] = Field(default_factory=list)
    smoking: Smoking | None = None
    pack_years: float | None = Field(default=None, ge=0, le=300)
    ecog: int | None = Field(default=None, ge=0, le=5)
    karnofsky: int | None = Field(default=None, ge=0, le=100)
    location: Location | None = None
    travel_radius_km: float | None = Field(default=None, gt=0, le=20_000)
    free_text: str | None = Field(default=None, max_length=MAX_TEXT)
    answers: list[Answer] = Field(default_factory=list)

    @model_validator(mode="after")
    def _assign_fact_ids(self) -> PatientProfile:
        for field_name, prefix in _PREFIXES.items():
            items = getattr(self, field_name)
            used = {item.id for item in items if item.id}
            counter = 0
            for item in items:
                if item.id:
                    continue
                counter += 1
                while f"{prefix}{counter}" in used:
                    counter += 1
                item.id = f"{prefix}{counter}"
                used.add(item.id)
        return self

    def age_on(self, day: date) -> float | None:
        """Age in years on ``day``: from the birth date, else the stated age moved forward."""
        if self.birth_date is not None:
            return max(0.0, (day - self.birth_date).days / 365.25)
        if self.age_years is None:
            return None
        if self.recorded_on is not None and day > self.recorded_on:
            return self.age_years + (day - self.recorded_on).days / 365.25
        return self.age_years

    def answer_for(self, question_key: str) -> Answer | None:
        found = None
        for answer in self.answers:
            if answer.question_key == question_key:
                found = answer
        return found

    def with_answer(self, question_key: str, answer: AnswerValue,
                    question: str | None = None) -> PatientProfile:
        """A copy with this answer set (replacing an earlier answer to the same question)."""
        kept = [a for a in self.answers if a.question_key != question_key]
        kept.append(Answer(question_key=question_key, answer=answer, question=question,
                           source=FactSource(kind="answer")))
        data = self.model_dump()
        data["answers"] = [a.model_dump() for a in kept]
        for item in data["answers"]:
            if item["question_key"] == question_key:
                item["id"] = ""
        return PatientProfile.model_validate(data)

    def fact(self, fact_id: str) -> _Fact | None:
        for field_name in _PREFIXES:
            for item in getattr(self, field_name):
                if item.id == fact_id:
                    return item
        return None
