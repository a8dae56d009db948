"""Two trials written for the contact tests: X with two sites and a central contact, Y with
one site; every address is on example.org."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.factories import study

TRIAL_X = "NCT09994001"
TRIAL_Y = "NCT09994002"
X_SITE_A = "x-boston@example.org"
X_SITE_B = "x-denver@example.org"
X_CENTRAL = "x-central@example.org"
Y_SITE = "y-lyon@example.org"


def _criteria() -> dict[str, Any]:
    return {"eligibilityCriteria": "Inclusion Criteria:\n\n* Postmenopausal women\n"
            "* Able to walk 100 metres without help\n\nExclusion Criteria:\n\n"
            "* Received denosumab within the past 6 months", "sex": "FEMALE",
            "minimumAge": "50 Years"}


def contact_studies() -> list[dict[str, Any]]:
    x = study(TRIAL_X, title="Walking and bone strength", eligibilityModule=_criteria(),
              contactsLocationsModule={
                  "centralContacts": [{"name": "Study desk", "email": X_CENTRAL}],
                  "locations": [
                      {"facility": "Boston Bone Clinic", "city": "Boston",
                       "country": "United States", "status": "RECRUITING",
                       "geoPoint": {"lat": 42.36, "lon": -71.06},
                       "contacts": [{"name": "Site A desk", "email": X_SITE_A}]},
                      {"facility": "Denver Bone Centre", "city": "Denver",
                       "country": "United States", "status": "RECRUITING",
                       "geoPoint": {"lat": 39.74, "lon": -104.99},
                       "contacts": [{"name": "Site B desk", "email": X_SITE_B}]}]})
    y = study(TRIAL_Y, title="Calcium after menopause", eligibilityModule=_criteria(),
              contactsLocationsModule={"locations": [
                  {"facility": "Hospital of Lyon", "city": "Lyon", "country": "France",
                   "status": "RECRUITING", "geoPoint": {"lat": 45.76, "lon": 4.84},
                   "contacts": [{"name": "Lyon desk", "email": Y_SITE}]}]})
    return [x, y]


def write_studies(folder: Path) -> Path:
    path = folder / "contact_studies.jsonl"
    path.write_text("\n".join(json.dumps(s) for s in contact_studies()) + "\n")
    return path
