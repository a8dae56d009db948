"""Measurements: a lab or vital value against the criterion's bound (units converted,
multiples of the upper limit of normal resolved), or a note saying it is normal."""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache
from typing import Any

from trialscout.criteria.model import Constraint
from trialscout.matching.facts import PatientFacts
from trialscout.matching.outcome import (
    Outcome,
    bound_text,
    compare,
    constraint_label,
    fact_evidence,
    note_evidence,
)
from trialscout.matching.rules import load_rules
from trialscout.matching.timing import window_days
from trialscout.matching.units import UnitError, convert, converts_by_analyte


@cache
def _analyte_extras() -> dict[str, Any]:
    return load_rules("analytes")


def _analyte_ids(facts: PatientFacts, c: Constraint) -> set[str]:
    out: set[str] = set()
    for concept in ([c.concept] if c.concept else []) + list(c.any_of):
        if concept.id:
            out.add(concept.id)
        for text in (concept.text, concept.name):
            if text:
                out.add(facts.index.analyte(text))
    return out


def measurement(facts: PatientFacts, c: Constraint) -> Outcome:
    q = c.quantity
    ids = _analyte_ids(facts, c)
    label = constraint_label(c)
    if not ids:
        return Outcome(None, "which measurement is meant is not understood")
    if q is not None and q.comparator == "eq":
        # A lab value is never required to equal a number: "creatinine 1.5 x ULN" lost
        # its "<=" (some sources strip such characters).
        return Outcome(None, f"{label}: which way the bound goes is not stated")
    values = [m for m in facts.profile.measurements
              if m.value is not None and (m.analyte in ids or facts.index.analyte(m.name) in ids)]
    days = window_days(c.window)
    if c.window is not None and c.window.relation == "within" and days is not None:
        cutoff = facts.ref - timedelta(days=days)
        values = [m for m in values if m.date is None or m.date >= cutoff]
    if q is None:
        if values:
            return Outcome(None, f"{label} is recorded but the criterion has no bound",
                           [fact_evidence(values[-1], f"{values[-1].name} {values[-1].value:g}")])
        return Outcome(None, f"no {label} value recorded", no_information=True)
    analyte = next(iter(sorted(ids)), None)
    extras = _analyte_extras()
    target_unit = q.unit
    bound, high = q.value, q.value_high
    if q.normalized_unit and q.normalized_value is not None:
        target_unit, bound, high = q.normalized_unit, q.normalized_value, q.normalized_value_high
    uln = False
    if target_unit and "uln" in target_unit.lower().replace(" ", ""):
        spec = next((extras["uln"][a] for a in ids if a in extras["uln"]), None)
        if spec is None:
            return _normal_cue(facts, ids, q.comparator, label, uln=True,
                               required=c.polarity == "required")
        uln = True
        bound = bound * float(spec["value"])
        high = high * float(spec["value"]) if high is not None else None
        target_unit = str(spec["unit"])
    if not values:
        return _normal_cue(facts, ids, q.comparator, label, uln=uln,
                           required=c.polarity == "required")
    latest = max(values, key=lambda m: (m.date or date.min))
    assert latest.value is not None
    try:
        for candidate in ids:
            analyte = candidate
            if converts_by_analyte(candidate):
                break
        value = convert(latest.value, latest.unit, target_unit, analyte) \
            if (latest.unit or target_unit) else latest.value
    except UnitError:
        return Outcome(None, f"{label} {latest.value:g} {latest.unit or ''} cannot be compared "
                       f"with {target_unit}", [fact_evidence(latest, latest.text or latest.name)])
    ok = compare(value, q.comparator, bound, high)
    shown = f"{latest.name} {latest.value:g} {latest.unit or ''}".strip()
    if latest.unit and target_unit and latest.unit != target_unit:
        shown += f" (= {value:.3g} {target_unit})"
    note = " (typical upper limit of normal)" if uln else ""
    return Outcome(ok, f"{shown}, required {bound_text(q.comparator, bound, high, target_unit)}"
                   f"{note}", [fact_evidence(latest, shown)])


def _normal_cue(facts: PatientFacts, ids: set[str], comparator: str, label: str, *,
                uln: bool, required: bool) -> Outcome:
    """A note that says a lab (or organ function) is normal.

    Against a multiple of the upper limit of normal the answer follows from the bound
    ("> 3 x ULN" is false, "<= 1.5 x ULN" true). Against an absolute bound, a normal value
    is read as adequate: it satisfies the criterion, whichever way the bound points.
    """
    cues = _analyte_extras().get("normal_cues", {})
    for analyte in ids:
        for pattern in cues.get(analyte, []):
            found = facts.note_search(re.compile(pattern, re.IGNORECASE))
            if found:
                sentence, _m = found[0]
                holds = comparator in {"lt", "le"} if uln else required
                return Outcome(holds, f"{label}: the note says it is normal",
                               [note_evidence(sentence)])
    return Outcome(None, f"no {label} value recorded", no_information=True)
