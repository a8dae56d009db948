"""How sure a failing criterion verdict is, so ranking can weigh it instead of trusting it.

A NOT_MET from the registry's sex or age range is as sure as the registry. One from the
criteria text rests on two readings that can each be wrong: the parser's reading of the
criterion and the matcher's reading of the patient. The confidence (0..1) starts from what
decided the verdict (``rules/ranking.yaml``, ``confidence``):

* ``answer``: the patient's own answer to the criterion's question;
* ``fact``: a structured fact (age, sex, a coded condition, a lab value, from a form or
  FHIR), or a value the note reader extracted (``note_fact``);
* ``note``: a mention of the concept found in a note sentence (present, or negated);
* ``absence``: the closed-world reading, nothing in the note.

It is then lowered for signs that the criterion was not understood as a whole:

* ``weak_parse``: the deciding constraint covers little of the criterion's words, the
  criterion is a lead-in ("... must meet all of the following:"), or of kind "other";
* ``double_negation``: an absence made a negated statement true or false (the parser's
  negation and the note's negation both have to be right);
* ``polarity_unsure``: the parser's negation of the constraint disagrees with the words
  just before it ("must *not* have had surgery" read as requiring surgery);
* ``registry_disagrees``: an age bound read from the text that the registry's own age
  range contradicts;
* ``section_unsure``: an inclusion that requires pregnancy or breastfeeding in a trial
  that does not study pregnancy: almost always an exclusion whose heading was lost (some
  sources rebuilt criteria texts and dropped the second heading).

A note mention is not one kind of evidence but several. "On denosumab since 2022, last
dose in March 2025" against "denosumab within the past 6 months" settles the criterion as
surely as a value the note reader extracted; "history of osteoporosis treatment" against
the same criterion does not. A mention is *precise* (``note_precise``) when the criterion
was read in full (its constraints together cover ``precise_coverage`` of its content
words and no doubt above applies), and every note sentence the verdict rests on names the
criterion's concept exactly (the concept itself or a curated kind of it, not a short
abbreviation or a loose word match), affirmatively and as the patient's own, with the
time the criterion asks about written in it (a date, "N months ago", "currently") when it
has a window; or denies it outright, close to the word ("No fractures", "takes no
steroids"), when the failure is a required thing the note denies. Anything less keeps
``note``.
"""

from __future__ import annotations

import itertools
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from trialscout.criteria.model import Constraint, Item
from trialscout.matching.rules import load_rules

if TYPE_CHECKING:
    from trialscout.matching.facts import PatientFacts
    from trialscout.matching.outcome import Outcome

_WORDS = re.compile(r"[a-z][a-z0-9'-]{2,}")
_FILLER = frozenset({
    "patients", "patient", "subjects", "subject", "participants", "participant", "people",
    "persons", "women", "men", "who", "which", "that", "with", "without", "within", "the",
    "and", "for", "are", "has", "have", "had", "was", "were", "been", "being", "any", "all",
    "other", "must", "should", "will", "can", "may", "might", "not", "known", "history",
    "prior", "previous", "previously", "current", "currently", "following", "including",
    "include", "includes", "defined", "defines", "such", "than", "more", "less", "least",
    "most", "months", "month", "weeks", "week", "days", "day", "years", "year", "hours",
    "time", "times", "study", "trial", "studies", "trials", "protocol", "investigator",
    "evidence", "diagnosis", "diagnosed", "documented", "confirmed", "either", "both",
    "from", "into", "per", "their", "his", "her", "its", "this", "these", "those", "there",
    "where", "when", "while", "during", "after", "before", "since", "based", "according",
    "also", "only", "each", "one", "two", "three", "four", "five", "six", "seven", "eight",
    "nine", "ten", "greater", "lower", "higher", "above", "below", "over", "under",
    "between", "age", "aged", "old"})
_LEAD_IN = re.compile(r":\s*$")


@cache
def _spec() -> dict[str, float]:
    return {k: float(v) for k, v in load_rules("ranking")["confidence"].items()}


def spec() -> dict[str, float]:
    return dict(_spec())


def _content(text: str) -> set[str]:
    return {w for w in _WORDS.findall(text.lower()) if w not in _FILLER}


