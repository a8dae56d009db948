"""Legacy ClinicalTrials.gov ``clinical_study`` XML (as in the TREC 2021 corpus) to API v2 shape.

The result is a dict in the API v2 study shape, so :func:`trial_from_api_v2` stays the one
normalizer. Parsing never resolves entities or touches the network.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from lxml import etree

from trialscout.registry.enums import legacy_phases, legacy_token
from trialscout.registry.errors import RecordError

_TOKENS = {
    "PARALLEL_ASSIGNMENT": "PARALLEL", "SINGLE_GROUP_ASSIGNMENT": "SINGLE_GROUP",
    "CROSSOVER_ASSIGNMENT": "CROSSOVER", "FACTORIAL_ASSIGNMENT": "FACTORIAL",
    "SEQUENTIAL_ASSIGNMENT": "SEQUENTIAL", "ANTICIPATED": "ESTIMATED", "U.S._FED": "FED",
    "NO_MASKING": "NONE", "OPEN_LABEL": "NONE",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_comments=True)


def _text(node: etree._Element | None, path: str) -> str | None:
    if node is None:
        return None
    found = node.find(path)
    if found is None:
        return None
    block = found.find("textblock")
    raw = (block if block is not None else found).text
    if raw is None:
        return None
    if block is not None:
        return textwrap.dedent(raw.strip("\n")).strip() or None
    return raw.strip() or None


def _prose(node: etree._Element | None, path: str) -> str | None:
    """Descriptive text: paragraphs kept, the XML's hard line wraps undone."""
    text = _text(node, path)
    if text is None:
        return None
    paragraphs = re.split(r"\n\s*\n", text)
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _token(text: str | None) -> str | None:
    if not text:
        return None
    token = legacy_token(text)
    return _TOKENS.get(token, token)


def _all(node: etree._Element, path: str) -> list[str]:
    return [t.text.strip() for t in node.findall(path) if t.text and t.text.strip()]


def _date(node: etree._Element, path: str) -> dict[str, str] | None:
    found = node.find(path)
    text = (found.text or "").strip() if found is not None else ""
    if found is None or not text:
        return None
    out = {"date": text}
    kind = _token(found.get("type"))
    if kind:
        out["type"] = kind
    return out


def _contact(node: etree._Element | None) -> dict[str, Any] | None:
    if node is None:
        return None
    name = " ".join(filter(None, [_text(node, "first_name"), _text(node, "middle_name"),
                                  _text(node, "last_name")]))
    return {"name": name or None, "phone": _text(node, "phone"), "email": _text(node, "email"),
            "role": "CONTACT"}


