"""Patients: the profile model, its versioned storage, and importers (FHIR R4, free-text notes).

Matching (``trialscout.matching``) reads profiles; it never reaches into how they were made.
"""
