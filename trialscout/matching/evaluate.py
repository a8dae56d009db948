"""Verdicts for parsed criteria: each constraint's statement is checked against the profile,
then the constraint's polarity turns that truth into pass / fail for the patient.

A constraint's *statement* is its positive reading ("has diabetes", "HbA1c >= 7%", "took a
bisphosphonate in the past year"). ``polarity == "must_not"`` (exclusions, and negated
inclusions) inverts it. An item passes when all of its constraints pass; one failing
constraint fails it; otherwise it stays UNKNOWN and its question goes to the patient.
Self-check answers, keyed by the criteria's normalized question keys, take precedence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import Any

from trialscout.criteria.model import Concept as CriteriaConcept
from trialscout.criteria.model import Constraint, Item, ParsedCriteria, TimeWindow
from trialscout.matching.confidence import failure_confidence
from trialscout.matching.confidence import spec as confidence_spec
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import CriterionVerdict, Evidence, QuestionRef, Verdict
from trialscout.matching.rules import load_rules
from trialscout.matching.units import UnitError, convert
from trialscout.patients.context import default_context
from trialscout.patients.notes import implied_date

UNCHECKABLE = frozenset({"consent", "administrative", "investigator"})
PRESENCE_KINDS = frozenset({"condition", "medication", "procedure", "allergy", "other"})
_UNIT_DAYS = {"hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}
_SYMBOL = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "=", "between": "between"}
MENOPAUSE_AGES = (40.0, 60.0)
_ECOG_FROM_KPS = ((90, 0), (70, 1), (50, 2), (30, 3), (10, 4), (0, 5))
_KPS_FROM_ECOG = {0: 100, 1: 80, 2: 60, 3: 40, 4: 20, 5: 0}


@dataclass
class Outcome:
    """The truth of one constraint's statement for this patient, and why."""

    holds: bool | None
    reason: str
    evidence: list[Evidence] = field(default_factory=list)
    applicable: bool = True
    no_information: bool = False


def compare(x: float, comparator: str, value: float, high: float | None = None) -> bool:
    if comparator == "between":
        upper = value if high is None else high
        return min(value, upper) <= x <= max(value, upper)
    return {"lt": x < value, "le": x <= value, "gt": x > value, "ge": x >= value,
            "eq": abs(x - value) < 1e-9}[comparator]


def _bound_text(comparator: str, value: float, high: float | None, unit: str | None) -> str:
    u = f" {unit}" if unit and unit != "1" else ""
    if comparator == "between":
        return f"between {value:g} and {high if high is not None else value:g}{u}"
    return f"{_SYMBOL[comparator]} {value:g}{u}"


def window_days(window: TimeWindow | None) -> float | None:
    if window is None:
        return None
    if window.days is not None:
        return window.days
    if window.amount is not None and window.unit is not None:
        return window.amount * _UNIT_DAYS[window.unit]
    return None


def _fact_evidence(fact: Any, text: str) -> Evidence:
    source = getattr(fact, "source", None)
    sentence = source.sentence if source is not None else None
    return Evidence(kind="fact", fact_id=fact.id or None, sentence=sentence, text=text[:2000])


def _note_evidence(sentence: Any) -> Evidence:
    return Evidence(kind="note", sentence=sentence.index, text=sentence.text[:2000])


def _targets(constraint: Constraint) -> tuple[list[str], list[str]]:
    concepts = ([constraint.concept] if constraint.concept else []) + list(constraint.any_of)
    ids = [c.id for c in concepts if c.id]
    texts = []
    for c in concepts:
        texts += [c.text, c.name]
    return ids, [t for t in texts if t and t.strip()]


def _label(constraint: Constraint) -> str:
    _ids, texts = _targets(constraint)
    return texts[1] if len(texts) > 1 else (texts[0] if texts else constraint.text)


# ---------------------------------------------------------------------- presence of things
def _timing_ok(window: TimeWindow | None, start: date | None, end: date | None,
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


@cache
def _generic_concepts() -> frozenset[str]:
    return frozenset(load_rules("items").get("generic_concepts") or ())


@cache
def _item_rules() -> tuple[re.Pattern[str], re.Pattern[str]]:
    data = load_rules("items")
    words = sorted(data["qualifiers"], key=len, reverse=True)
    qualifiers = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b",
                            re.IGNORECASE)
    return qualifiers, re.compile(data["unparsed_threshold"], re.IGNORECASE)


def _narrowing(constraint: Constraint, context: str) -> tuple[list[str], bool]:
    """Qualifiers written just before the concept, and whether a number bound went unparsed."""
    names = tuple(c.text for c in ([constraint.concept] if constraint.concept else [])
                  + list(constraint.any_of) if c.text)
    found, threshold = _qualifiers_in(names, context)
    return list(found), constraint.quantity is None and threshold


@lru_cache(maxsize=32_768)
def _qualifiers_in(names: tuple[str, ...], context: str) -> tuple[tuple[str, ...], bool]:
    """(qualifiers before any of ``names`` in ``context``, whether it has a number bound);
    remembered, since every patient checked against a trial asks the same."""
    qualifiers, threshold = _item_rules()
    found: list[str] = []
    lowered = context.lower()
    for name in names:
        at = lowered.find(name.lower())
        if at < 0:
            continue
        window = context[max(0, at - 40):at + len(name)]
        found += [m.group().lower() for m in qualifiers.finditer(window)]
    return tuple(sorted(set(found))), bool(threshold.search(context))


