"""One trial's verdict for one patient: registry fields (sex, age bounds) plus every parsed
criterion, folded into eligible / possibly eligible / not eligible.

Criteria a patient cannot check (consent, administrative, investigator judgement) are
reported but do not hold a trial back: the study team checks them at screening. A failing
criterion carries the confidence of its verdict, and :func:`eligibility_score` weighs a
not-eligible trial by its surest failure.
"""

from __future__ import annotations

import re
from typing import Any

from trialscout.criteria.model import ParsedCriteria
from trialscout.matching.facts import PatientFacts
from trialscout.matching.item import evaluate_item
from trialscout.matching.logic import fold_trial, section_trees
from trialscout.matching.model import (
    CriterionVerdict,
    Evidence,
    QuestionRef,
    TrialMatch,
    TrialVerdictLabel,
)
from trialscout.matching.outcome import compare
from trialscout.registry.model import Trial

DAYS_PER_YEAR = 365.25


def _years(days: float | None) -> float | None:
    return None if days is None else days / DAYS_PER_YEAR


def registry_verdicts(trial: Trial, facts: PatientFacts) -> list[CriterionVerdict]:
    """Verdicts for the registry's structured eligibility: sex and the age range."""
    out: list[CriterionVerdict] = []
    elig = trial.eligibility
    sex = (elig.sex or "ALL").upper()
    if sex in {"FEMALE", "MALE"}:
        target = sex.lower()
        question = QuestionRef(key=f"sex:{target}", text=f"Are you {target}?", meets="yes")
        patient = facts.profile.sex
        if patient is None:
            out.append(CriterionVerdict(
                item_index=-1, section="inclusion", kind="sex", text=f"Sex: {target} (registry)",
                verdict="UNKNOWN", reason="sex is not known", question=question))
        else:
            ok = patient == target
            out.append(CriterionVerdict(
                item_index=-1, section="inclusion", kind="sex", text=f"Sex: {target} (registry)",
                verdict="MET" if ok else "NOT_MET", holds=ok, question=question,
                confidence=None if ok else 1.0,
                reason=f"patient is {patient}, trial accepts {target} only",
                evidence=[Evidence(kind="fact", fact_id="sex", text=f"sex: {patient}")]))
    low, high = _years(elig.minimum_age_days), _years(elig.maximum_age_days)
    if low is not None or high is not None:
        bounds = " to ".join(filter(None, [elig.minimum_age, elig.maximum_age])) \
            if low is not None and high is not None else \
            (f"{elig.minimum_age} or older" if low is not None else f"up to {elig.maximum_age}")
        question = QuestionRef(key=f"age:{low or 0:g}-{high or 0:g}",
                               text=f"Are you aged {bounds}?", meets="yes")
        base: dict[str, Any] = {"item_index": -2, "section": "inclusion", "kind": "age",
                "text": f"Age: {bounds} (registry)", "question": question}
        if facts.age is None:
            out.append(CriterionVerdict(**base, verdict="UNKNOWN", reason="age is not known"))
        else:
            ok = (low is None or compare(facts.age, "ge", low)) and (
                high is None or facts.age < high + 1)
            out.append(CriterionVerdict(
                **base, verdict="MET" if ok else "NOT_MET", holds=ok,
                confidence=None if ok else 1.0,
                reason=f"age {facts.age:.0f}, trial accepts {bounds}",
                evidence=[Evidence(kind="fact", fact_id="age", text=f"age {facts.age:.0f}")]))
    return out


def trial_concepts(trial: Trial) -> frozenset[str]:
    """Vocabulary concepts of the conditions a trial studies."""
    from trialscout.patients.concepts import concept_index

    index = concept_index()
    found = {index.concept_for(name, frozenset({"condition"}))
             for name in [*trial.conditions, *trial.condition_mesh_terms]}
    title = trial.title
    found |= {m.concept for m in index.find(title) if m.kind == "condition"
              and not _RULED_OUT.search(title[max(0, m.start - 40):m.start])}
    return frozenset(c for c in found if c)


# "... in adults without diabetes", "non-diabetic": a title condition the trial rules out
_RULED_OUT = re.compile(r"\b(?:without|no|non|not|free\s+of|excluding|except|other\s+than)"
                        r"[\s-]+(?:[\w'-]+\s+){0,2}$", re.IGNORECASE)


