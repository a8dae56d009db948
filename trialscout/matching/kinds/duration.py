"""Disease duration: how long the patient has had the criterion's condition."""

from __future__ import annotations

from datetime import date

from trialscout.criteria.model import Constraint
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import Evidence
from trialscout.matching.outcome import (
    SYMBOL,
    UNIT_DAYS,
    Outcome,
    compare,
    constraint_label,
    fact_evidence,
    note_evidence,
    targets,
)
from trialscout.matching.timing import window_days
from trialscout.patients.notes import implied_date


def duration(facts: PatientFacts, c: Constraint) -> Outcome:
    ids, texts = targets(c)
    label = constraint_label(c)
    days = window_days(c.window)
    comparator = (c.window.comparator if c.window else None) or (
        c.quantity.comparator if c.quantity else "ge")
    if days is None and c.quantity is not None:
        unit = (c.quantity.unit or "year").lower()
        days = c.quantity.value * next((UNIT_DAYS[u] for u in UNIT_DAYS if unit.startswith(u)),
                                       365.25)
    onset: tuple[date, Evidence] | None = None
    for cond in facts.profile.conditions:
        if cond.onset is not None and facts.best_relation(
                cond.concept, cond.name, ids, texts) in {"same", "narrower"}:
            onset = (cond.onset, fact_evidence(cond, f"{cond.name} since {cond.onset}"))
            break
    if onset is None:
        for hit in facts.note_hits(ids, texts):
            if hit.positive:
                when = implied_date(hit.sentence.text, hit.start, hit.end, facts.ref)
                if when is not None:
                    onset = (when, note_evidence(hit.sentence))
                    break
    if onset is None or days is None:
        return Outcome(None, f"how long the patient has had {label} is not recorded",
                       no_information=True)
    lasted = (facts.ref - onset[0]).days
    ok = compare(float(lasted), comparator, days)
    return Outcome(ok, f"{label} for {lasted / 365.25:.1f} years, required "
                   f"{SYMBOL.get(comparator, comparator)} {days / 365.25:.1f} years", [onset[1]])
