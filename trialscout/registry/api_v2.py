"""Normalize a ClinicalTrials.gov API v2 study object into a :class:`Trial`.

API v2 is the canonical shape: legacy XML is first converted to it, so this is the only
place that knows the field names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from trialscout.registry.durations import AgeError, age_to_days
from trialscout.registry.enums import OVERALL_STATUSES, PHASES, SEXES, STD_AGES, STUDY_TYPES
from trialscout.registry.errors import RecordError
from trialscout.registry.model import Trial
from trialscout.registry.partial_dates import PartialDateError, parse_partial_date

NCT_ID = re.compile(r"^NCT\d{8}$")


def nct_id_of(study: Any) -> str | None:
    """The NCT id of a study object if it has a well-formed one, else None."""
    try:
        value = study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return None
    return value if isinstance(value, str) and NCT_ID.match(value) else None


_DATE_CACHE_SIZE = 100_000
_dates: dict[str, str] = {}


def _parse_date(raw: str) -> str:
    """parse_partial_date, remembered: registry dates repeat a great deal across records."""
    parsed = _dates.get(raw)
    if parsed is None:
        parsed = parse_partial_date(raw)
        if len(_dates) >= _DATE_CACHE_SIZE:
            _dates.clear()
        _dates[raw] = parsed
    return parsed


def _is_number(value: Any) -> bool:
    kind = type(value)
    if kind is float or kind is int:
        return True
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Reader:
    """Typed access to nested JSON that turns wrong types into RecordError with a path."""

    def __init__(self, nct_id: str | None) -> None:
        self.nct_id = nct_id

    def fail(self, reason: str) -> RecordError:
        return RecordError(reason, self.nct_id)

    def obj(self, parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = parent.get(key)
        if value is None:
            return {}
        if type(value) is not dict and not isinstance(value, Mapping):
            raise self.fail(f"{path}.{key}: expected an object, got {type(value).__name__}")
        return value

    def text(self, parent: Mapping[str, Any], key: str, path: str) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        if type(value) is str:
            return clean_text(value).strip() or None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(f"{path}.{key}: expected text, got {type(value).__name__}")
        cleaned = str(value).strip()
        return cleaned or None

    def items(self, parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = parent.get(key)
        if value is None:
            return []
        if type(value) is not list and not isinstance(value, list):
            raise self.fail(f"{path}.{key}: expected a list, got {type(value).__name__}")
        return value

    def objs(self, parent: Mapping[str, Any], key: str, path: str) -> list[Mapping[str, Any]]:
        out = []
        for i, item in enumerate(self.items(parent, key, path)):
            if type(item) is not dict and not isinstance(item, Mapping):
                raise self.fail(f"{path}.{key}[{i}]: expected an object")
            out.append(item)
        return out

    def texts(self, parent: Mapping[str, Any], key: str, path: str) -> list[str]:
        out = []
        for i, item in enumerate(self.items(parent, key, path)):
            if type(item) is not str and not isinstance(item, str):
                raise self.fail(f"{path}.{key}[{i}]: expected text, got {type(item).__name__}")
            stripped = clean_text(item).strip()
            if stripped:
                out.append(stripped)
        return out

    def enum(self, parent: Mapping[str, Any], key: str, path: str,
             allowed: frozenset[str]) -> str | None:
        value = self.text(parent, key, path)
        if value is not None and value not in allowed:
            raise self.fail(f"{path}.{key}: unknown value {value!r}")
        return value

    def date(self, parent: Mapping[str, Any], key: str, path: str) -> tuple[str | None, str | None]:
        holder = parent.get(key)
        raw: str | None
        if holder is None:
            return None, None
        if isinstance(holder, str):
            raw, kind = holder, None
        elif isinstance(holder, Mapping):
            raw, kind = self.text(holder, "date", f"{path}.{key}"), self.text(
                holder, "type", f"{path}.{key}")
        else:
            raise self.fail(f"{path}.{key}: expected a date")
        if raw is None:
            return None, kind
        try:
            return _parse_date(raw), kind
        except PartialDateError as exc:
            raise self.fail(f"{path}.{key}: {exc}") from exc

    def boolean(self, parent: Mapping[str, Any], key: str, path: str) -> bool | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"yes", "no", "true", "false"}:
            return value.strip().lower() in {"yes", "true"}
        raise self.fail(f"{path}.{key}: expected true or false, got {value!r}")


def clean_text(value: str) -> str:
    """``value`` without NUL characters.

    JSON may carry ``\\u0000`` inside a string; it means nothing in registry text, and
    PostgreSQL refuses it in a text column, which would abort the whole batch. Every
    string the store keeps comes through here, so both backends store the same record.
    """
    return value.replace("\x00", "") if "\x00" in value else value


def trial_from_api_v2(study: Any) -> Trial:
    """Build a Trial from one API v2 study object, or raise RecordError saying why not."""
    if not isinstance(study, Mapping):
        raise RecordError(f"expected a study object, got {type(study).__name__}")
    nct_id = nct_id_of(study)
    r = _Reader(nct_id)
    proto = r.obj(study, "protocolSection", "")
    ident = r.obj(proto, "identificationModule", "protocolSection")
    if nct_id is None:
        raw = ident.get("nctId")
        raise RecordError("missing nctId" if raw is None else f"malformed nctId {raw!r}")
    p = "protocolSection"
    status = r.obj(proto, "statusModule", p)
    sponsors = r.obj(proto, "sponsorCollaboratorsModule", p)
    description = r.obj(proto, "descriptionModule", p)
    conditions = r.obj(proto, "conditionsModule", p)
    design = r.obj(proto, "designModule", p)
    arms = r.obj(proto, "armsInterventionsModule", p)
    outcomes = r.obj(proto, "outcomesModule", p)
    eligibility = r.obj(proto, "eligibilityModule", p)
    contacts = r.obj(proto, "contactsLocationsModule", p)
    references = r.obj(proto, "referencesModule", p)
    derived = r.obj(study, "derivedSection", "")

    design_info = r.obj(design, "designInfo", "designModule")
    masking = r.obj(design_info, "maskingInfo", "designInfo")
    enrollment = r.obj(design, "enrollmentInfo", "designModule")
    enrollment_count = enrollment.get("count")
    if enrollment_count is not None and (
        isinstance(enrollment_count, bool) or not isinstance(enrollment_count, int | float)
        or enrollment_count < 0 or enrollment_count != int(enrollment_count)
    ):
        raise r.fail(f"enrollmentInfo.count: expected a whole number, got {enrollment_count!r}")

    phases = r.texts(design, "phases", "designModule")
    for phase in phases:
        if phase not in PHASES:
            raise r.fail(f"designModule.phases: unknown value {phase!r}")
    std_ages = r.texts(eligibility, "stdAges", "eligibilityModule")
    for age_group in std_ages:
        if age_group not in STD_AGES:
            raise r.fail(f"eligibilityModule.stdAges: unknown value {age_group!r}")

    min_age = r.text(eligibility, "minimumAge", "eligibilityModule")
    max_age = r.text(eligibility, "maximumAge", "eligibilityModule")
    try:
        min_days, max_days = age_to_days(min_age), age_to_days(max_age)
    except AgeError as exc:
        raise r.fail(f"eligibilityModule: {exc}") from exc
    if min_days is not None and max_days is not None and min_days > max_days:
        raise r.fail(f"eligibilityModule: minimum age {min_age!r} exceeds maximum {max_age!r}")

    dates = {}
    for field, key in (("start", "startDateStruct"),
                       ("primary_completion", "primaryCompletionDateStruct"),
                       ("completion", "completionDateStruct")):
        dates[field], dates[f"{field}_type"] = r.date(status, key, "statusModule")
    dates["first_posted"], _ = r.date(status, "studyFirstPostDateStruct", "statusModule")
    dates["last_update"], _ = r.date(status, "lastUpdatePostDateStruct", "statusModule")
    dates["results_first_posted"], _ = r.date(status, "resultsFirstPostDateStruct",
                                              "statusModule")
    dates["status_verified"], _ = r.date(status, "statusVerifiedDate", "statusModule")

    organizations = []
    lead = r.obj(sponsors, "leadSponsor", "sponsorCollaboratorsModule")
    if r.text(lead, "name", "leadSponsor"):
        organizations.append({"name": r.text(lead, "name", "leadSponsor"),
                              "role": "LEAD_SPONSOR", "kind": r.text(lead, "class", "leadSponsor")})
    for collab in r.objs(sponsors, "collaborators", "sponsorCollaboratorsModule"):
        if r.text(collab, "name", "collaborators"):
            organizations.append({"name": r.text(collab, "name", "collaborators"),
                                  "role": "COLLABORATOR",
                                  "kind": r.text(collab, "class", "collaborators")})
    party = r.obj(sponsors, "responsibleParty", "sponsorCollaboratorsModule")

    def contact(c: Mapping[str, Any], path: str) -> dict[str, Any]:
        return {k: r.text(c, src, path) for k, src in
                (("name", "name"), ("role", "role"), ("phone", "phone"), ("email", "email"))}

    sites = []
    for i, loc in enumerate(r.objs(contacts, "locations", "contactsLocationsModule")):
        path = f"locations[{i}]"
        geo = r.obj(loc, "geoPoint", path)
        point = None
        if geo:
            lat, lon = geo.get("lat"), geo.get("lon")
            if not (_is_number(lat) and _is_number(lon)):
                raise r.fail(f"{path}.geoPoint: expected numeric lat and lon")
            point = {"lat": lat, "lon": lon}
        sites.append({
            "facility": r.text(loc, "facility", path), "status": r.text(loc, "status", path),
            "city": r.text(loc, "city", path), "state": r.text(loc, "state", path),
            "zip": r.text(loc, "zip", path), "country": r.text(loc, "country", path),
            "geo": point,
            "contacts": [contact(c, path) for c in r.objs(loc, "contacts", path)],
        })

    outcome_rows = []
    for kind, key in (("PRIMARY", "primaryOutcomes"), ("SECONDARY", "secondaryOutcomes"),
                      ("OTHER", "otherOutcomes")):
        for o in r.objs(outcomes, key, "outcomesModule"):
            measure = r.text(o, "measure", key)
            if measure:
                outcome_rows.append({"kind": kind, "measure": measure,
                                     "description": r.text(o, "description", key),
                                     "time_frame": r.text(o, "timeFrame", key)})

    def mesh_terms(module_key: str) -> list[str]:
        module = r.obj(derived, module_key, "derivedSection")
        return [t for m in r.objs(module, "meshes", module_key)
                if (t := r.text(m, "term", module_key))]

    record = {
        "nct_id": nct_id,
        "brief_title": r.text(ident, "briefTitle", "identificationModule"),
        "official_title": r.text(ident, "officialTitle", "identificationModule"),
        "acronym": r.text(ident, "acronym", "identificationModule"),
        "org_study_id": r.text(r.obj(ident, "orgStudyIdInfo", "identificationModule"), "id",
                               "orgStudyIdInfo"),
        "secondary_ids": [
            {"id": sid, "type": r.text(s, "type", "secondaryIdInfos"),
             "domain": r.text(s, "domain", "secondaryIdInfos")}
            for s in r.objs(ident, "secondaryIdInfos", "identificationModule")
            if (sid := r.text(s, "id", "secondaryIdInfos"))
        ],
        "overall_status": r.enum(status, "overallStatus", "statusModule", OVERALL_STATUSES),
        "why_stopped": r.text(status, "whyStopped", "statusModule"),
        "study_type": r.enum(design, "studyType", "designModule", STUDY_TYPES),
        "phases": phases,
        "design": {
            "allocation": r.text(design_info, "allocation", "designInfo"),
            "intervention_model": r.text(design_info, "interventionModel", "designInfo"),
            "primary_purpose": r.text(design_info, "primaryPurpose", "designInfo"),
            "masking": r.text(masking, "masking", "maskingInfo"),
            "who_masked": r.texts(masking, "whoMasked", "maskingInfo"),
            "observational_model": r.text(design_info, "observationalModel", "designInfo"),
            "time_perspective": r.text(design_info, "timePerspective", "designInfo"),
        },
        "enrollment_count": int(enrollment_count) if enrollment_count is not None else None,
        "enrollment_type": r.text(enrollment, "type", "enrollmentInfo"),
        "dates": dates,
        "conditions": r.texts(conditions, "conditions", "conditionsModule"),
        "keywords": r.texts(conditions, "keywords", "conditionsModule"),
        "condition_mesh_terms": mesh_terms("conditionBrowseModule"),
        "intervention_mesh_terms": mesh_terms("interventionBrowseModule"),
        "arm_groups": [
            {"label": label, "type": r.text(a, "type", "armGroups"),
             "description": r.text(a, "description", "armGroups"),
             "intervention_names": r.texts(a, "interventionNames", "armGroups")}
            for a in r.objs(arms, "armGroups", "armsInterventionsModule")
            if (label := r.text(a, "label", "armGroups"))
        ],
        "interventions": [
            {"type": r.text(iv, "type", "interventions"), "name": name,
             "description": r.text(iv, "description", "interventions"),
             "other_names": r.texts(iv, "otherNames", "interventions"),
             "arm_group_labels": r.texts(iv, "armGroupLabels", "interventions")}
            for iv in r.objs(arms, "interventions", "armsInterventionsModule")
            if (name := r.text(iv, "name", "interventions"))
        ],
        "outcomes": outcome_rows,
        "organizations": organizations,
        "responsible_party": {
            "type": r.text(party, "type", "responsibleParty"),
            "name": r.text(party, "investigatorFullName", "responsibleParty"),
            "title": r.text(party, "investigatorTitle", "responsibleParty"),
            "affiliation": r.text(party, "investigatorAffiliation", "responsibleParty"),
        } if party else None,
        "officials": [
            {"name": r.text(o, "name", "overallOfficials"),
             "affiliation": r.text(o, "affiliation", "overallOfficials"),
             "role": r.text(o, "role", "overallOfficials")}
            for o in r.objs(contacts, "overallOfficials", "contactsLocationsModule")
        ],
        "central_contacts": [contact(c, "centralContacts")
                             for c in r.objs(contacts, "centralContacts",
                                             "contactsLocationsModule")],
        "sites": sites,
        "eligibility": {
            "criteria": r.text(eligibility, "eligibilityCriteria", "eligibilityModule"),
            "sex": r.enum(eligibility, "sex", "eligibilityModule", SEXES) or "ALL",
            "minimum_age": min_age, "maximum_age": max_age,
            "minimum_age_days": min_days, "maximum_age_days": max_days,
            "healthy_volunteers": r.boolean(eligibility, "healthyVolunteers",
                                            "eligibilityModule"),
            "std_ages": std_ages,
        },
        "brief_summary": r.text(description, "briefSummary", "descriptionModule"),
        "detailed_description": r.text(description, "detailedDescription", "descriptionModule"),
        "references": [
            {"citation": r.text(ref, "citation", "references"),
             "pmid": r.text(ref, "pmid", "references"), "type": r.text(ref, "type", "references")}
            for ref in r.objs(references, "references", "referencesModule")
        ],
        "has_results": bool(r.boolean(study, "hasResults", "") or study.get("resultsSection")),
    }
    try:
        return Trial.model_validate(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RecordError(f"{where}: {first['msg']}", nct_id) from exc