def _presence(facts: PatientFacts, constraint: Constraint, kind: str,
              exceptions: list[str], context: str = "") -> Outcome:
    ids, texts = _targets(constraint)
    label = _label(constraint)
    if not ids and not texts:
        return Outcome(None, "nothing specific to look up", no_information=True)
    profile = facts.profile
    qualifiers, unparsed = _narrowing(constraint, context or constraint.text)
    if constraint.polarity == "must_not":
        # An exclusion of "central nervous system metastasis" excludes only that: a record
        # of metastases that does not say where leaves it open.
        qualifiers = sorted(set(qualifiers) | set(_modifier_before(constraint,
                                                                   context or "")))
    from_note = bool(facts.sentences)
    generic = bool(ids) and all(i in _generic_concepts() for i in ids)
    window = constraint.window
    ref = facts.ref
    positive_timed: list[Evidence] = []
    positive_untimed: list[Evidence] = []
    positive_outside: list[Evidence] = []
    broader: list[Evidence] = []
    negatives: list[Evidence] = []
    qualified: list[Evidence] = []

    def place(ok: bool | None, ev: Evidence, concept: str | None = None) -> None:
        if ok and undecided(concept):
            broader.append(ev)
            return
        if ok and (unparsed or (qualifiers and not all(
                q in ev.text.lower() for q in qualifiers))):
            broader.append(ev)
            qualified.append(ev)
            return
        (positive_timed if ok else positive_untimed if ok is None else positive_outside
         ).append(ev)

    def excepted(concept: str | None, name: str) -> bool:
        """An exception ("except skin cancer"), or, for a broad exclusion ("other bone
        disease"), the very condition the trial studies."""
        return bool(exceptions) and facts.best_relation(concept, name, exceptions, []) in {
            "same", "narrower"}

    def undecided(concept: str | None) -> bool:
        """A match that cannot settle the criterion: a generic target ("any medication")
        or, for an exclusion, the very condition the trial studies (the criterion must be
        about some narrower form of it: "bilateral", "additional", "other")."""
        if generic:
            return True
        return constraint.polarity == "must_not" and facts.studied(concept)

    def noted(fact: Any) -> bool:
        return from_note and fact.source is not None and fact.source.kind == "note"

    if kind in {"condition", "other"}:
        for cond in profile.conditions:
            if noted(cond):
                continue
            rel = facts.best_relation(cond.concept, cond.name, ids, texts)
            if rel in {"same", "narrower"} and not excepted(cond.concept, cond.name):
                active = cond.status == "active"
                end = cond.abatement if cond.status == "resolved" else None
                ok = _timing_ok(window, cond.onset, end, active, ref, event=True)
                if window is not None and window.relation == "current":
                    ok = active if cond.status == "resolved" or active else None
                place(ok, _fact_evidence(cond, f"condition: {cond.name}"), cond.concept)
            elif rel == "broader":
                broader.append(_fact_evidence(cond, f"condition: {cond.name}"))
    if kind in {"procedure", "other"}:
        for proc in profile.procedures:
            if noted(proc):
                continue
            rel = facts.best_relation(proc.concept, proc.name, ids, texts)
            if rel in {"same", "narrower"}:
                ok = _timing_ok(window, proc.date, proc.date, False, ref, event=True)
                place(ok, _fact_evidence(proc, f"procedure: {proc.name}"), proc.concept)
            elif rel == "broader":
                broader.append(_fact_evidence(proc, f"procedure: {proc.name}"))
    if kind in {"medication", "other"}:
        for med in profile.medications:
            if noted(med):
                continue
            rel = facts.best_relation(med.concept, med.name, ids, texts)
            if rel in {"same", "narrower"}:
                active = med.status == "active" or (med.status == "unknown" and med.stop is None)
                ok = _timing_ok(window, med.start, med.stop, active, ref, event=False)
                place(ok, _fact_evidence(med, f"medication: {med.name}"), med.concept)
            elif rel == "broader":
                broader.append(_fact_evidence(med, f"medication: {med.name}"))
    if kind == "allergy":
        for allergy in profile.allergies:
            if noted(allergy):
                continue
            rel = facts.best_relation(allergy.concept, allergy.substance, ids, texts)
            if rel in {"same", "narrower"}:
                place(True, _fact_evidence(allergy, f"allergy: {allergy.substance}"))
    denial_kinds = {"condition": {"condition", "finding"}, "procedure": {"procedure"},
                    "medication": {"medication"}, "allergy": {"allergy"},
                    "other": {"condition", "finding", "procedure", "medication"}}[kind]
    for denied in profile.denied:
        if denied.kind not in denial_kinds:
            continue
        blanket = denied.name in {"any medication", "any drug allergy"}
        if blanket and kind == "medication":
            days = window_days(window)
            if window is None or window.relation == "current" or (
                    window.relation == "within" and days is not None and days <= 90):
                negatives.append(_fact_evidence(denied, f"no medications: {denied.name}"))
            continue
        if blanket and kind == "allergy":
            negatives.append(_fact_evidence(denied, "no known drug allergies"))
            continue
        if noted(denied) and not blanket:
            continue
        if facts.denies(denied.concept, denied.name, ids, texts):
            # Denying "any treatment" does not settle a criterion about a generic target.
            (broader if generic else negatives).append(
                _fact_evidence(denied, f"denied: {denied.name}"))
    within = re.compile(r"allerg|hypersensitiv|intoleran|anaphyla", re.IGNORECASE) \
        if kind == "allergy" else None
    for hit in facts.note_hits(ids, texts, within=within):
        if hit.family or hit.hypothetical:
            continue
        ev = _note_evidence(hit.sentence)
        if hit.negated:
            if generic:
                broader.append(ev)
            elif not _narrowed(hit, context or constraint.text):
                negatives.append(ev)
            continue
        mentioned = facts.index.lookup(hit.sentence.text[hit.start:hit.end])
        if excepted(mentioned, hit.sentence.text[hit.start:hit.end]):
            continue
        when = implied_date(hit.sentence.text, hit.start, hit.end, ref)
        event = kind != "medication"
        ok = _timing_ok(window, when, when if event else None, None if event else True, ref,
                        event=event)
        if window is not None and window.relation == "ever":
            ok = True
        elif window is not None and window.relation == "current":
            ok = None if hit.historical else True
        place(ok, ev, mentioned)
    if not negatives and not qualified and kind != "allergy":
        # "No chemotherapy for her metastatic disease" denies a broader concept; a record
        # of the very concept ("her last taxane was 18 months ago") shows that denial was
        # about something narrower, so it settles nothing.
        negatives += [_note_evidence(h.sentence) for h in facts.broader_denials(ids)]
    scope = "" if window is None else _window_text(window)
    if positive_timed:
        return Outcome(True, f"{label}{scope}: found in the record", positive_timed[:3])
    if positive_untimed:
        return Outcome(None, f"{label} is recorded, but not when{scope}", positive_untimed[:3])
    if positive_outside:
        return Outcome(False, f"{label} is recorded, but not{scope}", positive_outside[:3])
    if negatives and unparsed and _upper_bound(context or constraint.text):
        # "Neuropathy grade < 2": an absent condition is below any such bound.
        return Outcome(True, f"{label}: recorded as absent, so below the bound", negatives[:3])
    if negatives:
        return Outcome(False, f"{label}: recorded as absent", negatives[:3])
    if broader:
        detail = f" (not whether {' / '.join(qualifiers)})" if qualifiers else \
            " (no value given)" if unparsed else ""
        return Outcome(None, f"{label}: the record is less specific{detail}", broader[:3])
    return Outcome(None, f"no information about {label}", no_information=True)


