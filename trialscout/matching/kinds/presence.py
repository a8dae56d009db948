"""Presence of a condition, medication, procedure or allergy: structured facts, denials and
note sentences, each checked against the criterion's concept, its time window, the
qualifiers written before it, and the exceptions the item states."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

from trialscout.criteria.model import Constraint
from trialscout.knowledge import knowledge
from trialscout.matching.facts import PatientFacts, named_concept
from trialscout.matching.kinds.refine import refine, treatment_against
from trialscout.matching.model import Evidence
from trialscout.matching.outcome import (
    Outcome,
    constraint_label,
    fact_evidence,
    item_rules,
    note_evidence,
    targets,
)
from trialscout.matching.rules import load_rules
from trialscout.matching.timing import (
    medication_fits,
    note_fits,
    timing_ok,
    window_days,
    window_text,
)
from trialscout.vocabulary import normalize_term


@cache
def _generic_concepts() -> frozenset[str]:
    return frozenset(load_rules("items").get("generic_concepts") or ())



@cache
def _qualifier_cues() -> dict[str, tuple[re.Pattern[str], ...]]:
    cues = load_rules("items").get("qualifier_cues") or {}
    return {q: tuple(re.compile(p, re.IGNORECASE) for p in patterns)
            for q, patterns in cues.items()}


def _stated(qualifier: str, text: str) -> bool:
    """Whether evidence states a qualifier: its word, or a cue that means it."""
    return re.search(rf"(?<!\w){re.escape(qualifier)}(?!\w)", text, re.IGNORECASE) is not None \
        or any(cue.search(text) for cue in _qualifier_cues().get(qualifier, ()))


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
    qualifiers, threshold = item_rules()
    found: list[str] = []
    lowered = context.lower()
    for name in names:
        at = lowered.find(name.lower())
        if at < 0:
            continue
        window = context[max(0, at - 40):at + len(name)]
        found += [m.group().lower() for m in qualifiers.finditer(window)]
    return tuple(sorted(set(found))), bool(threshold.search(context))


def presence(facts: PatientFacts, constraint: Constraint, kind: str,
              exceptions: list[str], context: str = "") -> Outcome:
    parsed = constraint
    constraint, absorbed = refine(constraint, context or constraint.text)
    if kind == "condition":
        against = treatment_against(constraint, context or constraint.text)
        if against is False:
            return Outcome(None, f"a treatment against {constraint_label(constraint)}: "
                           "not checked automatically", no_information=True)
        if isinstance(against, Constraint):
            constraint, kind = against, "medication"
    ids, texts = targets(constraint)
    label = constraint_label(constraint)
    if not ids and not texts:
        return Outcome(None, "nothing specific to look up", no_information=True)
    profile = facts.profile
    qualifiers, unparsed = _narrowing(constraint, context or constraint.text)
    qualifiers += _grade_after(constraint, context or constraint.text)
    # words a narrower concept's name took in ("severe renal impairment") are its name
    qualifiers = [q for q in qualifiers if not set(q.split()) <= absorbed]
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
                _stated(q, ev.text) for q in qualifiers))):
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

    another = constraint.polarity == "must_not" and _another(constraint, context)

    def undecided(concept: str | None) -> bool:
        """A match that cannot settle the criterion: a generic target ("any medication")
        or, for an exclusion, the very condition the trial studies (the criterion must be
        about some narrower form of it: "bilateral", "additional", "other"), or, for
        "other X", a mention of X itself or of its spread."""
        if generic:
            return True
        if another and (concept is None or concept in ids
                        or concept in _another_rules()[1]):
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
                ok = timing_ok(window, cond.onset, end, active, ref, event=True)
                if window is not None and window.relation == "current":
                    ok = active if cond.status == "resolved" or active else None
                place(ok, fact_evidence(cond, f"condition: {cond.name}"), cond.concept)
            elif rel == "broader":
                broader.append(fact_evidence(cond, f"condition: {cond.name}"))
    if kind in {"procedure", "other"}:
        for proc in profile.procedures:
            if noted(proc):
                continue
            rel = facts.best_relation(proc.concept, proc.name, ids, texts)
            if rel in {"same", "narrower"}:
                ok = timing_ok(window, proc.date, proc.date, False, ref, event=True)
                place(ok, fact_evidence(proc, f"procedure: {proc.name}"), proc.concept)
            elif rel == "broader":
                broader.append(fact_evidence(proc, f"procedure: {proc.name}"))
    if kind in {"medication", "other"}:
        for med in profile.medications:
            if noted(med):
                continue
            rel = facts.best_relation(med.concept, med.name, ids, texts)
            if rel in {"same", "narrower"} and _outside_class(ids, med.name):
                broader.append(fact_evidence(med, f"medication: {med.name}"))
            elif rel in {"same", "narrower"}:
                ok = medication_fits(window, med, ref)
                place(ok, fact_evidence(med, f"medication: {med.name}"), med.concept)
            elif rel == "broader":
                broader.append(fact_evidence(med, f"medication: {med.name}"))
    if kind == "allergy":
        for allergy in profile.allergies:
            if noted(allergy):
                continue
            rel = facts.best_relation(allergy.concept, allergy.substance, ids, texts)
            if rel in {"same", "narrower"}:
                place(True, fact_evidence(allergy, f"allergy: {allergy.substance}"))
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
                negatives.append(fact_evidence(denied, f"no medications: {denied.name}"))
            continue
        if blanket and kind == "allergy":
            negatives.append(fact_evidence(denied, "no known drug allergies"))
            continue
        if noted(denied) and not blanket:
            continue
        if facts.denies(denied.concept, denied.name, ids, texts):
            # Denying "any treatment" does not settle a criterion about a generic target.
            (broader if generic else negatives).append(
                fact_evidence(denied, f"denied: {denied.name}"))
    within = re.compile(r"allerg|hypersensitiv|intoleran|anaphyla", re.IGNORECASE) \
        if kind == "allergy" else None
    for hit in facts.note_hits(ids, texts, within=within, known=not generic):
        if hit.family or hit.hypothetical:
            continue
        ev = note_evidence(hit.sentence)
        if hit.negated:
            if generic:
                broader.append(ev)
            elif _member_only(facts, hit, ids, texts):
                # "Never took alendronate" says nothing of the rest of the class.
                pass
            elif not _narrowed(hit, context or constraint.text):
                negatives.append(ev)
            continue
        mentioned = facts.index.lookup(hit.sentence.text[hit.start:hit.end])
        if excepted(mentioned, hit.sentence.text[hit.start:hit.end]):
            continue
        if _outside_class(ids, hit.sentence.text[max(0, hit.start - 40):hit.end + 40]):
            broader.append(ev)
            continue
        ok = note_fits(window, hit, facts, kind)
        place(ok, ev, mentioned)
    if not negatives and not qualified and kind != "allergy":
        # "No chemotherapy for her metastatic disease" denies a broader concept; a record
        # of the very concept ("her last taxane was 18 months ago") shows that denial was
        # about something narrower, so it settles nothing.
        negatives += [note_evidence(h.sentence) for h in facts.broader_denials(ids)]
    scope = "" if window is None else window_text(window)
    if positive_timed:
        return Outcome(True, f"{label}{scope}: found in the record", positive_timed[:3])
    if positive_untimed:
        return Outcome(None, f"{label} is recorded, but not when{scope}", positive_untimed[:3])
    if positive_outside:
        return Outcome(False, f"{label} is recorded, but not{scope}", positive_outside[:3])
    if window is not None and parsed is not constraint and not negatives \
            and constraint.polarity == "must_not":
        # an exclusion only: a kind the record may not name (a silent vertebral fracture)
        # is no reason to turn a patient away
        outside = _broader_outside(facts, parsed, kind, window)
        if outside:
            return Outcome(False, f"{label}: none recorded{scope} (what is recorded is "
                           "outside it)", outside[:3])
    if negatives and unparsed and _upper_bound(context or constraint.text):
        # "Neuropathy grade < 2": an absent condition is below any such bound.
        return Outcome(True, f"{label}: recorded as absent, so below the bound", negatives[:3])
    if negatives:
        return Outcome(False, f"{label}: recorded as absent", negatives[:3])
    by_value = _by_definition(facts, constraint, kind, ids, label, unparsed or bool(qualifiers),
                              context or constraint.text)
    if by_value is not None:
        return by_value
    if broader:
        detail = f" (not whether {' / '.join(qualifiers)})" if qualifiers else \
            " (no value given)" if unparsed else ""
        return Outcome(None, f"{label}: the record is less specific{detail}", broader[:3])
    return Outcome(None, f"no information about {label}", no_information=True)



@cache
def _another_rules() -> tuple[re.Pattern[str], frozenset[str]]:
    rules = load_rules("items")["another"]
    return re.compile(rules["cue"], re.IGNORECASE), frozenset(rules["same_disease"])


def _another(constraint: Constraint, context: str) -> bool:
    """Whether the criterion excludes "other" / "another" / "a second" X: the words just
    before its concept say so."""
    concept = constraint.concept
    if concept is None:
        return False
    text = context or constraint.text
    start = concept.span.start
    if text[start:start + len(concept.text)].lower() != concept.text.lower():
        start = text.lower().find(concept.text.lower())
        if start < 0:
            return False
    return _another_rules()[0].search(text[max(0, start - 60):start]) is not None


def _broader_outside(facts: PatientFacts, parsed: Constraint, kind: str, window: Any
                     ) -> list[Evidence]:
    """Evidence that every record of the concept the parser read (surgery) falls outside
    the window, when the criterion names a narrower kind of it (major surgery within 4
    weeks): none of them can be that kind within the window. Empty when any record of it
    is inside the window or has no time."""
    ids, texts = targets(parsed)
    if not ids and not texts:
        return []
    out: list[Evidence] = []
    from_note = bool(facts.sentences)
    if kind in {"procedure", "other"}:
        for proc in facts.profile.procedures:
            if from_note and proc.source is not None and proc.source.kind == "note":
                continue
            if facts.best_relation(proc.concept, proc.name, ids, texts) in {"same", "narrower"}:
                if timing_ok(window, proc.date, proc.date, False, facts.ref, event=True) \
                        is not False:
                    return []
                out.append(fact_evidence(proc, f"procedure: {proc.name}"))
    for hit in facts.note_hits(ids, texts):
        if hit.negated or hit.family or hit.hypothetical:
            continue
        if note_fits(window, hit, facts, kind) is not False:
            return []
        out.append(note_evidence(hit.sentence))
    return out


def _outside_class(ids: list[str], text: str) -> bool:
    """Whether a member is written with words that put its use outside a target class
    ("prednisolone eye drops" for systemic glucocorticoids): the record is then less
    specific than the criterion, never a match."""
    kb = knowledge()
    words = [w for i in ids for w in kb.not_with.get(kb.node_id(i) or "", ())]
    if not words:
        return False
    padded = f" {normalize_term(text)} "
    return any(f" {w} " in padded for w in words)


def _member_only(facts: PatientFacts, hit: Any, ids: list[str], texts: list[str]) -> bool:
    """Whether a denied mention names only a narrower kind of every target (a member of
    the class, a subtype of the condition), so its denial leaves the target open."""
    said = hit.sentence.text[hit.start:hit.end]
    concept = named_concept(said)
    return concept is not None and bool(ids) and not facts.denies(concept, said, ids, texts)


def _by_definition(facts: PatientFacts, constraint: Constraint, kind: str, ids: list[str],
                   label: str, narrowed: bool, context: str) -> Outcome | None:
    """A condition the record does not name, decided by a measurement that defines it
    (T-score -2.8: osteoporosis; eGFR 22: CKD stage 4; BMI 27: not obese).

    Not used when the item bounds or qualifies the condition in words the definition
    does not know ("osteoporosis with T-score <= -3.0", "severe obesity"), when a time
    window asks when it happened, or for an exclusion of the very condition the trial
    studies (that criterion is about some narrower form of it). A parsed "procedure"
    with a definition is a condition the lexicon misfiled (MeSH "Thinness").
    """
    if kind not in {"condition", "other", "procedure"} or not ids or narrowed:
        return None
    window = constraint.window
    if window is not None and window.relation not in {"current", "ever"}:
        return None
    if constraint.polarity == "must_not" and any(facts.studied(i) for i in ids):
        return None
    found = facts.defined(ids, context)
    if found is None:
        return None
    text = found.text(label)
    return Outcome(found.holds, text, [fact_evidence(found.measurement, text)])


_FUNCTION_WORDS = frozenset({
    "no", "not", "any", "of", "the", "a", "an", "or", "and", "nor", "with", "for", "to", "in",
    "on", "evidence", "history", "signs", "sign", "symptoms", "symptom", "known", "prior",
    "previous", "current", "currently", "had", "has", "have", "was", "were", "is", "are",
    "been", "received", "receiving", "taken", "taking", "used", "her", "his", "their",
    "without", "denies", "denied", "negative", "free", "absence", "never", "none",
    "she", "he", "patient", "also", "all", "documented", "diagnosis", "diagnosed",
    # verbs of exposure and the words that open a relative clause narrow nothing
    "given", "prescribed", "tried", "started", "treated", "whose", "who", "which", "that",
    "man", "woman"})
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
        if word in _CRITERION_FILLER or word[:1].isdigit() or len(word) <= 2:
            continue
        own = knowledge().resolve(context[max(0, at - 40) + found.start(1):c.span.end])
        if own is not None and own == knowledge().node_id(c.id):
            # part of the concept's own name ("anti-osteoporosis medication")
            continue
        out.append(word)
    return out


_GRADE_AFTER = re.compile(
    r"\s*\(?\s*(?:(?:nyha|new york heart association|ecog|who|gold|kdigo|child[- ]pugh|figo|"
    r"ajcc|ctcae)\s+)?(?:functional\s+)?(?P<what>class|stage|grade|type|category)\s*"
    r"(?P<value>[ivx]+|\d+[a-d]?)\b", re.IGNORECASE)


def _grade_after(constraint: Constraint, context: str) -> list[str]:
    """A class, stage or grade written just after the concept ("heart failure NYHA class
    III or IV", "hypertension grade 2"): a record of the plain condition does not meet it,
    unless the record says the same class (or the concept's own name holds it: "CKD
    stage 4" is read as that stage by :func:`refine`)."""
    out = []
    for c in ([constraint.concept] if constraint.concept else []) + list(constraint.any_of):
        end = c.span.end
        if not c.text or context[c.span.start:end].lower() != c.text.lower():
            continue
        found = _GRADE_AFTER.match(context, end)
        if found is not None:
            out.append(f"{found.group('what').lower()} {found.group('value').lower()}")
    return out


def _upper_bound(text: str) -> bool:
    """Whether the criterion's unparsed bound is an upper bound on a grade ("grade < 2");
    a time bound ("< 14 days") says nothing about an absent condition."""
    found = item_rules()[1].search(text)
    if found is None or "grade" not in found.group().lower():
        return False
    return bool(_UPPER_BOUND.match(re.sub(r"^grade\s*", "", found.group(),
                                          flags=re.IGNORECASE)))