def coverage(item: Item, constraint: Constraint) -> float:
    """Share of the criterion's content words that the constraint's concepts, number and
    time window account for (1.0 when the criterion has no content words)."""
    words = _content(item.text)
    if not words:
        return 1.0
    parts = [c.text for c in ([constraint.concept] if constraint.concept else [])
             + list(constraint.any_of) if c.text]
    if constraint.kind in {"age", "sex", "measurement", "performance_status"} or \
            constraint.quantity is not None or constraint.window is not None:
        parts.append(constraint.text)
    if not parts:
        parts.append(constraint.text)
    covered = _content(" ".join(parts)) & words
    return len(covered) / len(words)


def basis(outcome: Outcome, facts: PatientFacts) -> str:
    """What decided a verdict: answer, fact, note_fact, note or absence."""
    kinds = [e.kind for e in outcome.evidence]
    if "answer" in kinds:
        return "answer"
    structured = False
    noted = False
    for e in outcome.evidence:
        if e.kind != "fact":
            continue
        fact = facts.profile.fact(e.fact_id) if e.fact_id else None
        source = getattr(fact, "source", None)
        if fact is None or source is None or source.kind != "note":
            structured = True
        else:
            noted = True
    if structured:
        return "fact"
    if noted:
        return "note_fact"
    if "note" in kinds:
        return "note"
    return "absence"


def failure_confidence(item: Item, constraint: Constraint, outcome: Outcome,
                       facts: PatientFacts, *, polarity_unsure: bool = False
                       ) -> tuple[float, list[str]]:
    """Confidence of a NOT_MET decided by ``constraint``'s ``outcome``, and why it is
    lower than its basis alone (``weak_parse``, ``double_negation``, ...).
    ``polarity_unsure``: the parser's negation disagrees with the words before the
    concept (matching checks that)."""
    table = _spec()
    found = basis(outcome, facts)
    value = table[found]
    doubts: list[str] = []
    if found == "answer":
        return value, doubts
    if constraint.kind != "sex" and (
            item.kind == "other" or constraint.kind == "other" or _LEAD_IN.search(item.text)
            or coverage(item, constraint) < table["min_coverage"]):
        doubts.append("weak_parse")
    if constraint.negated and outcome.holds is False:
        doubts.append("double_negation")
    elif polarity_unsure:
        doubts.append("polarity_unsure")
    if constraint.kind == "age" and _registry_admits(facts):
        doubts.append("registry_disagrees")
    if item.section == "inclusion" and constraint.kind in {"pregnancy", "lactation"} \
            and constraint.polarity == "required" and not facts.studied(
                constraint.concept.id if constraint.concept else constraint.kind):
        doubts.append("section_unsure")
    # the deciding constraint alone may cover little of a list the item reads in full:
    # precise_note checks the whole item's coverage itself
    if found == "note" and not [d for d in doubts if d != "weak_parse"] \
            and precise_note(item, constraint, outcome, facts):
        return table["note_precise"], []
    for doubt in doubts:
        value *= table[doubt]
    return value, doubts


def item_coverage(item: Item) -> float:
    """Share of the criterion's content words that all its constraints together account
    for: an exclusion listing several things ("A, B or C") is read in full when each is.
    Words that only say how a thing is taken ("receiving", "treatment with"), hyphen
    prefixes and an acronym restating the concept in parentheses add nothing to cover."""
    return _covered(item.text, item.constraints)


def _covered(text: str, constraints: Any) -> float:
    words = _exposure_free(_content(_ACRONYM.sub(" ", text)))
    if not words:
        return 1.0
    parts: list[str] = []
    for constraint in constraints:
        parts += [c.text for c in ([constraint.concept] if constraint.concept else [])
                  + list(constraint.any_of) if c.text]
        parts += [c.name for c in ([constraint.concept] if constraint.concept else [])
                  + list(constraint.any_of) if c.name]
        if constraint.kind in {"age", "sex", "measurement", "performance_status"} or \
                constraint.quantity is not None or constraint.window is not None:
            parts.append(constraint.text)
    covered = _exposure_free(_content(" ".join(parts)))
    return len(covered & words) / len(words)


def _exposure_free(words: set[str]) -> set[str]:
    out: set[str] = set()
    for word in words:
        out |= {w for w in word.split("-") if len(w) > 2}
    return out - _EXPOSURE