def _window_text(window: TimeWindow) -> str:
    if window.relation == "current":
        return " (currently)"
    if window.relation == "ever":
        return ""
    amount = f"{window.amount:g} {window.unit}s" if window.amount is not None and \
        window.unit else "the stated time"
    return {"within": f" within {amount}", "before": f" more than {amount} ago",
            "duration": f" for {_SYMBOL.get(window.comparator or 'ge', '≥')} {amount}"}.get(
        window.relation, "")


_FUNCTION_WORDS = frozenset({
    "no", "not", "any", "of", "the", "a", "an", "or", "and", "nor", "with", "for", "to", "in",
    "on", "evidence", "history", "signs", "sign", "symptoms", "symptom", "known", "prior",
    "previous", "current", "currently", "had", "has", "have", "was", "were", "is", "are",
    "been", "received", "receiving", "taken", "taking", "used", "her", "his", "their",
    "without", "denies", "denied", "negative", "free", "absence", "never", "none",
    "she", "he", "patient", "also", "all", "documented", "diagnosis", "diagnosed"})
_WORD_BEFORE = re.compile(r"([A-Za-z][\w/+-]*)[\s-]*$")
_UPPER_BOUND = re.compile(r"(?:[<≤]|(?:less|lower)\s+than\b|below\b|under\b)", re.IGNORECASE)


def _narrowed(hit: Any, context: str) -> bool:
    """A denial of something narrower than the criterion's concept: "no evidence of CNS
    metastases" does not deny "metastatic disease", "no other malignancies" does not deny
    the cancer the patient has. The word just before the mention narrows it, unless the
    criterion says the same word."""
    before = hit.sentence.text[max(0, hit.start - 40):hit.start]
    found = _WORD_BEFORE.search(before)
    if found is None:
        return False
    word = found.group(1).lower()
    if word in _FUNCTION_WORDS or word.isdigit():
        return False
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", context, re.IGNORECASE) is None


_CRITERION_FILLER = _FUNCTION_WORDS | frozenset({
    "patients", "subjects", "participants", "women", "men", "children", "adults", "people",
    "histologically", "cytologically", "pathologically", "clinically", "radiologically",
    "confirmed", "proven", "documented", "diagnosed", "known", "suspected", "existing",
    "underlying", "concurrent", "concomitant", "coexisting", "presence", "evidence",
    "history", "past", "recent", "prior", "previous", "any", "other", "all", "some",
    "serious", "including", "such", "as", "like", "e.g", "eg", "i.e", "ie", "etc",
    "has", "have", "had", "having", "with", "without", "who", "that", "which", "are",
    "is", "be", "been", "being", "received", "receiving", "use", "uses", "using", "user",
    "users", "treatment", "therapy", "ongoing", "newly", "new", "treated", "untreated",
    "significant", "uncontrolled", "severe", "active", "acute", "chronic", "major",
    "non", "nor", "never", "lack", "absence", "free", "negative"})


def _modifier_before(constraint: Constraint, context: str) -> list[str]:
    """The word written just before an exclusion's concept when it narrows it ("central
    nervous system *metastasis*", "HER2-positive breast cancer")."""
    out = []
    for c in ([constraint.concept] if constraint.concept else []) + list(constraint.any_of):
        at = c.span.start
        # only where the parser says the concept is written (the same words may occur
        # again, in an exception: "malignancy except skin cancer")
        if not c.text or at <= 0 or context[at:c.span.end].lower() != c.text.lower():
            continue
        found = _WORD_BEFORE.search(context[max(0, at - 40):at])
        if found is None:
            continue
        word = found.group(1).lower()
        if word not in _CRITERION_FILLER and not word[:1].isdigit() and len(word) > 2:
            out.append(word)
    return out


def _upper_bound(text: str) -> bool:
    """Whether the criterion's unparsed bound is an upper bound on a grade ("grade < 2");
    a time bound ("< 14 days") says nothing about an absent condition."""
    found = _item_rules()[1].search(text)
    if found is None or "grade" not in found.group().lower():
        return False
    return bool(_UPPER_BOUND.match(re.sub(r"^grade\s*", "", found.group(),
                                          flags=re.IGNORECASE)))


# ---------------------------------------------------------------------- demographics
def _age(facts: PatientFacts, c: Constraint) -> Outcome:
    q = c.quantity
    if q is None:
        return Outcome(None, "age bound not understood")
    if facts.age is None:
        return Outcome(None, "age is not known", no_information=True)
    unit = (q.unit or "year").lower()
    scale = next((_UNIT_DAYS[u] for u in _UNIT_DAYS if unit.startswith(u)), 365.25) / 365.25
    value, high = q.value * scale, (q.value_high * scale if q.value_high is not None else None)
    ok = compare(facts.age, q.comparator, value, high)
    ev = Evidence(kind="fact", fact_id="age", text=f"age {facts.age:.0f}")
    bound = _bound_text(q.comparator, value, high, "years")
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


