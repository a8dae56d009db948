"""Performance status: ECOG and Karnofsky (each read from the other when only one is
recorded)."""

from __future__ import annotations

import re

from trialscout.criteria.model import Constraint
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import Evidence
from trialscout.matching.outcome import Outcome, bound_text, compare

_ECOG_FROM_KPS = ((90, 0), (70, 1), (50, 2), (30, 3), (10, 4), (0, 5))
_KPS_FROM_ECOG = {0: 100, 1: 80, 2: 60, 3: 40, 4: 20, 5: 0}
_PERFORMANCE_SCALES = frozenset({"ecog", "karnofsky", "lansky", "performance_status"})


def performance(facts: PatientFacts, c: Constraint) -> Outcome:
    q = c.quantity
    p = facts.profile
    text = " ".join(filter(None, [c.text, c.concept.id if c.concept else None])).lower()
    karnofsky = bool(re.search(r"karnofsky|kps|lansky", text))
    if q is None:
        return Outcome(None, "performance status bound not understood")
    concept = c.concept.id if c.concept else ""
    if concept and concept not in _PERFORMANCE_SCALES and not karnofsky:
        # NYHA or ASA class is a scale of its own: an ECOG value says nothing about it
        name = c.concept.name if c.concept else concept
        return Outcome(None, f"{name} is not recorded", no_information=True)
    value: float | None
    if karnofsky:
        value = p.karnofsky if p.karnofsky is not None else (
            _KPS_FROM_ECOG[p.ecog] if p.ecog is not None else None)
        scale = "Karnofsky"
    else:
        value = p.ecog if p.ecog is not None else (
            next(e for k, e in _ECOG_FROM_KPS if p.karnofsky >= k)
            if p.karnofsky is not None else None)
        scale = "ECOG"
    if value is None:
        return Outcome(None, "performance status is not recorded", no_information=True)
    ok = compare(float(value), q.comparator, q.value, q.value_high)
    bound = bound_text(q.comparator, q.value, q.value_high, None)
    return Outcome(ok, f"{scale} {value:g}, required {bound}",
                   [Evidence(kind="fact", fact_id="ecog" if scale == "ECOG" else "karnofsky",
                             text=f"{scale} {value:g}")])
