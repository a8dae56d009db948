"""Age and sex."""

from __future__ import annotations

import re

from trialscout.criteria.model import Constraint
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import Evidence
from trialscout.matching.outcome import UNIT_DAYS, Outcome, bound_text, compare


def age(facts: PatientFacts, c: Constraint) -> Outcome:
    q = c.quantity
    if q is None:
        return Outcome(None, "age bound not understood")
    if facts.age is None:
        return Outcome(None, "age is not known", no_information=True)
    unit = (q.unit or "year").lower()
    scale = next((UNIT_DAYS[u] for u in UNIT_DAYS if unit.startswith(u)), 365.25) / 365.25
    value, high = q.value * scale, (q.value_high * scale if q.value_high is not None else None)
    ok = compare(facts.age, q.comparator, value, high)
    ev = Evidence(kind="fact", fact_id="age", text=f"age {facts.age:.0f}")
    bound = bound_text(q.comparator, value, high, "years")
    return Outcome(ok, f"age {facts.age:.0f}, required {bound}", [ev])


_FEMALE = re.compile(r"\b(?:female|females|women|woman|girls?|ladies)\b", re.IGNORECASE)
_MALE = re.compile(r"\b(?:male|males|men|man|boys?)\b", re.IGNORECASE)
_ANY_SEX = re.compile(r"\b(?:both|either|any|all)\s+(?:sexes|sex|genders?)\b", re.IGNORECASE)


def _sex_target(c: Constraint) -> str | None:
    for raw in (c.value, c.concept.id if c.concept else None):
        if raw:
            low = raw.lower()
            if low in {"female", "male", "all"}:
                return low
    if _ANY_SEX.search(c.text):
        return "all"
    female, male = bool(_FEMALE.search(c.text)), bool(_MALE.search(c.text))
    if female and male:
        return "all"
    return "female" if female else "male" if male else None


def sex(facts: PatientFacts, c: Constraint) -> Outcome:
    target = _sex_target(c)
    if target is None:
        return Outcome(None, "sex requirement not understood")
    if target == "all":
        return Outcome(True, "open to all sexes")
    recorded = facts.profile.sex
    if recorded is None:
        return Outcome(None, "sex is not known", no_information=True)
    return Outcome(recorded == target, f"patient is {recorded}, criterion is about {target}",
                   [Evidence(kind="fact", fact_id="sex", text=f"sex: {recorded}")])

