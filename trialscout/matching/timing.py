"""Whether something in the record happened in the time a criterion asks about: windows
("within 6 months", "more than 2 years ago", "currently") and durations.

All checks are made at one reference date (``PatientFacts.ref``, the match's
``MatchOptions.reference_date`` or ``--as-of``). Times come from FHIR and form facts, or
from the note sentence of a mention (:func:`trialscout.patients.times.event_time`). A time
the record does not give leaves the answer unknown, never met: "last injection 7 months
ago" is outside "within the past 6 months", a mention with no time is neither inside nor
outside, and a history of a treatment that ended is not "currently receiving" it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from trialscout.criteria.model import Constraint, TimeWindow
from trialscout.matching.facts import NoteHit, PatientFacts
from trialscout.matching.model import Evidence
from trialscout.matching.outcome import SYMBOL, UNIT_DAYS, Outcome, compare
from trialscout.patients.model import Condition, Medication
from trialscout.patients.times import EventTime, event_time


def window_days(window: TimeWindow | None) -> float | None:
    if window is None:
        return None
    if window.days is not None:
        return window.days
    if window.amount is not None and window.unit is not None:
        return window.amount * UNIT_DAYS[window.unit]
    return None



def timing_ok(window: TimeWindow | None, start: date | None, end: date | None,
               active: bool | None, ref: date, event: bool) -> bool | None:
    """Whether something that happened (start..end, or still ``active``) fits the window."""
    if window is None or window.relation == "ever":
        return True
    days = window_days(window)
    if window.relation == "current":
        if end is not None and end < ref:
            return False
        return True if active else None
    if window.relation == "within":
        if days is None:
            return None
        cutoff = ref - timedelta(days=days)
        if event:
            moment = end or start
            return None if moment is None else moment >= cutoff
        if end is not None:
            return end >= cutoff
        if active:
            return True
        if start is not None and start >= cutoff:
            return True
        return None
    if window.relation == "before":
        if days is None or start is None:
            return None
        return start <= ref - timedelta(days=days)
    if window.relation == "duration":
        if days is None or start is None:
            return None
        return compare(float((ref - start).days), window.comparator or "ge", days)
    return None



def window_text(window: TimeWindow) -> str:
    if window.relation == "current":
        return " (currently)"
    if window.relation == "ever":
        return ""
    amount = f"{window.amount:g} {window.unit}s" if window.amount is not None and \
        window.unit else "the stated time"
    return {"within": f" within {amount}", "before": f" more than {amount} ago",
            "duration": f" for {SYMBOL.get(window.comparator or 'ge', '≥')} {amount}"}.get(
        window.relation, "")



# ---------------------------------------------------------------------- times with ranges
Range = tuple[date, date]


def _in_window(moment: Range, cutoff: date) -> bool | None:
    """Whether a moment known to lie in ``moment`` is on or after ``cutoff``: None when
    the range straddles it ("in 2023" against "within 12 months" of June 2024)."""
    if moment[0] >= cutoff:
        return True
    if moment[1] < cutoff:
        return False
    return None


def _both(low: bool, high: bool) -> bool | None:
    return low if low == high else None


def _point(day: date | None) -> Range | None:
    return None if day is None else (day, day)


def fits(window: TimeWindow | None, time: EventTime, ref: date, *, event: bool,
         recorded: date | None = None) -> bool | None:
    """Whether what ``time`` says about one thing fits the criterion's window.

    ``event``: a diagnosis, fracture or operation (it happened at its start, or at its
    end when it has one); otherwise an exposure (a drug or treatment: it covers start..end,
    is still going on when current, and its last dose is its last moment). Unknown times,
    or date ranges that straddle the window's edge, give None, never True.
    ``recorded``: a day on or after the onset, when the onset itself is unknown.
    """
    if window is None or window.relation == "ever":
        return True
    days = window_days(window)
    if window.relation == "current":
        if time.end is not None and time.end[1] < ref:
            return False
        if time.current is not None:
            return time.current
        return None
    if days is None:
        return None
    cutoff = ref - timedelta(days=days)
    latest = time.end or time.last
    if window.relation == "within":
        if event:
            moment = latest or time.start
            return None if moment is None else _in_window(moment, cutoff)
        if latest is not None:
            return _in_window(latest, cutoff)
        if time.current:
            return True
        if time.start is not None and time.start[0] >= cutoff:
            return True
        return None
    if window.relation == "before":
        if event:
            moment = time.start or latest
        else:
            if time.current:
                return False
            moment = latest
            if moment is None and time.start is not None and time.start[0] > cutoff:
                return False
        if moment is None:
            return None
        inside = _in_window(moment, cutoff + timedelta(days=1))
        return None if inside is None else not inside
    if window.relation == "duration":
        comparator = window.comparator or "ge"
        if time.duration_days is not None and time.start is None:
            # "took it for 2 years" (when is not said): the stated length is the answer
            return compare(time.duration_days, comparator, days)
        stop = (time.end or time.last) if time.current is not True else None
        if time.start is None:
            if recorded is None or stop is not None:
                return None
            lasted = float((ref - recorded).days)
            # the onset was on or before ``recorded``: it has lasted at least that long
            if comparator in {"ge", "gt"} and compare(lasted, comparator, days):
                return True
            if comparator in {"le", "lt"} and not compare(lasted, comparator, days):
                return False
            return None
        until = stop or (ref, ref)
        shortest = float((until[0] - time.start[1]).days)
        longest = float((until[1] - time.start[0]).days)
        return _both(compare(shortest, comparator, days), compare(longest, comparator, days))
    return None


def medication_time(med: Medication, ref: date) -> EventTime:
    """A structured medication's times: its status says whether it is current.

    A form's or profile's medication list is what the person takes, so an entry without
    a status or an end is current; a FHIR or note entry without one ("intended",
    "on-hold", a bare mention) does not say."""
    current: bool | None = None
    listed = med.source is None or med.source.kind in {"form", "answer"}
    if med.stop is not None and med.stop < ref:
        current = False
    elif med.status == "active":
        current = True
    elif med.status in {"completed", "stopped"}:
        current = False
    elif listed and med.stop is None and med.last_dose is None:
        current = True
    return EventTime(start=_point(med.start), end=_point(med.stop),
                     last=_point(med.last_dose), current=current)


def condition_time(cond: Condition) -> EventTime:
    """A structured condition's times: active ones are current, resolved ones ended."""
    over = cond.status == "resolved"
    return EventTime(start=_point(cond.onset), end=_point(cond.abatement) if over else None,
                     current=not over)


