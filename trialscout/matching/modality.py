"""Whose fact a criterion asks about, and in what way: family history, plans,
contraindications, suppositions (``Constraint.experiencer`` and ``Constraint.modality``).

A criterion about a relative ("parental history of hip fracture") is checked against the
patient's family history only: the record's family-history entries and the note's
mentions ConText reads as a relative's. The patient's own hip fracture says nothing about
it, and a record silent about the family leaves it unknown.

A planned procedure ("dental surgery planned during the study") has not happened: a past
one does not satisfy it, and the record's silence does not rule it out. Only a stated plan
(or a stated absence of one) decides. A contraindication ("contraindication to MRI") is
known only when the record states one, or an allergy to the drug itself. A supposition
("if pregnancy occurs") cannot be checked against a record at all.

Silence about a plan, a contraindication or a supposition is UNKNOWN with
``no_information``: a closed-world reading of a note (complete for exclusions) takes it as
absent, as it does an unmentioned condition. Silence about the family stays UNKNOWN even
then: notes often leave family history out, and the patient's own record never stands
in for it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from trialscout.criteria import rules as criteria_rules
from trialscout.criteria.model import Constraint
from trialscout.matching.facts import NoteHit, PatientFacts
from trialscout.matching.model import Evidence
from trialscout.matching.outcome import Outcome, constraint_label, fact_evidence, note_evidence
from trialscout.matching.outcome import targets as constraint_targets

_DENIAL = re.compile(r"\b(?:no|not|none|never|without|denies|denied)\b", re.IGNORECASE)


def modality_outcome(facts: PatientFacts, constraint: Constraint) -> Outcome | None:
    """The outcome of a constraint about a relative, a plan, a contraindication or a
    supposition; None for the patient's own actual facts (checked as usual)."""
    if constraint.experiencer == "family":
        return _family(facts, constraint)
    if constraint.modality == "planned":
        return _stated(facts, constraint, _cues("planned"), "planned",
                       "the record does not say whether {} is planned")
    if constraint.modality == "contraindication":
        return _contraindication(facts, constraint)
    if constraint.modality == "hypothetical":
        return Outcome(None, f"the criterion supposes {constraint_label(constraint)} might "
                       "happen; the study team will check", no_information=True)
    return None


def _family(facts: PatientFacts, constraint: Constraint) -> Outcome:
    ids, texts = constraint_targets(constraint)
    label = constraint_label(constraint)
    for entry in facts.profile.family_history:
        if facts.best_relation(entry.concept, entry.name, ids, texts) in {"same", "narrower"}:
            who = f" ({entry.relative})" if entry.relative else ""
            return Outcome(True, f"family history: {entry.name}{who}",
                           [fact_evidence(entry, f"family history: {entry.name}{who}")])
    denied: list[Evidence] = []
    for hit in _hits(facts, ids, texts):
        if not hit.family:
            continue
        if hit.negated:
            denied.append(note_evidence(hit.sentence))
            continue
        return Outcome(True, f"the note records {label} in the family",
                       [note_evidence(hit.sentence)])
    if not denied:
        # "neither parent ever had a fracture" rules out a parent's hip fracture
        denied = [note_evidence(h.sentence) for h in _broader_family_denials(facts, ids)]
    if denied:
        return Outcome(False, f"the note rules out {label} in the family", denied[:1])
    return Outcome(None, f"the record says nothing about {label} in the family")


def _broader_family_denials(facts: PatientFacts, ids: list[str]) -> list[NoteHit]:
    if not facts.sentences or not ids:
        return []
    above: set[str] = set()
    for target in ids:
        above |= facts.index.vocab.ancestors(target)
        above |= {a for a in facts.kb.ancestors(target) if facts.kb.curated(a)}
    if not above:
        return []
    return [h for h in facts.note_hits(above, members=False) if h.negated and h.family]


def _contraindication(facts: PatientFacts, constraint: Constraint) -> Outcome:
    ids, texts = constraint_targets(constraint)
    for allergy in facts.profile.allergies:
        if facts.best_relation(allergy.concept, allergy.substance, ids, texts) in {
                "same", "narrower"}:
            return Outcome(True, f"allergy to {allergy.substance}",
                           [fact_evidence(allergy, f"allergy: {allergy.substance}")])
    return _stated(facts, constraint, _cues("contraindication"), "contraindicated",
                   "the record does not state a contraindication to {}")


def _stated(facts: PatientFacts, constraint: Constraint, cues: re.Pattern[str], what: str,
            unknown: str) -> Outcome:
    """True when a note sentence names the target with one of ``cues`` ("MRI is
    contraindicated", "knee replacement scheduled"), False when it denies that, else
    UNKNOWN."""
    ids, texts = constraint_targets(constraint)
    label = constraint_label(constraint)
    denied: list[Evidence] = []
    for hit in _hits(facts, ids, texts):
        if hit.family:
            continue
        text = hit.sentence.text
        cue = cues.search(text)
        if cue is None:
            continue
        before = text[:min(cue.start(), hit.start)]
        if _DENIAL.search(before) or _DENIAL.search(text, hit.end, max(hit.end, cue.start())):
            denied.append(note_evidence(hit.sentence))
            continue
        return Outcome(True, f"the note says {label} is {what}", [note_evidence(hit.sentence)])
    if denied:
        return Outcome(False, f"the note says {label} is not {what}", denied[:1])
    return Outcome(None, unknown.format(label), no_information=True)


def _hits(facts: PatientFacts, ids: list[str], texts: list[str]) -> list[NoteHit]:
    if not facts.sentences or not (ids or texts):
        return []
    return facts.note_hits(ids, texts)


@lru_cache(maxsize=4)
def _cues(category: str) -> re.Pattern[str]:
    """The criteria's own cue phrases for ``category`` (rules/context.yaml), as one
    expression for note sentences."""
    spec = getattr(criteria_rules.context(), category)
    phrases = [p for p in spec.pre + spec.post if len(p) > 3]
    if category == "contraindication":
        phrases += ["contraindicated", "contraindication", "contraindications"]
    return re.compile(criteria_rules.phrase_regex(phrases), re.IGNORECASE)
