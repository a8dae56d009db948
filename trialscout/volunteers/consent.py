"""The consent text of the volunteer registry, by version.

A new wording is a new entry with a new version; old entries stay, because every consent
record names the version the person agreed to and must still be readable.
"""

from __future__ import annotations

CONSENT_TEXTS: dict[str, str] = {
    "2026-12-07": (
        "I want to hear about clinical trials that may suit me. I agree that TrialScout "
        "keeps the categories, place and radius I choose here, with the age and sex of my "
        "profile and whether I volunteer as a healthy person, to find such trials and tell "
        "me about them by email. TrialScout does not give my name, email address or "
        "answers to anyone: administrators see only how many volunteers there are per "
        "category and per area. I can change or withdraw this at any time with one click; "
        "withdrawing removes me from every list at once. Joining is not a promise to take "
        "part in any trial, and no trial team will contact me through this registry."),
}
CURRENT_CONSENT = "2026-12-07"


def consent_text(version: str = CURRENT_CONSENT) -> str:
    """The wording of ``version`` (KeyError for a version that never existed)."""
    return CONSENT_TEXTS[version]