def parse_legacy_xml(data: bytes) -> dict[str, Any]:
    """Parse one ``clinical_study`` document into an API v2 study dict."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise RecordError(f"malformed XML: {exc}") from exc
    if root.tag != "clinical_study":
        raise RecordError(f"expected a <clinical_study> document, got <{root.tag}>")
    return legacy_to_api_v2(root)


def legacy_to_api_v2(root: etree._Element) -> dict[str, Any]:
    nct_id = _text(root, "id_info/nct_id")
    ident: dict[str, Any] = {
        "nctId": nct_id, "briefTitle": _text(root, "brief_title"),
        "officialTitle": _text(root, "official_title"), "acronym": _text(root, "acronym"),
    }
    if _text(root, "id_info/org_study_id"):
        ident["orgStudyIdInfo"] = {"id": _text(root, "id_info/org_study_id")}
    ident["secondaryIdInfos"] = [{"id": s} for s in _all(root, "id_info/secondary_id")]

    status: dict[str, Any] = {}
    if _text(root, "overall_status"):
        status["overallStatus"] = legacy_token(_text(root, "overall_status") or "")
    status["whyStopped"] = _text(root, "why_stopped")
    for key, path in (("startDateStruct", "start_date"),
                      ("primaryCompletionDateStruct", "primary_completion_date"),
                      ("completionDateStruct", "completion_date"),
                      ("studyFirstPostDateStruct", "study_first_posted"),
                      ("lastUpdatePostDateStruct", "last_update_posted"),
                      ("resultsFirstPostDateStruct", "results_first_posted")):
        status[key] = _date(root, path)
    if status["studyFirstPostDateStruct"] is None:
        status["studyFirstPostDateStruct"] = _date(root, "study_first_submitted")
    if status["lastUpdatePostDateStruct"] is None:
        status["lastUpdatePostDateStruct"] = _date(root, "last_update_submitted")
    status["statusVerifiedDate"] = _text(root, "verification_date")

    sponsors: dict[str, Any] = {}
    lead = root.find("sponsors/lead_sponsor")
    if lead is not None:
        sponsors["leadSponsor"] = {"name": _text(lead, "agency"),
                                   "class": _token(_text(lead, "agency_class"))}
    sponsors["collaborators"] = [
        {"name": _text(c, "agency"), "class": _token(_text(c, "agency_class"))}
        for c in root.findall("sponsors/collaborator")
    ]
    party = root.find("responsible_party")
    if party is not None:
        sponsors["responsibleParty"] = {
            "type": legacy_token(_text(party, "responsible_party_type") or "") or None,
            "investigatorFullName": _text(party, "investigator_full_name"),
            "investigatorTitle": _text(party, "investigator_title"),
            "investigatorAffiliation": _text(party, "investigator_affiliation"),
        }

    design_node = root.find("study_design_info")
    design_info: dict[str, Any] = {}
    if design_node is not None:
        masking = _text(design_node, "masking") or ""
        design_info = {
            "allocation": _token(_text(design_node, "allocation")),
            "interventionModel": _token(_text(design_node, "intervention_model")),
            "primaryPurpose": _token(_text(design_node, "primary_purpose")),
            "observationalModel": _text(design_node, "observational_model"),
            "timePerspective": _text(design_node, "time_perspective"),
            "maskingInfo": {"masking": _token(masking.split("(")[0].strip())},
        }
    design: dict[str, Any] = {"designInfo": design_info}
    if _text(root, "study_type"):
        design["studyType"] = legacy_token(_text(root, "study_type") or "").replace(
            "_EXPANDED_ACCESS", "")
    if _text(root, "phase"):
        design["phases"] = legacy_phases(_text(root, "phase") or "")
    enrollment = root.find("enrollment")
    enrollment_text = (enrollment.text or "").strip() if enrollment is not None else ""
    if enrollment is not None and enrollment_text:
        try:
            count: Any = int(float(enrollment_text))
        except ValueError:
            count = enrollment_text
        design["enrollmentInfo"] = {"count": count,
                                    "type": _token(enrollment.get("type"))}

    elig = root.find("eligibility")
    eligibility: dict[str, Any] = {}
    if elig is not None:
        eligibility = {
            "eligibilityCriteria": _text(elig, "criteria"),
            "sex": legacy_token(_text(elig, "gender") or "ALL"),
            "minimumAge": _text(elig, "minimum_age"),
            "maximumAge": _text(elig, "maximum_age"),
            "healthyVolunteers": _text(elig, "healthy_volunteers"),
        }
        if eligibility["healthyVolunteers"] and eligibility["healthyVolunteers"].lower() in {
                "accepts healthy volunteers"}:
            eligibility["healthyVolunteers"] = "yes"

    locations = []
    for loc in root.findall("location"):
        fac = loc.find("facility")
        locations.append({
            "facility": _text(fac, "name"),
            "status": legacy_token(_text(loc, "status") or "") or None,
            "city": _text(fac, "address/city"), "state": _text(fac, "address/state"),
            "zip": _text(fac, "address/zip"), "country": _text(fac, "address/country"),
            "contacts": [c for c in (_contact(loc.find("contact")),
                                     _contact(loc.find("contact_backup"))) if c],
        })
    central = [c for c in (_contact(root.find("overall_contact")),
                           _contact(root.find("overall_contact_backup"))) if c]

    study: dict[str, Any] = {
        "protocolSection": {
            "identificationModule": ident,
            "statusModule": status,
            "sponsorCollaboratorsModule": sponsors,
            "descriptionModule": {"briefSummary": _prose(root, "brief_summary"),
                                  "detailedDescription": _prose(root, "detailed_description")},
            "conditionsModule": {"conditions": _all(root, "condition"),
                                 "keywords": _all(root, "keyword")},
            "designModule": design,
            "armsInterventionsModule": {
                "armGroups": [{"label": _text(a, "arm_group_label"),
                               "type": legacy_token(_text(a, "arm_group_type") or "") or None,
                               "description": _text(a, "description")}
                              for a in root.findall("arm_group")],
                "interventions": [{"type": legacy_token(_text(i, "intervention_type") or "")
                                   or None,
                                   "name": _text(i, "intervention_name"),
                                   "description": _text(i, "description"),
                                   "armGroupLabels": _all(i, "arm_group_label"),
                                   "otherNames": _all(i, "other_name")}
                                  for i in root.findall("intervention")],
            },
            "outcomesModule": {
                key: [{"measure": _text(o, "measure"), "description": _text(o, "description"),
                       "timeFrame": _text(o, "time_frame")} for o in root.findall(tag)]
                for key, tag in (("primaryOutcomes", "primary_outcome"),
                                 ("secondaryOutcomes", "secondary_outcome"),
                                 ("otherOutcomes", "other_outcome"))
            },
            "eligibilityModule": eligibility,
            "contactsLocationsModule": {
                "centralContacts": central,
                "overallOfficials": [{"name": _text(o, "last_name"),
                                      "affiliation": _text(o, "affiliation"),
                                      "role": legacy_token(_text(o, "role") or "") or None}
                                     for o in root.findall("overall_official")],
                "locations": locations,
            },
            "referencesModule": {"references": [
                {"citation": _text(r, "citation"), "pmid": _text(r, "PMID"), "type": "BACKGROUND"}
                for r in root.findall("reference")] + [
                {"citation": _text(r, "citation"), "pmid": _text(r, "PMID"), "type": "RESULT"}
                for r in root.findall("results_reference")]},
        },
        "derivedSection": {
            "conditionBrowseModule": {"meshes": [{"term": t} for t in
                                                 _all(root, "condition_browse/mesh_term")]},
            "interventionBrowseModule": {"meshes": [{"term": t} for t in
                                                    _all(root, "intervention_browse/mesh_term")]},
        },
        "hasResults": root.find("clinical_results") is not None,
    }
    return study
