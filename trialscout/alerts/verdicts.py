"""A signed-in member's verdict for each trial of an alert, through matching's public API.

The member's profile is what the web keeps for their account (the form's age, sex and
place and the uploaded medical record in the account's home session). Remembered
self-check answers are left out here: the email says "likely", "possibly" or "not
eligible" as a first hint and links to the trial page, which uses everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, select

from trialscout.accounts.owners import account_of

if TYPE_CHECKING:
    from trialscout.app import TrialScout
    from trialscout.patients.model import PatientProfile

LABELS = {"eligible": "You are likely eligible", "possibly_eligible": "You may be eligible",
          "not_eligible": "You are likely not eligible"}


def member_profile(conn: Connection, owner: str) -> PatientProfile | None:
    """The member's profile, or None (anonymous owner, or nothing entered)."""
    return member_profiles(conn, [owner]).get(owner)


def member_profiles(conn: Connection, owners: Iterable[str]) -> dict[str, PatientProfile]:
    """The profiles of the members among ``owners`` who have one, in a few queries for a
    whole chunk of saved searches (a digest day reads one per saved search)."""
    from trialscout.accounts.tables import AccountRow
    from trialscout.sessions.tables import SessionPatientRow, WebSessionRow

    accounts = {owner: account_id for owner in set(owners)
                if (account_id := account_of(owner)) is not None}
    if not accounts:
        return {}
    homes: dict[int, str] = {}
    ids = sorted(set(accounts.values()))
    for start in range(0, len(ids), 500):
        homes.update(conn.execute(select(AccountRow.id, AccountRow.home_hash).where(
            AccountRow.id.in_(ids[start:start + 500]))).all())
    hashes = sorted(set(homes.values()))
    forms: dict[str, str | None] = {}
    patients: dict[str, int] = {}
    for start in range(0, len(hashes), 500):
        part = hashes[start:start + 500]
        forms.update(conn.execute(select(WebSessionRow.id_hash, WebSessionRow.profile).where(
            WebSessionRow.id_hash.in_(part), WebSessionRow.profile.isnot(None))).all())
        patients.update(conn.execute(select(SessionPatientRow.session_hash,
                                            SessionPatientRow.patient_id).where(
            SessionPatientRow.session_hash.in_(part))).all())
    out = {}
    for owner, account_id in accounts.items():
        home = homes.get(account_id)
        if home is None:
            continue
        profile = _assemble(conn, forms.get(home), patients.get(home))
        if profile is not None:
            out[owner] = profile
    return out


def _assemble(conn: Connection, form_json: str | None, patient_id: int | None
              ) -> PatientProfile | None:
    """The form's age and sex over the uploaded record's facts."""
    from trialscout.patients.model import PatientProfile
    from trialscout.patients.store import PatientNotFound, load_profile

    data: dict[str, Any] = {}
    if patient_id is not None:
        try:
            data = load_profile(conn, patient_id).profile.model_dump(exclude={"answers"})
        except PatientNotFound:
            data = {}
    form = orjson.loads(form_json) if form_json else {}
    if form.get("age") is not None:
        data.update(age_years=form["age"], birth_date=None, recorded_on=None)
    if form.get("sex"):
        data["sex"] = str(form["sex"]).lower()
    if not data:
        return None
    return PatientProfile.model_validate(data)


def verdicts(app: TrialScout, profile: PatientProfile, nct_ids: list[str]) -> dict[str, str]:
    """nct_id -> verdict label, each trial evaluated up to its first sure failure."""
    from trialscout.matching.engine import match_trials, parsed_lookup
    from trialscout.matching.rank import sure_failure
    from trialscout.store.trials import load_trials

    with app.engine.connect() as conn:
        trials = list(load_trials(conn, nct_ids).values())
    if not trials:
        return {}
    lookup = parsed_lookup(app)
    lookup.prefetch([t.nct_id for t in trials])
    matches = match_trials(profile, trials, lookup, reference_date=date.today(),
                           stop_at_failure=True, stop_confidence=sure_failure())
    return {m.nct_id: m.verdict for m in matches}