_ACRONYM = re.compile(r"\(\s*[A-Z][A-Z0-9-]{1,9}\s*\)")
_EXPOSURE = frozenset({
    "receiving", "received", "receive", "taking", "taken", "take", "use", "used", "using",
    "treatment", "treatments", "treated", "therapy", "therapies", "undergoing",
    "underwent", "undergone", "exposure", "exposed", "administration", "administered",
    "anti", "non", "medication", "medications", "drug", "drugs", "agent", "agents",
    "presence", "present", "disease", "disorder", "criteria", "criterion", "guideline",
    "guidelines"})
# words that make the rest of a criterion qualify its thing, not list alternatives
_QUALIFYING = re.compile(
    r"\b(?:unless|except|if|when|only|provided|requir\w*|that|which|who|due\s+to|"
    r"secondary\s+to|caused|associated|related|resulting|leading|despite|after|before|"
    r"during|while|without)\b", re.IGNORECASE)
_SEGMENT = re.compile(r"\s*(?:,|;|\bor\b|\band/or\b)\s*", re.IGNORECASE)


def _read_in_full(item: Item, constraint: Constraint) -> bool:
    """The criterion's words are accounted for: all its constraints together cover
    ``precise_coverage`` of them, or, in a plain list of alternatives ("Previous
    vertebroplasty, kyphoplasty or spinal instrumentation") with nothing that qualifies
    its members, the deciding member's own segment is covered."""
    from trialscout.matching.item import concept_at

    need = _spec()["precise_coverage"]
    if item_coverage(item) >= need:
        return True
    at = concept_at(item, constraint)
    if at is None or _QUALIFYING.search(item.text):
        return False
    bounds = [0, *[m.end() for m in _SEGMENT.finditer(item.text)], len(item.text) + 1]
    for low, high in itertools.pairwise(bounds):
        if low <= at[0] < high:
            return _covered(item.text[low:high], [constraint]) >= need
    return False


_ALTERNATIVES = re.compile(r"\b(?:or|either|and/or|any\s+of|one\s+of)\b", re.IGNORECASE)


def _denied_requirement(item: Item, constraint: Constraint, outcome: Outcome) -> bool:
    """A required condition the note denies: words the parser did not read can only
    narrow it ("histologically confirmed invasive breast carcinoma, HER2-positive"), and
    no narrower form survives "no cancer", unless they name another way in ("... or
    lymphoma"), so the item must list no alternatives outside parentheses."""
    from trialscout.matching.item import _outside_text

    return item.section == "inclusion" and constraint.polarity == "required" \
        and constraint.kind == "condition" and outcome.holds is False \
        and not _ALTERNATIVES.search(_outside_text(item.text))


# An inclusion a denial cannot surely fail: a judgement of the study team ("eligible for
# apheresis as determined by the transplant team"), an explanation with examples ("i.e.",
# "such as"), or a lettered sub-item of a group.
_JUDGED = re.compile(
    r"^\W*(?:[a-z]|[ivx]{1,4}|\d{1,2})[.)]\s|"
    r"\b(?:eligible|candidates?|suitable|fit)\s+(?:for|to)\b|\b(?:as\s+)?(?:determined|judged|"
    r"assessed|decided)\s+by\b|\b(?:defined\s+as|i\.\s?e\.|e\.\s?g\.|such\s+as|may\s+be|since)\b",
    re.IGNORECASE)
# ... nor one of several ways in ("A or B", "A, B, C"), unless the denial covers them all
_WAYS_IN = re.compile(r"\b(?:or|either|and/or|any\s+of|one\s+of)\b", re.IGNORECASE)


def _hedged_requirement(item: Item) -> str | None:
    """How an inclusion is worded so that a denied concept may not fail it: "judged"
    (never surely), "alternatives" (surely only when the denial covers every way in)."""
    from trialscout.matching.item import _outside_text

    text = _outside_text(item.text)
    if _JUDGED.search(text):
        return "judged"
    if _WAYS_IN.search(text) or text.count(",") >= 2:
        return "alternatives"
    return None


def _denial_covers_item(item: Item, hits: list[Any], facts: PatientFacts) -> bool:
    """Whether the note's denials cover every thing a hedged inclusion names ("No
    fractures" against "a vertebral fracture, or a hip fracture after 50"), so that no
    other way in is left open."""
    denied = {facts.index.lookup(h.sentence.text[h.start:h.end]) for h in hits if h.negated}
    denied.discard(None)
    named = {c.concept.id for c in item.constraints if c.concept is not None}
    named |= {a.id for c in item.constraints for a in c.any_of}
    return bool(denied) and bool(named) and all(
        any(facts.relation(d, i) in {"same", "broader"} for d in denied) for i in named)


