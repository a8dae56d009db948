"""Import a FHIR R4 Bundle (JSON) into a profile, validating every resource first.

Each entry's resource is validated on its own with the ``fhir.resources`` R4B models (R4B is
wire-compatible with R4 for the resources read here), so an error can name the resource
type, its id, its entry index and the offending field. Observations are mapped through the
LOINC table in ``rules/loinc.yaml``; names go through the shared vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from trialscout.criteria.units import DAYS_PER_UNIT
from trialscout.patients.concepts import concept_index
from trialscout.patients.model import (
    Allergy,
    Code,
    Condition,
    DeniedFinding,
    FactSource,
    Location,
    Measurement,
    Medication,
    PatientProfile,
    Procedure,
)
from trialscout.patients.rules import load_rules
from trialscout.patients.units import normalize_unit

LOINC = "http://loinc.org"
MedicationStatus = Literal["active", "completed", "stopped", "unknown"]
# "intended" and "on-hold" say nothing about taking it now: planned, or paused.
_MEDICATION_STATUS: dict[str, MedicationStatus] = {
    "active": "active", "completed": "completed", "stopped": "stopped",
    "cancelled": "stopped"}
SUPPORTED = ("Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest",
             "Procedure", "AllergyIntolerance", "Medication")
MAX_ENTRIES = 20_000
# an Age's UCUM code or unit, by how it starts ("mo" before "a", "wk" and "w" for weeks)
_AGE_UNIT_PREFIXES = (("mo", "month"), ("wk", "week"), ("w", "week"), ("d", "day"),
                      ("a", "year"), ("y", "year"))


@dataclass(frozen=True)
class ResourceProblem:
    index: int | None
    resource_type: str | None
    resource_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = "Bundle" if self.index is None else f"entry[{self.index}]"
        what = self.resource_type or "resource"
        if self.resource_id:
            what += f"/{self.resource_id}"
        place = f" field {self.field}" if self.field else ""
        return f"{where} {what}{place}: {self.message}"


class FhirImportError(ValueError):
    """The input is not a valid FHIR R4 Bundle; ``problems`` names every bad resource."""

    def __init__(self, problems: list[ResourceProblem]) -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"invalid FHIR bundle: {shown}{more}")


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _model_class(resource_type: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def _validate(index: int, resource: Any) -> tuple[Any | None, list[ResourceProblem]]:
    if not isinstance(resource, dict):
        return None, [ResourceProblem(index, None, None, "resource",
                                      "expected a JSON object")]
    rtype = resource.get("resourceType")
    rid = resource.get("id") if isinstance(resource.get("id"), str) else None
    if not isinstance(rtype, str) or not rtype:
        return None, [ResourceProblem(index, None, rid, "resourceType", "missing resourceType")]
    try:
        cls = _model_class(rtype)
    except (ValueError, KeyError, AttributeError, ImportError):
        return None, [ResourceProblem(index, rtype, rid, "resourceType",
                                      f"unknown FHIR resource type {rtype!r}")]
    try:
        return cls.model_validate(resource), []
    except ValidationError as exc:
        return None, [ResourceProblem(index, rtype, rid, _loc(tuple(err["loc"])) or None,
                                      str(err["msg"])) for err in exc.errors()[:10]]
    except (ValueError, TypeError) as exc:
        return None, [ResourceProblem(index, rtype, rid, None, str(exc)[:300])]


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        if len(text) == 4:
            return date(int(text), 1, 1)
        if len(text) == 7:
            return date(int(text[:4]), int(text[5:7]), 1)
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _codes(concept: Any) -> list[Code]:
    if concept is None:
        return []
    return [Code(system=c.system, code=str(c.code), display=c.display)
            for c in (concept.coding or []) if c.code]


def _name(concept: Any) -> str | None:
    if concept is None:
        return None
    if concept.text:
        return str(concept.text)
    for coding in concept.coding or []:
        if coding.display:
            return str(coding.display)
    for coding in concept.coding or []:
        if coding.code:
            return f"{coding.system or 'code'}|{coding.code}"
    return None


def _code_values(concept: Any) -> list[str]:
    return [str(c.code) for c in (concept.coding or []) if c.code] if concept else []


def _status_code(concept: Any) -> str | None:
    values = _code_values(concept)
    return values[0] if values else None


class _Builder:
    def __init__(self) -> None:
        self.rules = load_rules("loinc")
        self.vocabulary = concept_index()
        self.data: dict[str, Any] = {key: [] for key in (
            "conditions", "medications", "procedures", "measurements", "allergies", "denied")}
        self.medications_by_ref: dict[str, Any] = {}
        self.special = {code: kind for kind, codes in self.rules["special"].items()
                        for code in codes}

    def source(self, resource: Any, index: int) -> FactSource:
        ref = f"{resource.get_resource_type()}/{resource.id}" if resource.id else \
            f"{resource.get_resource_type()} entry[{index}]"
        return FactSource(kind="fhir", ref=ref)

    def patient(self, res: Any) -> None:
        if res.gender in {"female", "male", "other"}:
            self.data["sex"] = res.gender
        if res.birthDate:
            self.data["birth_date"] = _as_date(res.birthDate)
        for address in res.address or []:
            parts = [address.city, address.state, address.country]
            place = ", ".join(str(p) for p in parts if p)
            if place:
                self.data["location"] = Location(place=place)
                break

    def condition(self, res: Any, index: int) -> None:
        verification = _status_code(res.verificationStatus)
        if verification == "entered-in-error":
            return
        name = _name(res.code)
        if not name:
            return
        concept = self.vocabulary.concept_for(name)
        if verification == "refuted":
            self.data["denied"].append(DeniedFinding(name=name, concept=concept,
                                                     source=self.source(res, index)))
            return
        clinical = _status_code(res.clinicalStatus)
        onset = _as_date(res.onsetDateTime) or (
            _as_date(res.onsetPeriod.start) if res.onsetPeriod else None) or \
            self.at_age(res.onsetAge) or (
                self.at_age(res.onsetRange.low) if res.onsetRange else None)
        abatement = _as_date(res.abatementDateTime) or (
            _as_date(res.abatementPeriod.end or res.abatementPeriod.start)
            if res.abatementPeriod else None) or self.at_age(res.abatementAge) or (
                self.at_age(res.abatementRange.high or res.abatementRange.low)
                if res.abatementRange else None)
        over = clinical in {"resolved", "inactive", "remission"} or (
            clinical is None and (abatement is not None or bool(res.abatementString)))
        status: Literal["active", "resolved"] = "resolved" if over else "active"
        self.data["conditions"].append(Condition(
            name=name, concept=concept, codes=_codes(res.code), onset=onset,
            abatement=abatement, recorded=_as_date(res.recordedDate), status=status,
            source=self.source(res, index)))

    def at_age(self, age: Any) -> date | None:
        """The day the patient reached an ``Age`` (years, months, weeks or days): needs the
        Patient's birth date, else unknown."""
        birth = self.data.get("birth_date")
        if age is None or age.value is None or not isinstance(birth, date):
            return None
        unit = str(age.code or age.unit or "a").lower()
        days = float(age.value) * next(
            (DAYS_PER_UNIT[u] for prefix, u in _AGE_UNIT_PREFIXES if unit.startswith(prefix)),
            DAYS_PER_UNIT["year"])
        try:
            return birth + timedelta(days=days)
        except OverflowError:
            return None

    def _medication_concept(self, res: Any) -> Any:
        concept = getattr(res, "medicationCodeableConcept", None)
        reference = getattr(res, "medicationReference", None)
        if concept is None and reference is not None and reference.reference:
            target = self.medications_by_ref.get(reference.reference.lstrip("#"))
            if target is not None:
                concept = target.code
            elif reference.display:
                return reference.display
        return concept

    def medication(self, res: Any, index: int) -> None:
        concept = self._medication_concept(res)
        name = concept if isinstance(concept, str) else _name(concept)
        if not name:
            return
        rtype = res.get_resource_type()
        status = res.status
        if status == "entered-in-error":
            return
        vocab = self.vocabulary.concept_for(name)
        if rtype == "MedicationStatement" and status == "not-taken":
            self.data["denied"].append(DeniedFinding(name=name, concept=vocab,
                                                     kind="medication",
                                                     source=self.source(res, index)))
            return
        start = stop = last = None
        mapped = _MEDICATION_STATUS.get(str(status), "unknown")
        if rtype == "MedicationStatement":
            start = _as_date(res.effectiveDateTime)
            if res.effectivePeriod:
                start = _as_date(res.effectivePeriod.start) or start
                stop = _as_date(res.effectivePeriod.end)
            elif start is not None and mapped in {"completed", "stopped"}:
                # A single time on a finished statement is when it was taken: the last
                # known dose, not the start of something ongoing.
                last, start = start, None
        else:
            start = _as_date(res.authoredOn)
            if res.dispenseRequest and res.dispenseRequest.validityPeriod:
                stop = _as_date(res.dispenseRequest.validityPeriod.end)
        self.data["medications"].append(Medication(
            name=name, concept=vocab,
            codes=[] if isinstance(concept, str) else _codes(concept), start=start, stop=stop,
            last_dose=last, status=mapped, source=self.source(res, index)))

    def procedure(self, res: Any, index: int) -> None:
        if res.status == "preparation":
            return  # planned, not done: it has not happened yet
        if res.status in {"entered-in-error", "not-done"}:
            skipped = _name(res.code)
            if res.status == "not-done" and skipped:
                self.data["denied"].append(DeniedFinding(
                    name=skipped, concept=self.vocabulary.concept_for(skipped),
                    kind="procedure", source=self.source(res, index)))
            return
        name = _name(res.code)
        if not name:
            return
        when = _as_date(res.performedDateTime) or (
            _as_date(res.performedPeriod.start or res.performedPeriod.end)
            if res.performedPeriod else None) or self.at_age(res.performedAge) or (
                self.at_age(res.performedRange.low) if res.performedRange else None)
        self.data["procedures"].append(Procedure(
            name=name, concept=self.vocabulary.concept_for(name), codes=_codes(res.code), date=when,
            source=self.source(res, index)))

    def allergy(self, res: Any, index: int) -> None:
        verification = _status_code(res.verificationStatus)
        name = _name(res.code)
        if not name or verification == "entered-in-error":
            return
        concept = self.vocabulary.concept_for(name)
        if verification == "refuted":
            self.data["denied"].append(DeniedFinding(name=name, concept=concept, kind="allergy",
                                                     source=self.source(res, index)))
            return
        self.data["allergies"].append(Allergy(substance=name, concept=concept,
                                              codes=_codes(res.code),
                                              source=self.source(res, index)))

    def observation(self, res: Any, index: int) -> None:
        if res.status in {"entered-in-error", "cancelled"}:
            return
        when = _as_date(res.effectiveDateTime) or (
            _as_date(res.effectivePeriod.end or res.effectivePeriod.start)
            if res.effectivePeriod else None) or _as_date(res.effectiveInstant) or \
            _as_date(res.issued)
        loincs = [str(c.code) for c in (res.code.coding or [])
                  if c.code and (c.system or LOINC).rstrip("/") == LOINC]
        for code in loincs:
            if code in self.special:
                self._special(self.special[code], res)
                return
        if any(c in self.rules["panels"] for c in loincs):
            for component in res.component or []:
                self._measure(component, res, index, when)
            return
        self._measure(res, res, index, when)
        for component in res.component or []:
            self._measure(component, res, index, when)

    def _measure(self, part: Any, res: Any, index: int, when: date | None) -> None:
        loincs = [str(c.code) for c in (part.code.coding or [])
                  if c.code and (c.system or LOINC).rstrip("/") == LOINC]
        spec = next((self.rules["analytes"][c] for c in loincs if c in self.rules["analytes"]),
                    None)
        name = (part.code.text or next((c.display for c in part.code.coding or []
                                        if c.display), None)
                or (str(spec["name"]) if spec else None) or _name(part.code) or "observation")
        value = text = unit = None
        quantity = getattr(part, "valueQuantity", None)
        if quantity is not None and quantity.value is not None:
            value = float(quantity.value)
            unit = normalize_unit(quantity.code or quantity.unit)
        elif getattr(part, "valueInteger", None) is not None:
            value = float(part.valueInteger)
        elif getattr(part, "valueString", None):
            text = str(part.valueString)[:500]
        elif getattr(part, "valueCodeableConcept", None) is not None:
            text = _name(part.valueCodeableConcept)
        elif getattr(part, "valueBoolean", None) is not None:
            text = "yes" if part.valueBoolean else "no"
        if value is None and text is None:
            return
        analyte = None
        if spec is not None:
            analyte = self.vocabulary.analyte(str(spec["name"]))
            if value is not None and unit is None:
                unit = normalize_unit(str(spec["unit"]))
        self.data["measurements"].append(Measurement(
            name=name, analyte=analyte, value=value, unit=unit, text=text, date=when,
            codes=_codes(part.code), source=self.source(res, index)))

    def _special(self, kind: str, res: Any) -> None:
        values = self.rules
        concept = res.valueCodeableConcept
        codes = _code_values(concept)
        quantity = res.valueQuantity.value if res.valueQuantity else None
        number = res.valueInteger if res.valueInteger is not None else quantity
        if kind == "smoking_status":
            found = next((values["smoking_values"][c] for c in codes
                          if c in values["smoking_values"]), None)
            if found:
                self.data["smoking"] = found
        elif kind == "pack_years" and number is not None:
            self.data["pack_years"] = float(number)
        elif kind in {"pregnancy_status", "lactation_status"}:
            flag = next((values["yes_no_values"][c] for c in codes
                         if c in values["yes_no_values"]), None)
            if flag is None and res.valueBoolean is not None:
                flag = bool(res.valueBoolean)
            if flag is not None:
                self.data["pregnant" if kind == "pregnancy_status" else "lactating"] = flag
        elif kind == "menopause_status":
            found = next((values["menopause_values"][c] for c in codes
                          if c in values["menopause_values"]), None)
            if found:
                self.data["menopause"] = found
        elif kind in {"ecog", "karnofsky"}:
            if number is None:
                digits = "".join(ch for ch in (_name(concept) or "") if ch.isdigit())
                number = int(digits) if digits else None
            if number is not None:
                self.data[kind] = int(number)


