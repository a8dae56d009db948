"""Order the trials: likely eligible, then possibly eligible, then not eligible.

Trials are ranked in bands (``rules/ranking.yaml``), best first: by verdict, and within a
verdict, trials for a condition the patient is known to have before trials for a
condition the patient is not known to have (an osteoporosis patient's possibly eligible
Alzheimer's trial goes below every possibly eligible trial for osteoporosis). A trial
whose studied condition cannot be told (no registry conditions, none in its title) is not
demoted. Relevance and distance order the trials within a band.

score = (number of bands below the trial's band + relevance x distance factor) / bands,
in 0..1, so that sorting by score gives the band order and, within a band, the search
order (relevance is normalized by the best score among the candidates, so the score does
not depend on the query's length). A failing criterion puts a trial in the not-eligible
bands when it is sure (``bands.sure_failure``: the registry, an answer, a structured fact,
a value read from the note); a "not eligible" resting only on unsure failures (a note
mention, the note's silence) ranks with the possibly eligible trials and is labelled so
(:func:`shown`), so the label a patient sees and the order never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import QuestionRef, TrialMatch
from trialscout.matching.rules import load_rules
from trialscout.registry.model import Trial

MainCondition = Literal["recorded", "not_recorded", "undetermined"]
NOT_RECORDED: Final = "not_recorded"


def settings() -> dict[str, Any]:
    return load_rules("ranking")


def _bands() -> tuple[list[str], list[str]]:
    spec = settings()["bands"]
    return [str(v) for v in spec["verdicts"]], [str(v) for v in spec["main_condition"]]


def band_count() -> int:
    verdicts, conditions = _bands()
    return len(verdicts) * len(conditions)


def band(verdict: str, main_condition: str | None) -> int:
    """0 for the best band (eligible, condition recorded), then downwards."""
    verdicts, conditions = _bands()
    tier = conditions.index(NOT_RECORDED) if main_condition == NOT_RECORDED else 0
    return verdicts.index(verdict) * len(conditions) + tier


def sure_failure() -> float:
    """The confidence from which a failure puts a trial in the not-eligible bands: a caller
    checking a trial only up to its first failure (``stop_confidence``) stops there."""
    return float(settings()["bands"]["sure_failure"])


def band_verdict(match: TrialMatch) -> str:
    """The verdict a trial is ranked by: its own, except that a "not eligible" resting
    only on unsure failures (below ``bands.sure_failure``) ranks as possibly eligible."""
    from trialscout.matching.trial import failure_confidence

    if match.verdict == "not_eligible" and failure_confidence(match) < sure_failure():
        return "possibly_eligible"
    return match.verdict


def shown(match: TrialMatch) -> TrialMatch:
    """``match`` labelled as it ranks, so the label never says more than the evidence.

    A "not eligible" resting only on unsure failures ranks with the possibly eligible
    trials (:func:`band_verdict`); it is shown as possibly eligible too, with those
    criteria to confirm (``to_confirm``, their questions first among the open ones) and a
    reason that says so: a patient is never told "not eligible" on a note mention or on
    the note's silence. Any other match is returned as it is.
    """
    if match.verdict != "not_eligible" or band_verdict(match) == "not_eligible":
        return match
    failing = set(match.failing)
    unsure = [v for v in match.criteria if v.item_index in failing and v.verdict == "NOT_MET"]
    questions: list[QuestionRef] = []
    seen: set[str] = set()
    for question in [*(v.question for v in unsure), *match.open_questions]:
        if question is not None and question.key not in seen:
            seen.add(question.key)
            questions.append(question)
    names = "; ".join(_short(v.text) for v in unsure[:3])
    more = f" (+{len(unsure) - 3} more)" if len(unsure) > 3 else ""
    return match.model_copy(update={
        "verdict": "possibly_eligible",
        "reason": f"possibly eligible — to confirm: {names}{more} (your record suggests "
                  f"{'it does' if len(unsure) == 1 else 'they do'} not fit, but not surely)",
        "failing": [], "to_confirm": [v.item_index for v in unsure],
        "open_questions": questions, "not_met": 0,
        "unknown": match.unknown + len(unsure)})


def _short(text: str, limit: int = 80) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def match_floor(match: TrialMatch) -> float:
    """The lowest score of the band ``match`` ranks in."""
    return band_floor(band_verdict(match), match.main_condition)


def band_floor(verdict: str, main_condition: str | None) -> float:
    """The lowest score of a band: the share of the bands below it."""
    total = band_count()
    return (total - 1 - band(verdict, main_condition)) / total


def distance_factor(distance_km: float | None, radius_km: float | None) -> float:
    spec = settings()["distance"]
    if distance_km is None:
        return float(spec["floor"])
    reach = radius_km or float(spec["default_reach_km"])
    floor = float(spec["floor"])
    return floor + (1.0 - floor) * max(0.0, 1.0 - distance_km / reach)


def combine(relevance: float, floor: float, distance_km: float | None = None, *,
            use_distance: bool = False, radius_km: float | None = None) -> float:
    """One score in 0..1 from a band's floor (:func:`band_floor`), normalized relevance
    and distance."""
    within = relevance
    if use_distance:
        within *= distance_factor(distance_km, radius_km)
    return floor + min(max(within, 0.0), 1.0) / band_count()


def best_possible(reach: float) -> float:
    """The highest score a trial not yet checked can get, with ``reach`` its normalized
    relevance times its distance factor: the best band's."""
    return combine(reach, band_floor("eligible", "recorded"))


