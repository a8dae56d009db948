"""How sure a failing verdict is, and how ranking weighs it.

A failing criterion read from text is weighed by its confidence instead of sinking a trial
flat: one weak textual failure must not put a relevant trial below an irrelevant one,
while a registry mismatch, the patient's own answer or a structured fact still sinks it.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import study
from tests.matching.builders import constraint, item, parsed
from trialscout.matching.confidence import coverage, spec
from trialscout.matching.engine import match_trials
from trialscout.matching.facts import PatientFacts
from trialscout.matching.item import evaluate_item
from trialscout.matching.rules import load_rules
from trialscout.matching.trial import eligibility_score, failure_confidence, trial_verdict
from trialscout.patients.model import PatientProfile
from trialscout.patients.notes import extract_note
from trialscout.registry.api_v2 import trial_from_api_v2

REF = date(2024, 6, 1)
NOTE = ("A 62-year-old woman with osteoporosis. She also has chronic kidney disease. "
        "She takes alendronate.")
# the same, with kidney disease only as a short abbreviation: a loose reading of the note
LOOSE_NOTE = "A 62-year-old woman with osteoporosis. She also has CKD. She takes alendronate."


def ckd_exclusion(text: str = "Chronic kidney disease", index: int = 0):  # type: ignore
    return item([constraint("condition", polarity="must_not", cid="chronic_kidney_disease",
                            text="Chronic kidney disease")],
                section="exclusion", text=text, key="has:ckd", meets="no", index=index)


def osteo(index: int = 0):  # type: ignore[no-untyped-def]
    return item([constraint("condition", cid="osteoporosis", text="Osteoporosis")],
                text="Osteoporosis", key="has:osteoporosis", index=index)


def trial(nct: str = "NCT09990001", **elig: object):  # type: ignore[no-untyped-def]
    module = {"eligibilityCriteria": "x", "sex": "FEMALE", "minimumAge": "50 Years"}
    module.update(elig)
    return trial_from_api_v2(study(nct, eligibilityModule=module))


def structured(**data: object) -> PatientProfile:
    base: dict[str, object] = {
        "age_years": 62, "sex": "female",
        "conditions": [{"name": "osteoporosis", "concept": "osteoporosis"},
                       {"name": "CKD stage 3", "concept": "chronic_kidney_disease"}]}
    base.update(data)
    return PatientProfile.model_validate(base)


def noted() -> PatientProfile:
    return extract_note(NOTE, reference_date=REF)


def noted_loosely() -> PatientProfile:
    return extract_note(LOOSE_NOTE, reference_date=REF)


def test_confidence_follows_what_decided_the_failure() -> None:
    table = spec()
    from_fact = evaluate_item(ckd_exclusion(), PatientFacts(structured(), REF))
    from_note = evaluate_item(ckd_exclusion(), PatientFacts(noted_loosely(), REF))
    answered = evaluate_item(ckd_exclusion(), PatientFacts(
        structured(conditions=[]).with_answer("has:ckd", "yes"), REF))
    assert from_fact.verdict == from_note.verdict == answered.verdict == "NOT_MET"
    assert answered.confidence == table["answer"]
    assert from_fact.confidence == table["fact"]
    assert from_note.evidence[0].kind == "note"
    assert from_note.confidence == table["note"]
    assert answered.confidence > from_fact.confidence > from_note.confidence
    # a verdict that does not fail carries no confidence
    assert evaluate_item(osteo(), PatientFacts(structured(), REF)).confidence is None


def test_a_precise_note_mention_is_as_sure_as_a_note_value() -> None:
    """"She also has chronic kidney disease": the criterion's concept, written out, as the
    patient's own and present, against a criterion read in full, settles it; the same
    note with only "CKD" does not (a short form is a loose reading)."""
    table = spec()
    precise = evaluate_item(ckd_exclusion(), PatientFacts(noted(), REF))
    loose = evaluate_item(ckd_exclusion(), PatientFacts(noted_loosely(), REF))
    assert precise.verdict == loose.verdict == "NOT_MET"
    assert precise.confidence == table["note_precise"] >= load_rules("ranking")["bands"][
        "sure_failure"]
    assert loose.confidence == table["note"]
    # a relative's kidney disease excludes no one; a criterion read in part stays unsure
    family = extract_note("A 62-year-old woman. Her mother has chronic kidney disease.",
                          reference_date=REF)
    assert evaluate_item(ckd_exclusion(), PatientFacts(family, REF)).verdict != "NOT_MET"
    long_text = ("Chronic kidney disease documented by a nephrologist with rising creatinine, "
                 "proteinuria, abnormal biopsy findings and planned dialysis access")
    partial = evaluate_item(ckd_exclusion(long_text), PatientFacts(noted(), REF))
    assert partial.verdict == "NOT_MET" and partial.confidence < table["note_precise"]


def test_a_criterion_understood_only_in_part_is_less_sure() -> None:
    long_text = ("Chronic kidney disease documented by a nephrologist with rising creatinine, "
                 "proteinuria, abnormal biopsy findings and planned dialysis access")
    weak = ckd_exclusion(long_text)
    assert coverage(weak, weak.constraints[0]) < spec()["min_coverage"]
    short = evaluate_item(ckd_exclusion(), PatientFacts(structured(), REF))
    partial = evaluate_item(weak, PatientFacts(structured(), REF))
    assert partial.verdict == "NOT_MET"
    assert partial.confidence == pytest.approx(short.confidence * spec()["weak_parse"])


def test_a_negated_statement_settled_by_an_absence_is_less_sure() -> None:
    # "Patients without osteoporosis" as an exclusion: the parser's negation makes the
    # constraint required, and the patient's denial then excludes them.
    without = item([constraint("condition", polarity="required", cid="osteoporosis",
                               text="osteoporosis")], section="exclusion",
                   text="Patients without osteoporosis")
    without = without.model_copy(update={"constraints": [
        without.constraints[0].model_copy(update={"negated": True})]})
    p = PatientProfile.model_validate({"denied": [{"name": "osteoporosis",
                                                   "concept": "osteoporosis"}]})
    result = evaluate_item(without, PatientFacts(p, REF))
    assert result.verdict == "NOT_MET"
    assert result.confidence == pytest.approx(spec()["fact"] * spec()["double_negation"])


def test_a_text_age_bound_the_registry_contradicts_is_less_sure() -> None:
    over_70 = item([constraint("age", quantity={"comparator": "ge", "value": 71,
                                                "unit": "year"})],
                   text="Aged 18 - 70 years; patients under 71 count as 70 or younger")
    registry_says_18_70 = trial(minimumAge="18 Years", maximumAge="70 Years")
    result = trial_verdict(registry_says_18_70, parsed(over_70),
                           PatientFacts(structured(conditions=[], age_years=68), REF))
    text_age = next(v for v in result.criteria if v.item_index == 0)
    assert text_age.verdict == "NOT_MET"
    assert text_age.confidence == pytest.approx(spec()["fact"] * spec()["registry_disagrees"])
    no_registry_bounds = trial(minimumAge=None)
    result = trial_verdict(no_registry_bounds, parsed(over_70),
                           PatientFacts(structured(conditions=[], age_years=68), REF))
    assert next(v for v in result.criteria if v.item_index == 0).confidence == spec()["fact"]


def test_failure_confidence_orders_the_failures_by_how_sure_they_are() -> None:
    facts = PatientFacts(noted(), REF)
    eligible = trial_verdict(trial(), parsed(osteo()), facts)
    possibly = trial_verdict(trial(), parsed(osteo(), item(
        [constraint("condition", polarity="must_not", cid="diabetes")], section="exclusion",
        text="Diabetes", index=1)), facts)
    weak = trial_verdict(trial(), parsed(osteo(), ckd_exclusion(index=1)),
                         PatientFacts(noted_loosely(), REF))
    strong = trial_verdict(trial(), parsed(osteo(), ckd_exclusion(index=1)),
                           PatientFacts(structured(), REF))
    registry = trial_verdict(trial(sex="MALE"), parsed(osteo()), facts)
    assert [m.verdict for m in (eligible, possibly, weak, strong, registry)] == [
        "eligible", "possibly_eligible", "not_eligible", "not_eligible", "not_eligible"]
    assert failure_confidence(registry) == 1.0
    sureness = [failure_confidence(m) for m in (weak, strong, registry)]
    assert sureness == sorted(sureness) and len(set(sureness)) == 3
    # A sure failure (a structured fact, the registry) ranks in the not-eligible band; a
    # failure resting on a note mention only ranks with the possibly eligible trials.
    sure = load_rules("ranking")["bands"]["sure_failure"]
    assert failure_confidence(weak) < sure <= failure_confidence(strong)
    scores = [eligibility_score(m) for m in (eligible, possibly, weak, strong, registry)]
    assert scores[0] > scores[1] == scores[2] > scores[3] == scores[4]


def test_a_weak_failure_ranks_by_relevance_a_sure_one_below_open_trials() -> None:
    """A "not eligible" read only from a note mention is often wrong, and a false
    exclusion hides a trial the patient could join: it ranks with the open trials, by
    relevance. A failure on a structured fact or the registry's sex ranks below them."""
    relevant = trial("NCT09990001")
    irrelevant = trial("NCT09990002")
    criteria = {"NCT09990001": parsed(osteo(), ckd_exclusion(index=1)),
                "NCT09990002": parsed()}
    relevance = {"NCT09990001": 10.0, "NCT09990002": 6.0}
    ranked = match_trials(noted_loosely(), [relevant, irrelevant],
                          lambda t: criteria[t.nct_id], reference_date=REF,
                          relevance=relevance)
    assert [(m.nct_id, m.verdict) for m in ranked] == [
        ("NCT09990001", "possibly_eligible"), ("NCT09990002", "possibly_eligible")]
    assert ranked[0].to_confirm == [1] and ranked[0].failing == []
    ranked = match_trials(structured(), [relevant, irrelevant], lambda t: criteria[t.nct_id],
                          reference_date=REF, relevance=relevance)
    assert [(m.nct_id, m.verdict) for m in ranked] == [
        ("NCT09990002", "possibly_eligible"), ("NCT09990001", "not_eligible")]
    # and so does a failure on the registry's sex
    male_only = trial("NCT09990001", sex="MALE")
    ranked = match_trials(noted(), [male_only, irrelevant], lambda t: criteria[t.nct_id],
                          reference_date=REF, relevance=relevance)
    assert ranked[0].nct_id == "NCT09990002"


def test_stopping_at_a_weak_failure_would_miss_a_surer_one() -> None:
    # The weak (note) failure comes first; the sure one (the patient's answer) later.
    answered = noted_loosely().with_answer("has:diabetes", "yes")
    diabetes = item([constraint("condition", polarity="must_not", cid="diabetes")],
                    section="exclusion", text="Diabetes", key="has:diabetes", meets="no",
                    index=2)
    criteria = parsed(osteo(), ckd_exclusion(index=1), diabetes)
    full = trial_verdict(trial(), criteria, PatientFacts(answered, REF))
    early = trial_verdict(trial(), criteria, PatientFacts(answered, REF), stop_at_failure=True)
    assert failure_confidence(full) == spec()["answer"]
    assert eligibility_score(early) == eligibility_score(full)
