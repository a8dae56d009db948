"""Pregnancy, lactation and menopause, including women of childbearing potential."""

from __future__ import annotations

import re

from trialscout.criteria.model import Constraint
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import Evidence
from trialscout.matching.outcome import Outcome, compare
from trialscout.matching.timing import window_days, window_text

MENOPAUSE_AGES = (40.0, 60.0)


_CHILDBEARING = re.compile(r"child[- ]?bearing|reproductive potential|able to (?:become|get) "
                           r"pregnant|fertile", re.IGNORECASE)


_CONTRACEPTION = re.compile(r"contracept|birth control|pregnancy test|abstinen|"
                            r"childbearing|child-bearing|agree|willing", re.IGNORECASE)


def _menopause(facts: PatientFacts) -> tuple[str | None, Evidence]:
    """The recorded menopause status, else the one a woman's age makes near certain:
    menopause before 40 or after 60 is rare."""
    p = facts.profile
    if p.menopause is not None:
        return p.menopause, Evidence(kind="fact", fact_id="menopause",
                                     text=f"menopause: {p.menopause}")
    status = None
    if p.sex == "female" and facts.age is not None:
        if facts.age < MENOPAUSE_AGES[0]:
            status = "premenopausal"
        elif facts.age >= MENOPAUSE_AGES[1]:
            status = "postmenopausal"
    return status, Evidence(kind="fact", fact_id="age", text=f"age {facts.age or 0:.0f}")


def reproductive_status(facts: PatientFacts, c: Constraint) -> Outcome:
    """Pregnancy, lactation and menopause, including women of childbearing potential."""
    p = facts.profile
    male = p.sex == "male"
    if c.kind in {"pregnancy", "lactation"} and c.polarity == "required" \
            and _CONTRACEPTION.search(c.text):
        # "Women of childbearing potential must use contraception": not a call to be
        # pregnant; the patient confirms it (or it does not apply to them).
        if male and not re.search(r"\bmale|\bmen\b|partner", c.text, re.IGNORECASE):
            return Outcome(True, "not applicable to a male patient", applicable=False)
        return Outcome(None, "contraception or a pregnancy test: confirmed at screening",
                       no_information=True)
    menopause, menopause_ev = _menopause(facts)
    if c.kind == "pregnancy" and (_CHILDBEARING.search(c.text) or (
            c.concept is not None and c.concept.id == "childbearing_potential")):
        if male:
            return Outcome(False, "not applicable to a male patient", applicable=False)
        if menopause == "postmenopausal":
            # "Women of childbearing potential must ...": a scope, so it does not apply.
            return Outcome(False, "postmenopausal: not of childbearing potential",
                           [menopause_ev], applicable=c.polarity == "must_not")
        if p.pregnant:
            return Outcome(True, "currently pregnant",
                           [Evidence(kind="fact", fact_id="pregnant", text="pregnant")])
        return Outcome(None, "childbearing potential is not recorded", no_information=True)
    if c.kind in {"pregnancy", "lactation"}:
        attr = "pregnant" if c.kind == "pregnancy" else "lactating"
        word = "pregnant" if c.kind == "pregnancy" else "breastfeeding"
        if male:
            return Outcome(False, f"not applicable to a male patient ({word})",
                           applicable=False)
        value = getattr(p, attr)
        if value is None and menopause == "postmenopausal":
            # like a man, she is outside what an exclusion of pregnancy is about; an
            # inclusion that asks for a pregnancy still fails
            return Outcome(False, f"postmenopausal: not {word}", [menopause_ev],
                           applicable=c.polarity != "must_not")
        if value is None:
            return Outcome(None, f"whether the patient is {word} is not recorded",
                           no_information=True)
        return Outcome(bool(value), f"{'is' if value else 'is not'} {word}",
                       [Evidence(kind="fact", fact_id=attr, text=f"{word}: {value}")])
    target = None
    for raw in (c.value, c.concept.id if c.concept else None, c.text):
        if raw:
            low = raw.lower()
            target = next((t for t in ("postmenopausal", "premenopausal", "perimenopausal")
                           if t[:4] in low), None)
            if target is None and "menopaus" in low:
                target = "postmenopausal"
            if target:
                break
    if male:
        return Outcome(False, "not applicable to a male patient (menopause)", applicable=False)
    if target is None:
        return Outcome(None, "menopause requirement not understood")
    status, menopause_ev = _menopause(facts)
    reason = "" if status == p.menopause else \
        f"menopause not recorded; {status} at age {facts.age or 0:.0f}"
    if status is None:
        return Outcome(None, "menopause status is not recorded", no_information=True)
    ok: bool | None = status == target
    reason = reason or f"patient is {status}, criterion asks {target}"
    days = window_days(c.window)
    if ok and c.window is not None and days is not None and target == "postmenopausal":
        if p.menopause_date is None:
            return Outcome(None, "postmenopausal, but since when is not recorded"
                           + window_text(c.window), [menopause_ev])
        since = (facts.ref - p.menopause_date).days
        ok = compare(float(since), c.window.comparator or "ge", days) \
            if c.window.relation in {"duration", "before"} else since <= days
        reason = f"postmenopausal for {since / 365.25:.1f} years{window_text(c.window)}"
    return Outcome(ok, reason, [menopause_ev])

