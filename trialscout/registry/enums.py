"""The closed vocabularies of ClinicalTrials.gov API v2, and their legacy XML spellings."""

from __future__ import annotations

OVERALL_STATUSES = frozenset({
    "ACTIVE_NOT_RECRUITING", "COMPLETED", "ENROLLING_BY_INVITATION", "NOT_YET_RECRUITING",
    "RECRUITING", "SUSPENDED", "TERMINATED", "WITHDRAWN", "AVAILABLE", "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE", "APPROVED_FOR_MARKETING", "WITHHELD", "UNKNOWN",
})
STUDY_TYPES = frozenset({"INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"})
PHASES = frozenset({"NA", "EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"})
SEXES = frozenset({"ALL", "FEMALE", "MALE"})
STD_AGES = frozenset({"CHILD", "ADULT", "OLDER_ADULT"})

STATUS_LABELS = {
    "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
    "COMPLETED": "Completed",
    "ENROLLING_BY_INVITATION": "Enrolling by invitation",
    "NOT_YET_RECRUITING": "Not yet recruiting",
    "RECRUITING": "Recruiting",
    "SUSPENDED": "Suspended",
    "TERMINATED": "Terminated",
    "WITHDRAWN": "Withdrawn",
    "AVAILABLE": "Available",
    "NO_LONGER_AVAILABLE": "No longer available",
    "TEMPORARILY_NOT_AVAILABLE": "Temporarily not available",
    "APPROVED_FOR_MARKETING": "Approved for marketing",
    "WITHHELD": "Withheld",
    "UNKNOWN": "Unknown status",
}
PHASE_LABELS = {
    "NA": "Not applicable",
    "EARLY_PHASE1": "Early phase 1",
    "PHASE1": "Phase 1",
    "PHASE2": "Phase 2",
    "PHASE3": "Phase 3",
    "PHASE4": "Phase 4",
}


def legacy_token(text: str) -> str:
    """'Active, not recruiting' -> 'ACTIVE_NOT_RECRUITING'; 'Unknown status' -> 'UNKNOWN'."""
    token = "_".join(text.replace(",", " ").replace("-", " ").replace("/", " ").upper().split())
    return {"UNKNOWN_STATUS": "UNKNOWN", "BOTH": "ALL"}.get(token, token)


def legacy_phases(text: str) -> list[str]:
    """'Phase 1/Phase 2' -> ['PHASE1', 'PHASE2']; 'N/A' -> ['NA']."""
    cleaned = text.strip()
    if cleaned.upper() in {"N/A", "NA"}:
        return ["NA"]
    return ["_".join(p.upper().split()).replace("PHASE_", "PHASE") for p in cleaned.split("/")]
