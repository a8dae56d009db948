"""A trial's sites as inquiry targets: stable keys, nearest first, and who receives.

A site's key is a short hash of its facility, city and country, so it survives the
registry reordering its list. The recipient of an inquiry that no coordinator has
claimed is the first email address among the site's contacts, else among the trial's
central contacts: only addresses the registry record lists.
"""

from __future__ import annotations

import hashlib

from trialscout.registry.model import Contact, Site, Trial

ALL_SITES = "*"
CENTRAL = "central"


def site_key(site: Site) -> str:
    text = "|".join((site.facility or "", site.city or "", site.country or "")).lower()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def site_label(site: Site) -> str:
    place = ", ".join(p for p in (site.city, site.state, site.country) if p)
    return " — ".join(p for p in (site.facility or "Study site", place) if p)


def find_site(trial: Trial, key: str) -> Site | None:
    for site in trial.sites:
        if site_key(site) == key:
            return site
    return None


def _first_email(contacts: list[Contact]) -> str | None:
    for contact in contacts:
        if contact.email and "@" in contact.email:
            return contact.email.strip()
    return None


def recipient_email(trial: Trial, key: str) -> str | None:
    """The site's contact address, else the central contact's, from the record."""
    site = find_site(trial, key) if key != CENTRAL else None
    return (_first_email(site.contacts) if site is not None else None) or _first_email(
        trial.central_contacts)


def record_emails(trial: Trial, key: str) -> list[str]:
    """Addresses on the record that may claim ``key``: the site's own contacts (a site
    claim), or the central contacts (every site, or the whole trial)."""
    found: list[str] = []
    site = find_site(trial, key) if key not in (ALL_SITES, CENTRAL) else None
    sources = (site.contacts if site is not None else []) + list(trial.central_contacts)
    if key == ALL_SITES:
        sources = list(trial.central_contacts)
    for contact in sources:
        email = (contact.email or "").strip()
        if "@" in email and email.lower() not in {f.lower() for f in found}:
            found.append(email)
    return found


def label_for(trial: Trial, key: str) -> str | None:
    if key == CENTRAL:
        return "The trial's central contact"
    if key == ALL_SITES:
        return "All sites"
    site = find_site(trial, key)
    return site_label(site) if site is not None else None