def load_bundle_json(raw: bytes | str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FhirImportError([ResourceProblem(None, "Bundle", None, None,
                                               f"not valid JSON: {exc}")]) from exc


def import_bundle(bundle: Any, *, label: str | None = None) -> PatientProfile:
    """Validate a FHIR R4 Bundle (parsed JSON) and build a profile from its resources.

    Raises :class:`FhirImportError` naming every invalid resource. Resource types this
    importer does not read are validated and otherwise ignored.
    """
    if not isinstance(bundle, dict):
        raise FhirImportError([ResourceProblem(None, None, None, None,
                                               "expected a JSON object (a FHIR Bundle)")])
    if bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType")
        raise FhirImportError([ResourceProblem(
            None, found if isinstance(found, str) else None, None, "resourceType",
            f"expected resourceType 'Bundle', got {found!r}")])
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise FhirImportError([ResourceProblem(None, "Bundle", None, "entry",
                                               "entry must be a list")])
    if len(entries) > MAX_ENTRIES:
        raise FhirImportError([ResourceProblem(None, "Bundle", None, "entry",
                                               f"more than {MAX_ENTRIES} entries")])
    envelope = {k: v for k, v in bundle.items() if k != "entry"}
    problems: list[ResourceProblem] = []
    try:
        _model_class("Bundle").model_validate(envelope)
    except ValidationError as exc:
        problems += [ResourceProblem(None, "Bundle", bundle.get("id") if isinstance(
            bundle.get("id"), str) else None, _loc(tuple(e["loc"])), str(e["msg"]))
            for e in exc.errors()[:10]]
    resources: list[tuple[int, Any]] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(ResourceProblem(index, None, None, None,
                                            "entry must be a JSON object"))
            continue
        if "resource" not in entry:
            continue
        model, errors = _validate(index, entry["resource"])
        problems += errors
        if model is not None:
            resources.append((index, model))
    if problems:
        raise FhirImportError(problems)
    builder = _Builder()
    for _index, res in resources:
        if res.get_resource_type() == "Medication" and res.id:
            builder.medications_by_ref[f"Medication/{res.id}"] = res
            builder.medications_by_ref[res.id] = res
        for contained in getattr(res, "contained", None) or []:
            if contained.get_resource_type() == "Medication" and contained.id:
                builder.medications_by_ref[contained.id] = contained
    for _index, res in resources:
        if res.get_resource_type() == "Patient":
            builder.patient(res)
    handlers = {"Condition": builder.condition,
                "Observation": builder.observation,
                "MedicationStatement": builder.medication,
                "MedicationRequest": builder.medication, "Procedure": builder.procedure,
                "AllergyIntolerance": builder.allergy}
    for index, res in resources:
        handler = handlers.get(res.get_resource_type())
        if handler is not None:
            handler(res, index)
    data = builder.data
    if label is not None:
        data["label"] = label
    try:
        return PatientProfile(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise FhirImportError([ResourceProblem(None, "Bundle", None, _loc(tuple(err["loc"])),
                                               f"value out of range: {err['msg']}")]) from exc
