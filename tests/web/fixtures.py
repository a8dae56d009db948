"""Trials written for the web tests: hostile markup, and two trials sharing a question."""

from __future__ import annotations

from typing import Any

from tests.factories import study

HOSTILE_ID = "NCT09990601"
SHARED_A = "NCT09990602"
SHARED_B = "NCT09990603"
SHARED_CRITERION = "Postmenopausal for at least 2 years"
SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '<img src=x onerror="window.__pwned = 2">'


def hostile_study() -> dict[str, Any]:
    return study(
        HOSTILE_ID, title=f"Bone study {SCRIPT} {IMG}",
        descriptionModule={"briefSummary": f"Summary with {IMG} and {SCRIPT}"},
        conditionsModule={"conditions": [f"Osteoporosis {IMG}"]},
        eligibilityModule={
            "eligibilityCriteria": f"Inclusion Criteria:\n\n* Age 50 or older {SCRIPT}\n\n"
                                   f"Exclusion Criteria:\n\n* Allergy to {IMG}",
            "sex": "ALL", "minimumAge": "50 Years"},
        contactsLocationsModule={"locations": [{
            "facility": f"Clinic {SCRIPT}", "city": "Boston", "state": "Massachusetts",
            "country": "United States", "status": "RECRUITING",
            "geoPoint": {"lat": 42.3601, "lon": -71.0589},
            "contacts": [{"name": f"Dr {IMG}", "email": "a@example.org"}]}]},
    )


def shared_question_study(nct_id: str, title: str, extra: str) -> dict[str, Any]:
    return study(
        nct_id, title=title,
        eligibilityModule={
            "eligibilityCriteria": f"Inclusion Criteria:\n\n* {SHARED_CRITERION}\n* {extra}\n\n"
                                   "Exclusion Criteria:\n\n* Received denosumab within the "
                                   "past 6 months",
            "sex": "FEMALE", "minimumAge": "50 Years"},
        contactsLocationsModule={"locations": [{
            "facility": "Hospital of the Test", "city": "Lyon", "country": "France",
            "status": "RECRUITING", "geoPoint": {"lat": 45.764, "lon": 4.8357}}]},
    )


def web_studies() -> list[dict[str, Any]]:
    return [hostile_study(),
            shared_question_study(SHARED_A, "Calcium and bone density after menopause",
                                  "Bone density T-score below -2.5"),
            shared_question_study(SHARED_B, "Walking programme for bone health",
                                  "Able to walk 100 metres without help")]
