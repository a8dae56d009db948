"""Synthetic API v2 studies for search tests, and a way to load them into an app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from trialscout.app import TrialScout


def site(city: str, country: str, lat: float | None, lon: float | None,
         status: str | None = "RECRUITING", state: str | None = None,
         facility: str | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {"facility": facility or f"{city} Research Clinic", "city": city,
                           "country": country}
    if status:
        loc["status"] = status
    if state:
        loc["state"] = state
    if lat is not None and lon is not None:
        loc["geoPoint"] = {"lat": lat, "lon": lon}
    return loc


def make_study(nct: str, title: str, *, summary: str | None = None,
               description: str | None = None, official_title: str | None = None,
               conditions: list[str] | None = None, keywords: list[str] | None = None,
               interventions: list[str | tuple[str, list[str]]] | None = None,
               status: str | None = "RECRUITING", study_type: str | None = "INTERVENTIONAL",
               phases: list[str] | None = None, sex: str | None = "ALL",
               min_age: str | None = None, max_age: str | None = None,
               healthy: bool | None = None, criteria: str | None = None,
               sponsor: str | None = None, collaborators: list[str] | None = None,
               sites: list[dict[str, Any]] | None = None, start: str | None = None,
               last_update: str | None = None, has_results: bool = False
               ) -> dict[str, Any]:
    ident: dict[str, Any] = {"nctId": nct, "briefTitle": title}
    if official_title:
        ident["officialTitle"] = official_title
    status_module: dict[str, Any] = {}
    if status:
        status_module["overallStatus"] = status
    if start:
        status_module["startDateStruct"] = {"date": start}
    if last_update:
        status_module["lastUpdatePostDateStruct"] = {"date": last_update}
    proto: dict[str, Any] = {"identificationModule": ident, "statusModule": status_module}
    desc: dict[str, Any] = {}
    if summary:
        desc["briefSummary"] = summary
    if description:
        desc["detailedDescription"] = description
    if desc:
        proto["descriptionModule"] = desc
    if conditions or keywords:
        proto["conditionsModule"] = {"conditions": conditions or [],
                                     "keywords": keywords or []}
    design: dict[str, Any] = {}
    if study_type:
        design["studyType"] = study_type
    if phases:
        design["phases"] = phases
    if design:
        proto["designModule"] = design
    if interventions:
        items = []
        for item in interventions:
            name, others = (item, []) if isinstance(item, str) else item
            items.append({"type": "DRUG", "name": name, "otherNames": others})
        proto["armsInterventionsModule"] = {"interventions": items}
    elig: dict[str, Any] = {}
    if sex:
        elig["sex"] = sex
    if min_age:
        elig["minimumAge"] = min_age
    if max_age:
        elig["maximumAge"] = max_age
    if healthy is not None:
        elig["healthyVolunteers"] = healthy
    if criteria:
        elig["eligibilityCriteria"] = criteria
    if elig:
        proto["eligibilityModule"] = elig
    if sponsor or collaborators:
        sc: dict[str, Any] = {}
        if sponsor:
            sc["leadSponsor"] = {"name": sponsor, "class": "INDUSTRY"}
        if collaborators:
            sc["collaborators"] = [{"name": c, "class": "OTHER"} for c in collaborators]
        proto["sponsorCollaboratorsModule"] = sc
    if sites:
        proto["contactsLocationsModule"] = {"locations": sites}
    study: dict[str, Any] = {"protocolSection": proto}
    if has_results:
        study["hasResults"] = True
    return study


def load(app: TrialScout, studies: list[dict[str, Any]], tmp: Path, name: str = "s") -> None:
    path = tmp / f"{name}.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(s) for s in studies) + b"\n")
    report = app.import_paths([path])
    assert not report.rejected, report.rejected


BOSTON = (42.3601, -71.0589)
CAMBRIDGE_MA = (42.3736, -71.1097)
NEW_YORK = (40.7128, -74.0060)
LONDON = (51.5074, -0.1278)
PARIS = (48.8566, 2.3522)


def fixture_studies() -> list[dict[str, Any]]:
    """A small, hand-made world where every filter has a case on each side."""
    return [
        make_study("NCT00000101", "Denosumab for Postmenopausal Osteoporosis",
                   summary="A trial of denosumab injections in women with osteoporosis.",
                   conditions=["Postmenopausal Osteoporosis"], interventions=["Denosumab"],
                   phases=["PHASE3"], sex="FEMALE", min_age="50 Years", max_age="80 Years",
                   sponsor="Amgen Inc.", start="2021-03-01", last_update="2024-01-10",
                   has_results=True,
                   sites=[site("Boston", "United States", *BOSTON, state="Massachusetts"),
                          site("London", "United Kingdom", *LONDON, status="COMPLETED")]),
        make_study("NCT00000102", "Metformin in Type 2 Diabetes Mellitus",
                   summary="Metformin and lifestyle for adults with T2DM.",
                   conditions=["Diabetes Mellitus, Type 2"], interventions=["Metformin"],
                   phases=["PHASE2", "PHASE3"], sex="ALL", min_age="18 Years",
                   sponsor="National Diabetes Institute", start="2019-06",
                   last_update="2023-05-02",
                   sites=[site("New York", "United States", *NEW_YORK, state="NY",
                               status="NOT_YET_RECRUITING")]),
        make_study("NCT00000103", "Exercise Program for Older Men With Low Bone Mass",
                   summary="Resistance training for men with osteopenia.",
                   conditions=["Osteopenia"], interventions=["Resistance training"],
                   status="COMPLETED", phases=["NA"], sex="MALE", min_age="65 Years",
                   healthy=False, sponsor="University of Paris", start="2015-01-20",
                   last_update="2020-02-02",
                   sites=[site("Paris", "France", *PARIS, status="COMPLETED")]),
        make_study("NCT00000104", "Healthy Volunteer Pharmacokinetics of Drug X",
                   summary="Single-dose pharmacokinetics in healthy adults.",
                   conditions=["Healthy"], interventions=["Drug X"], phases=["PHASE1"],
                   sex="ALL", max_age="45 Years", healthy=True, sponsor="Pharma Co",
                   study_type="INTERVENTIONAL", status="NOT_YET_RECRUITING",
                   start="2024-09-01", last_update="2024-09-15",
                   sites=[site("Cambridge", "United States", *CAMBRIDGE_MA, state="MA",
                               status="NOT_YET_RECRUITING")]),
        make_study("NCT00000105", "Registry of Childhood Asthma",
                   summary="Observational registry of children with asthma and wheeze.",
                   conditions=["Asthma"], status="RECRUITING", study_type="OBSERVATIONAL",
                   sex="ALL", min_age="2 Years", max_age="17 Years", start="2022-11",
                   last_update="2024-03-03", sponsor="Children's Hospital",
                   sites=[site("London", "United Kingdom", *LONDON)]),
        make_study("NCT00000106", "Breast Cancer Screening With Tomosynthesis",
                   summary="Compares screening methods. Patients with cancer of the breast "
                   "history are excluded.", conditions=["Breast Cancer"],
                   interventions=[("Tomosynthesis", ["3D mammography"])], sex="FEMALE",
                   min_age="40 Years", max_age="74 Years", sponsor="Amgen",
                   collaborators=["Cancer Research Network"], start="2023-01-05",
                   last_update="2024-06-01", status="ACTIVE_NOT_RECRUITING",
                   sites=[site("Boston", "United States", *BOSTON, state="MA",
                               status="ACTIVE_NOT_RECRUITING")]),
        make_study("NCT00000107", "Lung Cancer and Smoking Cessation",
                   summary="Smoking cessation support for people with lung cancer, "
                   "not breast cancer.", conditions=["Lung Cancer", "Smoking"],
                   keywords=["COVID-19"], sex="ALL", status="RECRUITING", start="2024-02-02",
                   last_update="2024-06-01",
                   sites=[site("Somewhere", "United States", None, None)]),
        make_study("NCT00000108", "Prolia Extension Study",
                   summary="Open-label extension for patients previously on Prolia.",
                   conditions=["Osteoporosis"], interventions=["Prolia"], status="RECRUITING",
                   sex="ALL", last_update="2022-07-07"),
    ]


def ids(app: TrialScout, **request: Any) -> list[str]:
    """NCT ids of every hit, in order (page_size 100)."""
    from trialscout.search.models import SearchRequest

    request.setdefault("page_size", 100)
    request.setdefault("facets", False)
    return [h.nct_id for h in app.search(SearchRequest(**request)).hits]