_CLOSE_DENIAL = re.compile(r"(?:^|[\s(])(?:no|never|not|denies|denied|without|none)"
                           r"(?:\s+[\w'-]+){0,3}\s*$", re.IGNORECASE)
_MIN_FORM = 4


def precise_note(item: Item, constraint: Constraint, outcome: Outcome,
                 facts: PatientFacts) -> bool:
    """Whether the note sentences a failure rests on settle it (see the module's
    docstring): the criterion read in full, and each deciding sentence naming its concept
    exactly, affirmatively or in a close denial, with the time when the criterion has a
    window."""
    from trialscout.matching.outcome import targets

    if item.kind == "other" or constraint.kind == "other" or _LEAD_IN.search(item.text) \
            or outcome.holds is None:
        return False
    if not _read_in_full(item, constraint) and not _denied_requirement(item, constraint,
                                                                      outcome):
        return False
    hedged = _hedged_requirement(item) \
        if not outcome.holds and item.section == "inclusion" else None
    if hedged == "judged":
        return False
    sentences = {e.sentence for e in outcome.evidence if e.kind == "note"}
    if not sentences or None in sentences:
        return False
    wanted = {i for i in sentences if i is not None}
    ids, texts = targets(constraint)
    if not ids:
        return False
    hits: dict[int, list[Any]] = {}
    found = facts.note_hits(ids, texts)
    if not outcome.holds:
        found += facts.broader_denials(ids)
    for hit in found:
        hits.setdefault(hit.sentence.index, []).append(hit)
    if hedged and not _denial_covers_item(item, [h for i in wanted for h in hits.get(i, [])],
                                          facts):
        return False
    return all(any(_settles(hit, constraint, bool(outcome.holds), ids, facts)
                   for hit in hits.get(index, [])) for index in wanted)


def _settles(hit: Any, constraint: Constraint, holds: bool, ids: list[str],
             facts: PatientFacts) -> bool:
    """One mention: the concept (or a curated kind of it) written out, the patient's own;
    present and timed as the window needs, or denied close to the word."""
    written = hit.sentence.text[hit.start:hit.end]
    mentioned = facts.index.lookup(written)
    if len(written.strip()) < _MIN_FORM or mentioned is None or hit.family \
            or hit.hypothetical:
        return False
    relations = {facts.relation(mentioned, t) for t in ids}
    if hit.negated:
        return not holds and bool(relations & {"same", "broader"}) \
            and bool(_CLOSE_DENIAL.search(hit.sentence.text[:hit.start]))
    if not relations & {"same", "narrower"}:
        return False
    return _timed(hit, constraint, facts)


def _timed(hit: Any, constraint: Constraint, facts: PatientFacts) -> bool:
    """Whether the sentence says when, as far as the window needs: ongoing for "current";
    a time inside the window, or a last dose or end, for "within"; a duration for a
    duration. A drug's only date before a "within" window does not say it stopped."""
    from trialscout.matching.timing import _is_treatment, note_time, window_days

    window = constraint.window
    if window is None or window.relation == "ever":
        return True
    drug = constraint.kind == "medication" or _is_treatment(hit, facts)
    time = note_time(hit, facts, "medication" if drug else "condition")
    if hit.historical and time.current is True:
        # "previously on alendronate from 2015 to 2018" read as on it now: the two
        # readings disagree, so the sentence does not say when
        return False
    if window.relation == "current":
        return time.current is not None
    if window.relation == "duration":
        return time.duration_days is not None or time.current is False
    if time.current is True or time.end is not None or time.last is not None:
        return True
    if time.start is None:
        return False
    if not drug or window.relation != "within":
        return True
    days = window_days(window)
    return days is not None and (facts.ref - time.start[0]).days <= days


def _registry_admits(facts: Any) -> bool:
    """Whether the trial's registry age range states a bound and admits the patient."""
    low, high = getattr(facts, "registry_ages", (None, None))
    if (low is None and high is None) or facts.age is None:
        return False
    return (low is None or facts.age >= low) and (high is None or facts.age < high + 1)
