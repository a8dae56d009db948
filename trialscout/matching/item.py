"""Verdicts for parsed criteria: each constraint's statement is checked against the profile,
then the constraint's polarity turns that truth into pass / fail for the patient.

A constraint's *statement* is its positive reading ("has diabetes", "HbA1c >= 7%", "took a
bisphosphonate in the past year"). ``polarity == "must_not"`` (exclusions, and negated
inclusions) inverts it. An item passes when all of its constraints pass; one failing
constraint fails it; otherwise it stays UNKNOWN and its question goes to the patient.
Self-check answers, keyed by the criteria's normalized question keys, take precedence.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from trialscout.criteria.model import Constraint, Item, ParsedCriteria, TimeWindow
from trialscout.matching.confidence import failure_confidence
from trialscout.matching.confidence import spec as confidence_spec
from trialscout.matching.facts import PatientFacts
from trialscout.matching.kinds import evaluate_constraint
from trialscout.matching.members import every_member_absent, without_windows
from trialscout.matching.modality import modality_outcome
from trialscout.matching.model import CriterionVerdict, Evidence, QuestionRef, Verdict
from trialscout.matching.outcome import PRESENCE_KINDS, UNCHECKABLE, Outcome, item_rules
from trialscout.matching.rules import load_rules
from trialscout.matching.timing import smoking_outcome
from trialscout.textcontext import criterion_cues


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


# The criterion context cues (negation, occasion, what is to come, rationale) come from
# trialscout.textcontext, which reads them from the one context rules file.
_ADJECTIVE_NON = re.compile(r"\bnon-?[a-z]{3,}", re.IGNORECASE)


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
    return bool(criterion_cues().event_before.search(item.text[max(0, at[0] - 60):at[0]])
                or criterion_cues().effect.match(item.text[at[1]:at[1] + 30]))


def _prospective(item: Item, constraint: Constraint) -> bool:
    """A drug or procedure the criterion speaks of as to come ("fit to receive
    chemotherapy"), which the record neither shows nor rules out."""
    if constraint.kind not in {"medication", "procedure"}:
        return False
    at = concept_at(item, constraint)
    return at is not None and bool(
        criterion_cues().prospective.search(item.text[max(0, at[0] - 60):at[0]]))


@lru_cache(maxsize=32_768)
def _rationale_start(text: str) -> int | None:
    found = criterion_cues().rationale.search(text)
    return None if found is None else found.start()


@lru_cache(maxsize=32_768)
def _says_excluded(text: str) -> bool:
    return bool(criterion_cues().says_excluded.search(text))


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
    return bool(criterion_cues().negation.search(clause)) != constraint.negated


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
    if adjective is None or criterion_cues().negation.search(before):
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
    """Whether the patient passes the item, from its constraints' pass / fail values.

    Clauses joined by "; or" ("History of hip fracture; or hip replacement") are
    alternatives, each read on its own: any one met meets an inclusion, any one present
    excludes."""
    clauses = _or_clauses(item, results)
    if clauses:
        values = [_fold(part, members) for part, members in clauses]
        return _all(values) if item.section == "exclusion" else _any(values)
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
        if not disjunctive and _TOGETHER.search(item.text):
            # "warfarin and aspirin together": only the combination excludes
            excluded = _all(excluding)
        else:
            excluded = _any(excluding) if disjunctive or (len(rest) > 1 and all(
                r.constraint.kind in PRESENCE_KINDS | {"pregnancy", "lactation"}
                for r in rest)) else _all(excluding)
        return _not(_all([in_scope, excluded]))
    in_scope = _all([r.passed for r in scope])
    if len(rest) > 1 and _DISJUNCTIVE.search(_outside_text(item.text)):
        return _all([in_scope, _any([r.passed for r in rest])])
    return _all([in_scope, _inclusion_body(item.text, rest)])


_CLAUSE_OR = re.compile(r";\s*(?:and/)?or\b", re.IGNORECASE)
_CLAUSE = re.compile(r";")
_TOGETHER = re.compile(r"\b(?:together|in\s+combination|combination\s+of|combined\s+with)\b",
                       re.IGNORECASE)


def _or_clauses(item: Item, results: list[_Result]) -> list[tuple[Item, list[_Result]]]:
    """The item's "; or" clauses (an exclusion's ";" clauses) that hold constraints, each
    as the item with only that clause's words (offsets kept) and its constraints; empty
    when there are not two."""
    text = item.text
    if len(results) < 2 or ";" not in text:
        return []
    spans = _parentheses(text)
    # an exclusion's ";" clauses each exclude on their own ("autoimmune disease; any
    # condition requiring steroids"): a scope in one does not narrow the others
    splitter = _CLAUSE if item.section == "exclusion" else _CLAUSE_OR
    cuts = [m.start() for m in splitter.finditer(text)
            if not any(a <= m.start() < b for a, b in spans)]
    if not cuts:
        return []
    bounds = [0, *cuts, len(text)]
    out: list[tuple[Item, list[_Result]]] = []
    for a, b in itertools.pairwise(bounds):
        members = [r for r in results if a <= r.constraint.span.start < b]
        if members:
            masked = " " * a + text[a:b] + " " * (len(text) - b)
            out.append((item.model_copy(update={"text": masked}), members))
    return out if len(out) > 1 else []


# "50 years or older", "equal to or greater than", "with or without": no alternatives
_NOT_ALTERNATIVES = re.compile(
    r"\bor\s+(?:older|more|greater|higher|above|over|less|fewer|lower|below|under|younger|"
    r"equal|later|earlier|longer|shorter|after|before|equivalent)\b|\bwith\s+or\s+without\b|"
    r"\bwhether\s+or\s+not\b", re.IGNORECASE)


def _parentheses(text: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level parenthesis or bracket in ``text``."""
    out: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for position, ch in enumerate(text):
        if ch in "([":
            if depth == 0:
                start = position
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
            if depth == 0:
                out.append((start, position + 1))
    if depth:
        out.append((start, len(text)))
    return out


def _outside_text(text: str) -> str:
    """The item's words outside parentheses, without "or" that joins no alternatives."""
    kept = list(text)
    for start, end in _parentheses(text):
        kept[start:end] = " " * (end - start)
    return _NOT_ALTERNATIVES.sub(" ", "".join(kept))


def _inclusion_body(text: str, rest: list[_Result]) -> bool | None:
    """An inclusion's conditions when it lists no alternatives outside parentheses: all
    of them, except that what a parenthesis says is another way to meet the thing named
    just before it ("osteoporosis (T-score <= -2.5 or a prior fragility fracture)",
    "postmenopausal (no menses for a year, or bilateral oophorectomy)"). A parenthesis
    after words no constraint read ("breast carcinoma, HER2-positive (IHC 3+ ...)")
    defines those words, not the thing before them: it is a requirement of its own."""
    spans = _parentheses(text)
    groups: list[list[bool | None]] = []
    last_outside: list[bool | None] | None = None
    last_end = 0
    current: tuple[int, int] | None = None
    for result in sorted(rest, key=lambda r: r.constraint.span.start):
        start = result.constraint.span.start
        inside = next((s for s in spans if s[0] <= start < s[1]), None)
        if inside is None:
            last_outside = [result.passed]
            groups.append(last_outside)
            last_end = result.constraint.span.end
            current = None
        elif last_outside is not None and not _WORD_BETWEEN.search(
                text[last_end:inside[0]]):
            last_outside.append(result.passed)
        elif current == inside and groups:
            groups[-1].append(result.passed)
        else:
            groups.append([result.passed])
            current = inside
    return _all([_any(group) if len(group) > 1 else group[0] for group in groups])


# a word (not a joining "or", "and", "as", "defined") between a constraint and a parenthesis
_WORD_BETWEEN = re.compile(r"\b(?!(?:or|and|as|is|defined|by|per|with)\b)[a-z][a-z0-9+-]{2,}",
                           re.IGNORECASE)


def evaluate_item(item: Item, facts: PatientFacts, *, closed_world: bool = False
                  ) -> CriterionVerdict:
    """The verdict for one criterion item: passes (MET), fails (NOT_MET) or UNKNOWN.

    ``closed_world`` reads a note as complete for exclusions: an excluding condition the
    note never mentions counts as absent (inclusions still need positive evidence).
    """
    if item.section == "inclusion" and _says_excluded(item.text):
        item = _as_exclusion(item)
    # A criterion the patient cannot be asked about (a study-team statement) still counts.
    checkable = item.kind not in UNCHECKABLE
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
    context = without_windows(item, context)
    if any(c.quantity is not None for c in item.constraints):
        context = item_rules()[1].sub(" ", context)
    results: list[_Result] = []
    contradicted = _contradicted_negations(item)
    for constraint in item.constraints:
        if constraint.exception or constraint in contradicted:
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
        outcome = modality_outcome(facts, constraint) or \
            smoking_outcome(facts, constraint) or \
            evaluate_constraint(facts, constraint, exceptions, context)
        outcome = every_member_absent(facts, constraint, outcome, exceptions, context)
        if constraint.negated and constraint.quantity is not None and \
                outcome.holds is not None:
            # "does not meet performance status = 2": the bound shown is the negated one
            outcome = Outcome(outcome.holds, f"{outcome.reason} (which the criterion negates)",
                              outcome.evidence, outcome.applicable, outcome.no_information)
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
    elif passed_all is False and item.section == "inclusion" and _only_sometimes(item):
        passed_all = None
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
    deciders = [r for r in results if r.passed is True]
    if deciding is not None:
        reason = deciding.reason
    elif passed_all is True and deciders and any(r.passed is None for r in results):
        # met through one alternative: say which, not every alternative left open
        reason = "; ".join(dict.fromkeys(r.outcome.reason for r in deciders))
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


def _contradicted_negations(item: Item) -> list[Constraint]:
    """Negated readings of a concept that the same exclusion also names plainly.

    An exclusion cannot mean both "excluded if A" and "excluded unless A": where the
    parser read a concept both ways ("has a known history of hepatitis B (defined as
    HBsAg reactive)" gave a second, negated hepatitis B from the definition's words), the
    negated reading is a misreading, and it alone would exclude every patient without A.
    """
    if item.section != "exclusion":
        return []
    plain = {c.concept.id for c in item.constraints
             if c.concept is not None and not c.negated and not c.exception}
    return [c for c in item.constraints
            if c.negated and c.concept is not None and c.concept.id in plain]


def _permissive(item: Item) -> bool:
    """An inclusion that lets a group in, or an exclusion that is only a note ("Note:
    patients with or without prior ... may be included"); in an exclusion, a permissive
    clause after the excluding one ("(treated metastases are eligible)") does not count."""
    if item.section == "exclusion":
        return bool(_NOTE_ITEM.match(item.text))
    if _CONDITIONAL.search(item.text):
        return False
    return bool(re.search(load_rules("items")["permissive"], item.text, re.IGNORECASE))


def _only_sometimes(item: Item) -> bool:
    """An inclusion that binds only some patients: a conditional permission ("prior X is
    allowed if it ended a year ago") or an item for a subgroup ("Only for patients with
    TP53-mutated disease: ..."). Its failure cannot be told from the record, so it is a
    question for the study team rather than a reason to fail the trial."""
    rules = load_rules("items")
    return bool(re.search(rules["conditional_permission"], item.text, re.IGNORECASE)
                or re.search(rules["subgroup_only"], item.text, re.IGNORECASE))


# "Adults with X and Y are eligible if they can consent": the conditions it lets in by
# are requirements, not a group it waves through
_CONDITIONAL = re.compile(r"\b(?:eligible|included|allowed|permitted|enrolled)\s+(?:only\s+)?"
                          r"(?:if|when|provided|as\s+long\s+as)\b", re.IGNORECASE)


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
    """Verdicts for every criterion, sub-items included, in text order; a lead-in that
    only introduces a group ("At least one of the following:") is no criterion."""
    labels = parsed.group_labels
    return [evaluate_item(item, facts, closed_world=closed_world) for item in parsed.items
            if item.index not in labels]