def main_condition(trial: Trial, facts: PatientFacts,
                   concepts: frozenset[str] | None = None) -> MainCondition:
    """Whether the patient is known to have the condition ``trial`` studies.

    The trial's condition is its registry conditions and the condition concepts of those
    and of its title (``concepts``, from :func:`~trialscout.matching.trial.trial_concepts`).
    It is recorded when a structured condition of the profile is that concept, a kind of
    it or a broader one (breast cancer for a HER2-positive breast cancer trial); when
    matching would find it present as an inclusion "has <condition>" (the note's own,
    present mention, a kind of it, a measurement that defines it: T-score -2.7 for
    osteoporosis); or when the note names a registry condition as the patient's own and
    present. A trial with neither registry conditions nor a condition in its title is
    undetermined.
    """
    from trialscout.patients.concepts import norm

    if concepts is None:
        from trialscout.matching.trial import trial_concepts

        concepts = trial_concepts(trial)
    names = [c for c in trial.conditions if c.strip()]
    if not concepts and not names:
        return "undetermined"
    wanted_names = {norm(n) for n in names}
    for condition in facts.profile.conditions:
        if condition.concept and any(facts.relation(condition.concept, c) != "none"
                                     for c in concepts):
            return "recorded"
        if norm(condition.name) in wanted_names:
            return "recorded"
    used = set(facts.used)
    try:
        if _present(facts, sorted(concepts), names):
            return "recorded"
    finally:
        facts.used = used
    if any(hit.positive for hit in facts.note_hits(concepts, texts=names)):
        return "recorded"
    return "not_recorded"


def _present(facts: PatientFacts, concepts: list[str], names: list[str]) -> bool:
    """Whether matching finds one of the conditions present, as it would for an inclusion
    criterion naming it (so that definitions and kinds count as for any criterion).

    Each is checked alone (a denied second condition must not hide the first), and so is
    each broader concept the condition's name qualifies ("osteoporosis" for
    "postmenopausal osteoporosis", "breast cancer" for "HER2-positive breast cancer"),
    but not a broader class it merely belongs to ("malignancy" for "lung cancer").
    """
    from trialscout.criteria.model import Concept, Constraint, Span
    from trialscout.matching.kinds import evaluate_constraint
    from trialscout.patients.concepts import concept_index, norm

    index = concept_index()
    span = Span(start=0, end=0)
    wanted: list[Concept] = []
    seen: set[str] = set()
    for cid in concepts:
        words = set(norm(index.name(cid)).split())
        for candidate in [cid, *sorted(index.vocab.ancestors(cid))]:
            name = index.name(candidate)
            if candidate in seen or (candidate != cid and not set(norm(name).split()) < words):
                continue
            seen.add(candidate)
            wanted.append(Concept(id=candidate, name=name, kind="condition", text=name,
                                  span=span))
    wanted += [Concept(id="", name=n, kind="condition", text=n, span=span) for n in names]
    for concept in wanted:
        constraint = Constraint(kind="condition", polarity="required", concept=concept,
                                text=concept.name, span=span)
        if evaluate_constraint(facts, constraint).holds is True:
            return True
    return False


def rank(matches: Sequence[TrialMatch], *, radius_km: float | None = None,
         use_distance: bool = False) -> list[TrialMatch]:
    """Score and order ``matches`` (relevance, distance_km and main_condition filled in)."""
    best = max((m.relevance for m in matches), default=0.0)
    out = []
    for match in matches:
        rel = match.relevance / best if best > 0 else 1.0
        floor = match_floor(match)
        match = shown(match)
        score = combine(rel, floor, match.distance_km, use_distance=use_distance,
                        radius_km=radius_km)
        out.append(match.model_copy(update={"eligibility": round(floor, 4),
                                            "score": round(score, 6)}))
    out.sort(key=lambda m: (-m.score, m.nct_id))
    return [m.model_copy(update={"rank": i}) for i, m in enumerate(out, start=1)]