def _sex(facts: PatientFacts, c: Constraint) -> Outcome:
    target = _sex_target(c)
    if target is None:
        return Outcome(None, "sex requirement not understood")
    if target == "all":
        return Outcome(True, "open to all sexes")
    sex = facts.profile.sex
    if sex is None:
        return Outcome(None, "sex is not known", no_information=True)
    return Outcome(sex == target, f"patient is {sex}, criterion is about {target}",
                   [Evidence(kind="fact", fact_id="sex", text=f"sex: {sex}")])


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


def _status(facts: PatientFacts, c: Constraint) -> Outcome:
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
            return Outcome(False, f"postmenopausal: not {word}", [menopause_ev])
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
                           + _window_text(c.window), [menopause_ev])
        since = (facts.ref - p.menopause_date).days
        ok = compare(float(since), c.window.comparator or "ge", days) \
            if c.window.relation in {"duration", "before"} else since <= days
        reason = f"postmenopausal for {since / 365.25:.1f} years{_window_text(c.window)}"
    return Outcome(ok, reason, [menopause_ev])


# ---------------------------------------------------------------------- measurements
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


def _measurement(facts: PatientFacts, c: Constraint) -> Outcome:
    q = c.quantity
    ids = _analyte_ids(facts, c)
    label = _label(c)
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
                           [_fact_evidence(values[-1], f"{values[-1].name} {values[-1].value:g}")])
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
            if candidate in extras.get("molar_mass", {}) or candidate in extras.get("affine", {}):
                break
        value = convert(latest.value, latest.unit, target_unit, analyte) \
            if (latest.unit or target_unit) else latest.value
    except UnitError:
        return Outcome(None, f"{label} {latest.value:g} {latest.unit or ''} cannot be compared "
                       f"with {target_unit}", [_fact_evidence(latest, latest.text or latest.name)])
    ok = compare(value, q.comparator, bound, high)
    shown = f"{latest.name} {latest.value:g} {latest.unit or ''}".strip()
    if latest.unit and target_unit and latest.unit != target_unit:
        shown += f" (= {value:.3g} {target_unit})"
    note = " (typical upper limit of normal)" if uln else ""
    return Outcome(ok, f"{shown}, required {_bound_text(q.comparator, bound, high, target_unit)}"
                   f"{note}", [_fact_evidence(latest, shown)])


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
                               [_note_evidence(sentence)])
    return Outcome(None, f"no {label} value recorded", no_information=True)


def _performance(facts: PatientFacts, c: Constraint) -> Outcome:
    q = c.quantity
    p = facts.profile
    text = " ".join(filter(None, [c.text, c.concept.id if c.concept else None])).lower()
    karnofsky = bool(re.search(r"karnofsky|kps|lansky", text))
    if q is None:
        return Outcome(None, "performance status bound not understood")
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
    bound = _bound_text(q.comparator, q.value, q.value_high, None)
    return Outcome(ok, f"{scale} {value:g}, required {bound}",
                   [Evidence(kind="fact", fact_id="ecog" if scale == "ECOG" else "karnofsky",
                             text=f"{scale} {value:g}")])


def _duration(facts: PatientFacts, c: Constraint) -> Outcome:
    ids, texts = _targets(c)
    label = _label(c)
    days = window_days(c.window)
    comparator = (c.window.comparator if c.window else None) or (
        c.quantity.comparator if c.quantity else "ge")
    if days is None and c.quantity is not None:
        unit = (c.quantity.unit or "year").lower()
        days = c.quantity.value * next((_UNIT_DAYS[u] for u in _UNIT_DAYS if unit.startswith(u)),
                                       365.25)
    onset: tuple[date, Evidence] | None = None
    for cond in facts.profile.conditions:
        if cond.onset is not None and facts.best_relation(
                cond.concept, cond.name, ids, texts) in {"same", "narrower"}:
            onset = (cond.onset, _fact_evidence(cond, f"{cond.name} since {cond.onset}"))
            break
    if onset is None:
        for hit in facts.note_hits(ids, texts):
            if hit.positive:
                when = implied_date(hit.sentence.text, hit.start, hit.end, facts.ref)
                if when is not None:
                    onset = (when, _note_evidence(hit.sentence))
                    break
    if onset is None or days is None:
        return Outcome(None, f"how long the patient has had {label} is not recorded",
                       no_information=True)
    lasted = (facts.ref - onset[0]).days
    ok = compare(float(lasted), comparator, days)
    return Outcome(ok, f"{label} for {lasted / 365.25:.1f} years, required "
                   f"{_SYMBOL.get(comparator, comparator)} {days / 365.25:.1f} years", [onset[1]])


@cache
def _note_rules() -> list[tuple[re.Pattern[str], re.Pattern[str]]]:
    return [(re.compile(r["when"], re.IGNORECASE), re.compile(r["note"], re.IGNORECASE))
            for r in load_rules("items")["note_rules"]]


_INABILITY = re.compile(r"\b(?:unable|unwilling|inability|incapable|not|non|cannot|can't|"
                        r"refus\w*|missing|lack\w*|without|no|inaccessib\w*|unreliable|"
                        r"failure|fail\w*)\b", re.IGNORECASE)


@lru_cache(maxsize=32_768)
def _note_rules_for(text: str) -> tuple[tuple[re.Pattern[str], bool], ...]:
    """The note patterns of the rules whose ``when`` matches a criterion, each with
    whether the criterion states an inability just before the phrase."""
    out = []
    for when, note in _note_rules():
        found = when.search(text)
        if found:
            # Only words just before the phrase govern it ("unable to give informed
            # consent"); a "not" earlier in a long criterion is about something else.
            out.append((note, bool(_INABILITY.search(text[max(0, found.start() - 40):
                                                         found.start()]))))
    return tuple(out)


