"""A signed-in member's verdict for each trial of an alert, through matching's public API.

The member's profile is what the web keeps for their account (the form's age, sex and
place and the uploaded medical record in the account's home session). Remembered
self-check answers are left out here: the email says "likely", "possibly" or "not
eligible" as a first hint and links to the trial page, which uses everything.
"""

from __future__ import annotations

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
    from trialscout.accounts.tables import AccountRow
    from trialscout.patients.model import PatientProfile
    from trialscout.patients.store import PatientNotFound, load_profile
    from trialscout.sessions.tables import SessionPatientRow, WebSessionRow

    account_id = account_of(owner)
    if account_id is None:
        return None
    home = conn.execute(select(AccountRow.home_hash).where(AccountRow.id == account_id)
                        ).scalar_one_or_none()
    if home is None:
        return None
    form_json = conn.execute(select(WebSessionRow.profile).where(WebSessionRow.id_hash == home)
                             ).scalar_one_or_none()
    patient_id = conn.execute(select(SessionPatientRow.patient_id).where(
        SessionPatientRow.session_hash == home)).scalar_one_or_none()
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