def trial_verdict(trial: Trial, parsed: ParsedCriteria | None, facts: PatientFacts, *,
                  closed_world: bool = False, stop_at_failure: bool = False,
                  stop_confidence: float | None = None) -> TrialMatch:
    """Evaluate every criterion of ``trial`` and fold the results through each section's
    logic tree (:mod:`trialscout.matching.logic`) into one verdict.

    Eligible only when the inclusion tree is met and the exclusion tree is not (every
    checkable inclusion met, no exclusion met); not eligible when the tree says so (one
    met alternative is enough for an ``any`` group); otherwise possibly eligible. The
    failing and open lists come from the tree: a failed alternative inside a satisfied
    group is neither failing nor asked. Group lead-ins ("At least one of the
    following:") are labels and are not evaluated.

    ``stop_at_failure`` stops once the tree has decided the trial fails and that failure
    is as sure as no later criterion could outdo (the patient's answer; the registry's sex
    and age are checked first), or reaches ``stop_confidence`` (a caller that knows the
    trial cannot enter the results past that): enough to rank the trial, not to show all
    its criteria (``complete`` is then False).
    """
    facts.trial_concepts = trial_concepts(trial)
    facts.registry_ages = (_years(trial.eligibility.minimum_age_days),
                           _years(trial.eligibility.maximum_age_days))
    verdicts = registry_verdicts(trial, facts)
    by_index = {v.item_index: v for v in verdicts}
    trees = section_trees(parsed, [v.item_index for v in verdicts])
    default = _default_confidence()
    complete = True
    surest = _surest_text_confidence()
    if stop_confidence is not None:
        surest = min(surest, stop_confidence)
    if any(v.verdict == "NOT_MET" for v in verdicts) and stop_at_failure:
        complete = parsed is None
    elif parsed is not None:
        labels = parsed.group_labels
        items = [item for item in parsed.items if item.index not in labels]
        for position, item in enumerate(items):
            verdict = evaluate_item(item, facts, closed_world=closed_world)
            verdicts.append(verdict)
            by_index[item.index] = verdict
            # A later criterion could still fail more surely, and ranking uses the surest.
            if stop_at_failure and verdict.verdict == "NOT_MET" and verdict.checkable:
                so_far = fold_trial(trees, by_index, default)
                if so_far.fails and so_far.confidence >= surest:
                    complete = position == len(items) - 1
                    break
    outcome = fold_trial(trees, by_index, default)
    failing = [by_index[i] for i in dict.fromkeys(outcome.failing)]
    unknown = [by_index[i] for i in dict.fromkeys(outcome.unknown)]
    met = [v for v in verdicts if v.checkable and v.verdict == "MET"]
    questions: list[QuestionRef] = []
    seen: set[str] = set()
    for v in unknown:
        if v.question is not None and v.question.key not in seen:
            seen.add(v.question.key)
            questions.append(v.question)
    label: TrialVerdictLabel
    if outcome.fails:
        label = "not_eligible"
        names = "; ".join(_short(v.text) for v in failing[:3])
        more = f" (+{len(failing) - 3} more)" if len(failing) > 3 else ""
        reason = (f"fails {len(failing)} "
                  f"{'criterion' if len(failing) == 1 else 'criteria'}: {names}{more}")
    elif unknown:
        label = "possibly_eligible"
        reason = f"{len(met)} criteria met, {len(unknown)} to confirm"
    elif parsed is None or not parsed.items:
        label = "possibly_eligible"
        reason = "the registry record has no criteria text to check"
        if met:
            reason = f"{len(met)} registry criteria met; " + reason
    elif not outcome.passes:
        label = "possibly_eligible"
        reason = f"{len(met)} criteria met; the study team checks the rest at screening"
    else:
        label = "eligible"
        reason = f"all {len(met)} checkable criteria met" if met else \
            "no checkable criteria: the study team decides"
    return TrialMatch(
        nct_id=trial.nct_id, title=trial.title, overall_status=trial.overall_status,
        verdict=label, reason=reason, criteria=verdicts,
        failing=[v.item_index for v in failing], open_questions=questions,
        met=len(met), not_met=len(failing), unknown=len(unknown),
        reference_date=facts.ref, complete=complete)


def _short(text: str, limit: int = 80) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _default_confidence() -> float:
    """The confidence of a failing criterion that carries none (as failure_confidence)."""
    from trialscout.matching.confidence import spec

    return spec()["note"]


def _surest_text_confidence() -> float:
    from trialscout.matching.confidence import spec

    return max(v for k, v in spec().items() if k in {"answer", "fact", "note_fact", "note",
                                                     "absence"})


def stop_confidence(reach: float, kth: float | None) -> float | None:
    """The failure confidence past which checking a trial can stop.

    Ranking puts a failing trial in the not-eligible bands only once a failure is at
    least ``bands.sure_failure`` sure (:func:`trialscout.matching.rank.band_verdict`), so
    after such a failure nothing later changes the trial's band, whatever it can
    ``reach`` and whatever the ``limit``-th best score ``kth`` is (both kept for
    callers)."""
    from trialscout.matching.rules import load_rules

    return float(load_rules("ranking")["bands"]["sure_failure"])


def failure_confidence(match: TrialMatch) -> float:
    """The confidence of the surest failing criterion of a trial (0 when none fails)."""
    from trialscout.matching.confidence import spec

    failing = set(match.failing)
    default = spec()["note"]
    return max((1.0 if v.item_index < 0 else (v.confidence if v.confidence is not None
                                              else default)
                for v in match.criteria
                if v.verdict == "NOT_MET" and v.checkable and v.item_index in failing),
               default=1.0 if any(i < 0 for i in failing) else default if failing else 0.0)


def eligibility_score(match: TrialMatch) -> float:
    """The ranking floor of a verdict: the lowest score of its band.

    Bands go by verdict (eligible, possibly eligible, not eligible) and, within one, by
    whether the patient is known to have the condition the trial studies
    (``match.main_condition``); relevance and distance add up to one band's width on top
    (:func:`trialscout.matching.rank.combine`).
    """
    from trialscout.matching.rank import match_floor

    return match_floor(match)