def _from_note_rules(facts: PatientFacts, c: Constraint) -> Outcome | None:
    """Consent, compliance, other trials: settled by a note sentence that states them.

    A criterion phrased as an inability ("unable to give informed consent") states the
    opposite of what the note affirms, so the truth is flipped for it.
    """
    for note, inverse in _note_rules_for(c.text):
        for sentence, match in facts.note_search(note):
            cats = default_context().categories(sentence.text, match.start(), match.end(),
                                                facts.modifiers(sentence))
            if "hypothetical" in cats or "family" in cats:
                continue
            negated = "negated" in cats
            return Outcome(negated if inverse else not negated,
                           "the note " + ("rules this out" if negated else "states this"),
                           [_note_evidence(sentence)])
    return None


def _unchecked(facts: PatientFacts, c: Constraint) -> Outcome:
    found = _from_note_rules(facts, c)
    if found is not None:
        return found
    return Outcome(None, "checked by the study team", no_information=True)


def _other(facts: PatientFacts, c: Constraint, exceptions: list[str]) -> Outcome:
    found = _from_note_rules(facts, c)
    if found is not None:
        return found
    if c.concept is None and not c.any_of:
        words = re.findall(r"[A-Za-z][\w'-]*", c.text)
        if 0 < len(words) <= 4 and c.kind == "other":
            named = c.model_copy(update={"concept": CriteriaConcept(
                id="", name=c.text.strip(" .;:"), kind="condition", text=c.text.strip(" .;:"),
                span=c.span)})
            found = _presence(facts, named, "condition", exceptions)
            if not found.no_information:
                return found
        return Outcome(None, "not understood well enough to check automatically",
                       no_information=True)
    kind = facts.index.kind(c.concept.id) if c.concept else None
    mapped = {"drug": "medication", "drug_class": "medication", "procedure": "procedure",
              "lab": "measurement"}.get(kind or "", "other")
    if mapped == "measurement":
        return _measurement(facts, c)
    return _presence(facts, c, mapped, exceptions)


Evaluator = Callable[[PatientFacts, Constraint, list[str]], Outcome]
_EVALUATORS: dict[str, Evaluator] = {
    "age": lambda f, c, e: _age(f, c),
    "sex": lambda f, c, e: _sex(f, c),
    "pregnancy": lambda f, c, e: _status(f, c),
    "lactation": lambda f, c, e: _status(f, c),
    "menopause": lambda f, c, e: _status(f, c),
    "condition": lambda f, c, e: (_from_note_rules(f, c) if c.concept is None and not c.any_of
                                  else None) or _presence(f, c, "condition", e),
    "medication": lambda f, c, e: _presence(f, c, "medication", e),
    "procedure": lambda f, c, e: _presence(f, c, "procedure", e),
    "allergy": lambda f, c, e: _presence(f, c, "allergy", e),
    "measurement": lambda f, c, e: _measurement(f, c),
    "performance_status": lambda f, c, e: _performance(f, c),
    "disease_duration": lambda f, c, e: _duration(f, c),
    "consent": lambda f, c, e: _unchecked(f, c),
    "administrative": lambda f, c, e: _unchecked(f, c),
    "investigator": lambda f, c, e: _unchecked(f, c),
    "other": _other,
}


def evaluate_constraint(facts: PatientFacts, constraint: Constraint,
                        exceptions: list[str] | None = None, context: str = "") -> Outcome:
    """The truth of one constraint's statement; ``context`` is its item's full text."""
    if constraint.kind in {"condition", "medication", "procedure", "allergy"} and (
            constraint.concept is not None or constraint.any_of):
        return _presence(facts, constraint, constraint.kind, exceptions or [], context)
    evaluator = _EVALUATORS.get(constraint.kind, _other)
    return evaluator(facts, constraint, exceptions or [])


# ---------------------------------------------------------------------- items
def _answer_outcome(facts: PatientFacts, key: str, meets: str) -> tuple[bool | None, Evidence
                                                                        ] | None:
    answer = facts.profile.answer_for(key)
    if answer is None:
        return None
    facts.used.add(answer.id)
    ev = Evidence(kind="answer", fact_id=answer.id, text=f"answered {answer.answer}"
                  + (f": {answer.question}" if answer.question else ""))
    if answer.answer == "unsure":
        return None, ev
    return answer.answer == meets, ev


