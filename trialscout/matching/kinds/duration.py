"""Disease duration: how long the patient has had the criterion's condition.

The onset comes from a structured condition (its onset date, else the day it was first
recorded, which bounds the onset from above) or from the note sentence that mentions it
("diabetes for 6 years", "diagnosed in 2015", "at age 50"). Durations are compared at the
match's reference date; a date known only to the year leaves a duration that straddles
the bound unknown, and no time in the record is unknown, never met.
"""

from __future__ import annotations

from trialscout.criteria.model import Constraint, TimeWindow
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import Evidence
from trialscout.matching.outcome import (
    SYMBOL,
    UNIT_DAYS,
    Outcome,
    constraint_label,
    fact_evidence,
    note_evidence,
    targets,
)
from trialscout.matching.timing import condition_time, fits, note_time, window_days
from trialscout.patients.times import EventTime


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
    if days is None:
        return Outcome(None, f"how long {label} must have lasted is not understood",
                       no_information=True)
    window = TimeWindow(relation="duration", days=days, comparator=comparator)
    bound = f"required {SYMBOL.get(comparator, comparator)} {_years(days)}"
    found: tuple[bool | None, str, Evidence] | None = None
    for cond in facts.profile.conditions:
        if facts.sentences and cond.source is not None and cond.source.kind == "note":
            continue  # read again from its sentence below, with the date's precision
        if facts.best_relation(cond.concept, cond.name, ids, texts) not in {"same", "narrower"}:
            continue
        if cond.onset is None and cond.recorded is None:
            continue
        ok = fits(window, condition_time(cond), facts.ref, event=True, recorded=cond.recorded)
        since = f"since {cond.onset}" if cond.onset else f"recorded on {cond.recorded}"
        found = (ok, f"{label} {since}", fact_evidence(cond, f"{cond.name} {since}"))
        if ok is not None:
            break
    if found is None or found[0] is None:
        for hit in facts.note_hits(ids, texts):
            if not hit.positive:
                continue
            time = note_time(hit, facts)
            if time.start is None and time.duration_days is None:
                continue
            ok = fits(window, time, facts.ref, event=True)
            found = (ok, f"{label} {_lasted(time, facts)}", note_evidence(hit.sentence))
            if ok is not None:
                break
    if found is None:
        denial = _denial(facts, ids, texts)
        if denial is not None:
            # a duration presupposes the condition: without it, no length is met
            return Outcome(False, f"{label}: recorded as absent", [denial])
        return Outcome(None, f"how long the patient has had {label} is not recorded",
                       no_information=True)
    ok, said, evidence = found
    if ok is None:
        return Outcome(None, f"{said}: not precise enough to tell, {bound}", [evidence])
    return Outcome(ok, f"{said}, {bound}", [evidence])


def _years(days: float) -> str:
    years = days / 365.25
    if years < 1:
        return f"{days / 30.4375:.0f} months"
    return f"{years:.1f} years"


def _lasted(time: EventTime, facts: PatientFacts) -> str:
    if time.duration_days is not None:
        return f"for {_years(time.duration_days)}"
    assert time.start is not None
    low, high = time.start
    if low == high:
        return f"for {_years(float((facts.ref - low).days))}"
    return f"since {low.year}" if low.year == high.year else f"since {low} to {high}"


def _denial(facts: PatientFacts, ids: list[str], texts: list[str]) -> Evidence | None:
    """A record that the patient does not have the condition (or anything broader), and
    no mention that she does."""
    if any(hit.positive for hit in facts.note_hits(ids, texts)):
        return None
    for denied in facts.profile.denied:
        if denied.kind in {"condition", "finding"} and facts.denies(
                denied.concept, denied.name, ids, texts):
            return fact_evidence(denied, f"denied: {denied.name}")
    for hit in facts.note_hits(ids, texts):
        if hit.negated and not hit.family and not hit.hypothetical:
            return note_evidence(hit.sentence)
    return None