def medication_fits(window: TimeWindow | None, med: Medication, ref: date) -> bool | None:
    return fits(window, medication_time(med, ref), ref, event=False)


def note_fits(window: TimeWindow | None, hit: NoteHit, facts: PatientFacts, kind: str
              ) -> bool | None:
    """Whether a note mention fits the window, from the times its sentence gives it.

    A mention with no time says nothing about "within" or "before" (None). For
    "currently", an end or a past-tense statement fails it, a present-tense one passes, a
    mention marked historical ("history of") stays open, and a bare mention counts as
    current, as a note lists what the patient has."""
    if window is None or window.relation == "ever":
        return True
    exposure = kind == "medication" or _is_treatment(hit, facts)
    time = note_time(hit, facts, "medication" if exposure else "condition")
    if window.relation == "current":
        told = fits(window, time, facts.ref, event=not exposure)
        if told is not None:
            return told
        if time.last is not None:
            return None
        return None if hit.historical else True
    return fits(window, time, facts.ref, event=not exposure)


def note_time(hit: NoteHit, facts: PatientFacts, kind: str = "condition") -> EventTime:
    """The times a note sentence gives a mention. "7 months ago" counts back from the day
    the note was written (the profile's ``recorded_on``), which a later match's reference
    date does not move; windows are then checked at the match's reference date."""
    written = facts.profile.recorded_on or facts.ref
    age = facts.profile.age_on(written)
    return event_time(hit.sentence.text, hit.start, hit.end, written, kind=kind, age=age)


_TREATMENT = re.compile(r"(?:therapy|chemo\w*|radiation|dialysis|infusion|treatment|"
                        r"immunotherapy|transfusion)$", re.IGNORECASE)


def _is_treatment(hit: NoteHit, facts: PatientFacts) -> bool:
    """Treatments read as procedures (chemotherapy, dialysis) last, like drugs."""
    text = hit.sentence.text[hit.start:hit.end]
    concept = facts.index.lookup(text)
    kind = facts.index.kind(concept) if concept else None
    return kind in {"drug", "drug_class"} or bool(_TREATMENT.search(text.strip()))


def smoking_outcome(facts: PatientFacts, constraint: Constraint) -> Outcome | None:
    """Smoking checked against the record's smoking status (never / former / current)
    rather than the word "smoking" in a sentence: "quit smoking 10 years ago" is no current
    smoking, and "never smoked" rules out any. A former smoker against a bare "smoker" is
    left open (it often means a current one), and a window with a date needs the quit date,
    which the status does not give. None when the status does not decide."""
    c = constraint.concept
    status = facts.profile.smoking
    if c is None or c.id != "smoking" or len(constraint.any_of) > 1 \
            or constraint.kind not in {"condition", "other"}:
        return None
    relation = constraint.window.relation if constraint.window is not None else None
    if status is None and facts.profile.pack_years is not None and relation == "current":
        said = f"{facts.profile.pack_years:g} pack-years"
        return Outcome(None, f"smoking is recorded ({said}), but not whether current",
                       [Evidence(kind="fact", fact_id="pack_years", text=said)])
    if status is None:
        return None
    holds: bool | None
    if status == "never":
        holds = False
    elif relation == "current":
        holds = status == "current"
    elif relation == "ever" or (status == "current" and relation in {None, "within"}):
        holds = True
    else:
        holds = None
    if holds is None:
        return None
    scope = " (currently)" if relation == "current" else ""
    said = f"smoking status: {status}"
    verdict = "found in the record" if holds else "ruled out by the record"
    return Outcome(holds, f"smoking{scope}: {verdict} ({said})",
                   [Evidence(kind="fact", fact_id="smoking", text=said)])