def _all(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    if all(v is True for v in values):
        return True
    return None


def _any(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    if values and all(v is False for v in values):
        return False
    return None


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


_DISJUNCTIVE = re.compile(r"\b(?:or|one or more|any of|either|such as|at least one|and/or)\b",
                          re.IGNORECASE)
_SCOPE_KINDS = frozenset({"sex", "age"})


@dataclass
class _Result:
    constraint: Constraint
    passed: bool | None
    outcome: Outcome
    context: bool = False


_EVENT_BEFORE = re.compile(
    r"(?:\b(?:during|after|following|while\s+(?:on|receiving|taking)|due\s+to|secondary\s+to|"
    r"induced\s+by|caused\s+by|related\s+to|associated\s+with|attributed\s+to|"
    r"requir(?:ing|ed)|that\s+required|which\s+required)\s+(?:[\w/-]+\s+){0,3}"
    # the study's own treatment as a time anchor: "within 14 days before the first dose
    # of pembrolizumab", "after the last dose of cyclophosphamide"
    r"|\b(?:dose|doses|administration|start|initiation|beginning|starting)\s+"
    r"(?:of\s+)?(?:treatment\s+with\s+|study\s+)?(?:[\w/-]+\s+){0,1})$",
    re.IGNORECASE)
# "fit to receive chemotherapy", "able to swallow capsules": about what is to come, which
# the record cannot show yet (and its absence does not rule out).
_PROSPECTIVE = re.compile(
    r"\b(?:fit|eligible|candidates?|suitable|planned|scheduled|able|willing|ready|"
    r"intend\w*|plan(?:s|ning)?|expected)\s+(?:to|for)\s+(?:[\w/-]+\s+){0,6}$|"
    r"\b(?:will|would)\s+(?:receive|undergo|start|begin|take|swallow)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE)
# What comes after "because" explains a criterion; it does not add to it.
_RATIONALE = re.compile(r"\b(?:because|as\s+(?:this|these|they|it)\s+(?:may|might|could|"
                        r"would|will|can))\b", re.IGNORECASE)
# An inclusion that says it excludes ("Subjects with CNS metastasis should be excluded").
_SAYS_EXCLUDED = re.compile(r"\b(?:should|will|must|shall|are|is|to)\s+be\s+excluded\b|"
                            r"\b(?:are|is)\s+(?:not\s+eligible|ineligible)\b",
                            re.IGNORECASE)
_EVENT_AFTER = re.compile(r"[\s-]*(?:induced|related|associated|intolerance|allergy|allergies|"
                          r"hypersensitivity|toxicity|toxicities|reactions?)\b", re.IGNORECASE)
_ADJECTIVE_NON = re.compile(r"\bnon-?[a-z]{3,}", re.IGNORECASE)
_NEGATION_WORD = re.compile(r"\b(?:no|not|without|never|absence|free\s+of|negative|lack\w*|"
                            r"unable|cannot|can't|none|neither|nor|denies|excluding)\b",
                            re.IGNORECASE)


def concept_at(item: Item, constraint: Constraint) -> tuple[int, int] | None:
    """Where the constraint's concept is written in the item's text (item offsets)."""
    concepts = ([constraint.concept] if constraint.concept else []) + list(constraint.any_of)
    text = item.text
    for c in concepts:
        span = c.span
        if 0 <= span.start < span.end <= len(text) and \
                text[span.start:span.end].lower() == (c.text or "").lower():
            return span.start, span.end
        for written in (c.text, c.name):
            at = text.lower().find(written.lower()) if written else -1
            if at >= 0:
                return at, at + len(written)
    at = text.lower().find(constraint.text.lower()) if constraint.text else -1
    return (at, at + len(constraint.text)) if at >= 0 else None


def _event_context(item: Item, constraint: Constraint) -> bool:
    """A drug or procedure that only says when or why the criterion's event happened:
    "heart failure *during treatment with trastuzumab*", "pneumonitis *that required
    steroids*", "*trastuzumab* intolerance". It narrows the item; it is not an
    alternative to the event itself."""
    if constraint.kind not in {"medication", "procedure"}:
        return False
    at = concept_at(item, constraint)
    if at is None:
        return False
    return bool(_EVENT_BEFORE.search(item.text[max(0, at[0] - 60):at[0]])
                or _EVENT_AFTER.match(item.text[at[1]:at[1] + 30]))


def _prospective(item: Item, constraint: Constraint) -> bool:
    """A drug or procedure the criterion speaks of as to come ("fit to receive
    chemotherapy"), which the record neither shows nor rules out."""
    if constraint.kind not in {"medication", "procedure"}:
        return False
    at = concept_at(item, constraint)
    return at is not None and bool(_PROSPECTIVE.search(item.text[max(0, at[0] - 60):at[0]]))


@lru_cache(maxsize=32_768)
def _rationale_start(text: str) -> int | None:
    found = _RATIONALE.search(text)
    return None if found is None else found.start()


@lru_cache(maxsize=32_768)
def _says_excluded(text: str) -> bool:
    return bool(_SAYS_EXCLUDED.search(text))


def _rationale(item: Item, constraint: Constraint) -> bool:
    """A constraint read from the criterion's explanation ("... because they often
    develop neurologic dysfunction")."""
    start = _rationale_start(item.text)
    if start is None:
        return False
    at = concept_at(item, constraint)
    return at is not None and at[0] > start


def _as_exclusion(item: Item) -> Item:
    """An inclusion that says it excludes, read as the exclusion it is."""
    flipped = [c.model_copy(update={"polarity": "must_not" if c.polarity == "required"
                                    else "required"}) for c in item.constraints]
    return item.model_copy(update={"section": "exclusion", "constraints": flipped})


_WITHIN = re.compile(r"\bwithin\s+(?:the\s+)?(?:last\s+|past\s+|previous\s+)?(?P<n>\d+(?:\.\d+)?)"
                     r"\s*(?P<unit>hours?|days?|weeks?|months?|years?)\b", re.IGNORECASE)


def _stated_window(item: Item, constraint: Constraint) -> Constraint:
    """A drug, procedure or condition without a time window in a criterion that states
    exactly one ("Systemic chemotherapy ... within 3 weeks of start of study treatment"):
    the window the parser did not attach is taken as the constraint's."""
    if constraint.window is not None or constraint.kind not in PRESENCE_KINDS - {"other"}:
        return constraint
    stated = _window_in(item.text)
    if stated is None:
        return constraint
    unit: Any = stated[1]
    window = TimeWindow(relation="within", amount=stated[0], unit=unit)
    return constraint.model_copy(update={"window": window})


@lru_cache(maxsize=32_768)
def _window_in(text: str) -> tuple[float, str] | None:
    """(amount, unit) of the one "within N units" a criterion states, else None."""
    found = list(_WITHIN.finditer(text))
    if len(found) != 1:
        return None
    return float(found[0].group("n")), found[0].group("unit").lower().rstrip("s")


def _polarity_unsure(item: Item, constraint: Constraint) -> bool:
    """Whether the parser's negation of a constraint disagrees with the words just before
    it in its clause ("must *not* have undergone surgery" read as requiring surgery)."""
    at = concept_at(item, constraint)
    if at is None:
        return False
    clause = re.split(r"[.;:]", item.text[max(0, at[0] - 60):at[0]])[-1]
    return bool(_NEGATION_WORD.search(clause)) != constraint.negated


def _undo_adjective_non(item: Item, constraint: Constraint) -> Constraint:
    """"(non-infectious) pneumonitis" is a kind of pneumonitis, not its absence: a negation
    read from a "non-" adjective alone is undone."""
    if not constraint.negated:
        return constraint
    at = concept_at(item, constraint)
    if at is None:
        return constraint
    before = item.text[:at[0]]
    adjectives = list(_ADJECTIVE_NON.finditer(before))
    adjective = adjectives[-1] if adjectives else None
    if adjective is None or _NEGATION_WORD.search(before):
        return constraint
    # "non-measurable disease" read as "measurable disease": the negated word is the
    # concept's own, and its negation is kept
    negated_word = re.sub(r"^non-?", "", adjective.group(), flags=re.IGNORECASE).lower()
    if item.text[at[0]:at[1]].lower().startswith(negated_word):
        return constraint
    flipped: Any = "must_not" if constraint.polarity == "required" else "required"
    return constraint.model_copy(update={"negated": False, "polarity": flipped})


def _is_scope(result: _Result, results: list[_Result]) -> bool:
    """Who an item is about ("women", "aged over 65", "on chest X-ray") rather than what.

    Such constraints narrow the item: an exclusion "postmenopausal women" only excludes a
    patient who is both; "X-ray shows heart failure" needs the finding, not just the X-ray.
    """
    kind = result.constraint.kind
    if kind in _SCOPE_KINDS:
        return True
    if result.context and any(not r.context for r in results):
        return True
    return kind == "procedure" and any(r.constraint.kind == "condition" for r in results)


def _fold(item: Item, results: list[_Result]) -> bool | None:
    """Whether the patient passes the item, from its constraints' pass / fail values."""
    if item.section == "inclusion" and any(not r.context for r in results):
        # "Resolution of chemotherapy-related toxicities": without chemotherapy there is
        # nothing to resolve, so the context cannot fail an inclusion.
        results = [r for r in results if not r.context]
    scope = [r for r in results if _is_scope(r, results)]
    rest = [r for r in results if not _is_scope(r, results)]
    if any(r.passed is not None for r in rest):
        # "Rales on pulmonary examination": the finding settles it; an examination or
        # scan the record does not mention is not missing evidence.
        scope = [r for r in scope if not (r.constraint.kind == "procedure" and not r.context
                                          and r.passed is None)]
    if not rest:
        rest, scope = scope, []
        # "Women planning to deliver elsewhere": only the "women" part was understood.
        if item.section == "exclusion" and all(r.constraint.kind == "sex" for r in rest) \
                and len(re.findall(r"\w+", item.text)) > 6 \
                and _all([_not(r.passed) for r in rest]) is True:
            return None
    disjunctive = bool(_DISJUNCTIVE.search(item.text))
    if item.section == "exclusion":
        in_scope = _all([_not(r.passed) for r in scope])
        excluding = [_not(r.passed) for r in rest]
        excluded = _any(excluding) if disjunctive or (len(rest) > 1 and all(
            r.constraint.kind in PRESENCE_KINDS | {"pregnancy", "lactation"}
            for r in rest)) else _all(excluding)
        return _not(_all([in_scope, excluded]))
    in_scope = _all([r.passed for r in scope])
    body = _any([r.passed for r in rest]) if disjunctive and len(rest) > 1 else \
        _all([r.passed for r in rest])
    return _all([in_scope, body])


def evaluate_item(item: Item, facts: PatientFacts, *, closed_world: bool = False
                  ) -> CriterionVerdict:
    """The verdict for one criterion item: passes (MET), fails (NOT_MET) or UNKNOWN.

    ``closed_world`` reads a note as complete for exclusions: an excluding condition the
    note never mentions counts as absent (inclusions still need positive evidence).
    """
    if item.section == "inclusion" and _says_excluded(item.text):
        item = _as_exclusion(item)
    checkable = item.kind not in UNCHECKABLE and item.question.answerable
    question = QuestionRef(key=item.question.key, text=item.question.text,
                           meets=item.question.meets)
    base: dict[str, Any] = {
        "item_index": item.index, "section": item.section, "kind": item.kind,
        "text": item.text, "start": item.span.start, "end": item.span.end,
        "checkable": checkable, "question": question}
    answered = _answer_outcome(facts, item.question.key, item.question.meets)
    if answered is not None:
        passed, ev = answered
        verdict: Verdict = "UNKNOWN" if passed is None else "MET" if passed else "NOT_MET"
        reason = "your answer: " + ("not sure" if passed is None else
                                     "meets this criterion" if passed else
                                     "does not meet this criterion")
        return CriterionVerdict(**base, verdict=verdict, holds=_holds(item, passed),
                                reason=reason, evidence=[ev],
                                confidence=confidence_spec()["answer"]
                                if verdict == "NOT_MET" else None)
    exceptions = [c.concept.id for c in item.constraints if c.exception and c.concept]
    context = item.text
    if any(c.quantity is not None for c in item.constraints):
        context = _item_rules()[1].sub(" ", context)
    results: list[_Result] = []
    for constraint in item.constraints:
        if constraint.exception:
            continue
        if _rationale(item, constraint):
            continue
        constraint = _undo_adjective_non(item, constraint)
        constraint = _stated_window(item, constraint)
        context_only = _event_context(item, constraint)
        if constraint.question is not None and constraint.question.key != item.question.key:
            got = _answer_outcome(facts, constraint.question.key, constraint.question.meets)
            if got is not None:
                passed, ev = got
                results.append(_Result(constraint, passed, Outcome(
                    None if passed is None else True, "your answer", [ev]), context_only))
                continue
        if constraint.kind in UNCHECKABLE | {"pregnancy", "lactation", "menopause"} or (
                constraint.concept is None and not constraint.any_of):
            constraint = constraint.model_copy(update={"text": item.text})
        outcome = evaluate_constraint(facts, constraint, exceptions, context)
        if outcome.holds is not None and _prospective(item, constraint):
            outcome = Outcome(None, f"{outcome.reason} (the criterion is about what is to "
                              "come)", outcome.evidence)
        passed = None if outcome.holds is None else (
            outcome.holds if constraint.polarity == "required" else not outcome.holds)
        if not outcome.applicable:
            passed = True
        if passed is None and outcome.no_information and closed_world and facts.sentences \
                and _closed_world_applies(item, constraint):
            outcome = Outcome(None, f"{outcome.reason}: not mentioned in the note",
                              [Evidence(kind="absence", text="not mentioned in the note")],
                              no_information=True)
            passed = True
        results.append(_Result(constraint, passed, outcome, context_only))
    results = _merge_ambiguous_ages(results)
    for result in results:
        for ev in result.outcome.evidence:
            if ev.fact_id:
                facts.used.add(ev.fact_id)
    if not results:
        return CriterionVerdict(**base, verdict="UNKNOWN", holds=None,
                                reason="no checkable constraint found in this criterion")
    passed_all = _fold(item, results)
    permits = False
    if passed_all is False and _permissive(item):
        # "Patients with prior tamoxifen use are eligible": it lets a group in and
        # keeps nobody out.
        passed_all, permits = True, True
    wanted = passed_all
    deciding = next((r.outcome for r in results if r.passed is wanted), None) \
        if passed_all is not True else None
    evidence: list[Evidence] = []
    seen: set[tuple[Any, ...]] = set()
    for result in results:
        for e in result.outcome.evidence:
            key = (e.kind, e.fact_id, e.sentence, e.text)
            if key not in seen:
                seen.add(key)
                evidence.append(e)
    if deciding is not None:
        reason = deciding.reason
    else:
        reason = "; ".join(dict.fromkeys(r.outcome.reason for r in results))
    if passed_all is False and item.section == "exclusion":
        reason = "excluded: " + reason
    applicable = all(r.outcome.applicable for r in results)
    if permits:
        reason, applicable = "allows a group of patients in; excludes no one", False
    final: Verdict = "UNKNOWN" if passed_all is None else "MET" if passed_all else "NOT_MET"
    confidence = None
    if final == "NOT_MET":
        confidence = max((failure_confidence(
            item, r.constraint, r.outcome, facts,
            polarity_unsure=_polarity_unsure(item, r.constraint))[0]
            for r in results if r.passed is False),
                         default=confidence_spec()["note"])
    return CriterionVerdict(**base, verdict=final, holds=_holds(item, passed_all),
                            applicable=applicable, reason=reason[:500], evidence=evidence[:6],
                            confidence=None if confidence is None else round(confidence, 4))


_NOTE_ITEM = re.compile(r"^\W*(?:[a-z0-9]{1,3}[.)]\s*)?(?:note\b|no limit\b|with or without\b|"
                        r"regardless\b)", re.IGNORECASE)


def _permissive(item: Item) -> bool:
    """An inclusion that lets a group in, or an exclusion that is only a note ("Note:
    patients with or without prior ... may be included"); in an exclusion, a permissive
    clause after the excluding one ("(treated metastases are eligible)") does not count."""
    if item.section == "exclusion":
        return bool(_NOTE_ITEM.match(item.text))
    return bool(re.search(load_rules("items")["permissive"], item.text, re.IGNORECASE))


def _age_interval(c: Constraint) -> tuple[float, float] | None:
    q = c.quantity
    if q is None:
        return None
    high = q.value if q.value_high is None else q.value_high
    return {"ge": (q.value, math.inf), "gt": (q.value, math.inf),
            "le": (-math.inf, q.value), "lt": (-math.inf, q.value),
            "eq": (q.value, q.value),
            "between": (min(q.value, high), max(q.value, high))}.get(q.comparator)


def _merge_ambiguous_ages(results: list[_Result]) -> list[_Result]:
    """Several age bounds in one criterion that cannot all be meant together: two lower
    (or two upper) bounds ("18 and above (70 and above for the elderly cohort)") or
    bounds no age meets at once ("18 - 70 ... not reached 71 counts as 70"). They are
    alternatives, so the criterion passes when one of them does. A lower and an upper
    bound that make a range are kept as they are."""
    ages = [r for r in results if r.constraint.kind == "age" and _age_interval(r.constraint)]
    if len(ages) < 2:
        return results
    intervals = [_age_interval(r.constraint) for r in ages]
    lows = sum(1 for i in intervals if i and i[0] > -math.inf)
    highs = sum(1 for i in intervals if i and i[1] < math.inf)
    low = max(i[0] for i in intervals if i)
    high = min(i[1] for i in intervals if i)
    if low <= high and lows <= 1 and highs <= 1:
        return results
    passed = _any([r.passed for r in ages])
    chosen = next((r for r in ages if r.passed is passed), ages[0])
    merged = _Result(chosen.constraint, passed, Outcome(
        chosen.outcome.holds, chosen.outcome.reason + " (one of several age bounds)",
        chosen.outcome.evidence))
    first = results.index(ages[0])
    rest = [r for r in results if r not in ages]
    return [*rest[:first], merged, *rest[first:]]


def _closed_world_applies(item: Item, constraint: Constraint) -> bool:
    """Where a note's silence counts as absence: what an exclusion asks about (conditions,
    drugs, procedures, unchecked items). Inclusions still need positive evidence, and
    pregnancy and breastfeeding are not presumed absent: a note often leaves them out."""
    return item.section == "exclusion" and constraint.kind in PRESENCE_KINDS | UNCHECKABLE


def _holds(item: Item, passed: bool | None) -> bool | None:
    """The truth of the item's own statement: for an exclusion, whether it excludes."""
    if passed is None:
        return None
    return passed if item.section == "inclusion" else not passed


def evaluate_criteria(parsed: ParsedCriteria, facts: PatientFacts, *,
                      closed_world: bool = False) -> list[CriterionVerdict]:
    """Verdicts for every item, sub-items included, in text order."""
    return [evaluate_item(item, facts, closed_world=closed_world) for item in parsed.items]
