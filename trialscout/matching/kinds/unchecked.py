"""Consent, administrative and investigator items, and constraints of no known kind: the
study team checks them, unless an item rule finds a note sentence that states them."""

from __future__ import annotations

import re
from functools import cache, lru_cache

from trialscout.criteria.model import Concept as CriteriaConcept
from trialscout.criteria.model import Constraint
from trialscout.knowledge import knowledge
from trialscout.matching.facts import PatientFacts
from trialscout.matching.kinds.measurement import measurement
from trialscout.matching.kinds.presence import presence
from trialscout.matching.outcome import Outcome, note_evidence
from trialscout.matching.rules import load_rules
from trialscout.textcontext import criterion_cues, default_context


@cache
def _note_rules() -> list[tuple[re.Pattern[str], re.Pattern[str]]]:
    return [(re.compile(r["when"], re.IGNORECASE), re.compile(r["note"], re.IGNORECASE))
            for r in load_rules("items")["note_rules"]]


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
            before = text[max(0, found.start() - 40):found.start()]
            out.append((note, bool(criterion_cues().inability.search(before))))
    return tuple(out)


def from_note_rules(facts: PatientFacts, c: Constraint) -> Outcome | None:
    """Other trials, investigational drugs, vaccines, contraception: settled by a note
    sentence that states them.

    A criterion phrased as an inability ("unable to stop the investigational drug") states
    the opposite of what the note affirms, so the truth is flipped for it.
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
                           [note_evidence(sentence)])
    return None


def unchecked(facts: PatientFacts, c: Constraint) -> Outcome:
    found = from_note_rules(facts, c)
    if found is not None:
        return found
    return Outcome(None, "checked by the study team", no_information=True)


def other(facts: PatientFacts, c: Constraint, exceptions: list[str]) -> Outcome:
    found = from_note_rules(facts, c)
    if found is not None:
        return found
    if c.concept is None and not c.any_of:
        words = re.findall(r"[A-Za-z][\w'-]*", c.text)
        if 0 < len(words) <= 4 and c.kind == "other":
            name = c.text.strip(" .;:")
            # a short phrase the knowledge base names ("normal renal function") is that
            # concept, with the measurements that define it
            named = c.model_copy(update={"concept": CriteriaConcept(
                id=knowledge().resolve(name) or "", name=name, kind="condition", text=name,
                span=c.span)})
            found = presence(facts, named, "condition", exceptions)
            if not found.no_information:
                return found
        return Outcome(None, "not understood well enough to check automatically",
                       no_information=True)
    kind = facts.index.kind(c.concept.id) if c.concept else None
    mapped = {"drug": "medication", "drug_class": "medication", "procedure": "procedure",
              "lab": "measurement"}.get(kind or "", "other")
    if mapped == "measurement":
        return measurement(facts, c)
    return presence(facts, c, mapped, exceptions)
