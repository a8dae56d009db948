"""Trial verdicts (eligible / possibly / not), answers reused across trials, and ranking."""

from __future__ import annotations

from datetime import date

from tests.factories import study
from tests.matching.builders import constraint, item, parsed
from trialscout.matching.engine import match_trials
from trialscout.matching.facts import PatientFacts
from trialscout.matching.rules import load_rules
from trialscout.matching.trial import trial_verdict
from trialscout.patients.model import PatientProfile
from trialscout.registry.api_v2 import trial_from_api_v2
from trialscout.search.models import NearestSite

REF = date(2024, 6, 1)
OSTEO = item([constraint("condition", cid="osteoporosis")], text="Osteoporosis",
             key="has:osteoporosis")
NO_CKD = item([constraint("condition", polarity="must_not", cid="chronic_kidney_disease")],
              section="exclusion", text="Chronic kidney disease", key="has:ckd", meets="no")
CONSENT = item([constraint("consent", text="Informed consent")], kind="consent",
               answerable=False, text="Informed consent")


def trial(nct: str = "NCT09990001", **elig: object):  # type: ignore[no-untyped-def]
    module = {"eligibilityCriteria": "x", "sex": "FEMALE", "minimumAge": "50 Years"}
    module.update({k: v for k, v in elig.items()})
    return trial_from_api_v2(study(nct, eligibilityModule=module))


def profile(**data: object) -> PatientProfile:
    base = {"age_years": 62, "sex": "female",
            "conditions": [{"name": "osteoporosis", "concept": "osteoporosis"}]}
    base.update(data)
    return PatientProfile.model_validate(base)


def test_possibly_eligible_lists_questions() -> None:
    result = trial_verdict(trial(), parsed(OSTEO, NO_CKD, CONSENT),
                           PatientFacts(profile(), REF))
    assert result.verdict == "possibly_eligible"
    assert [q.key for q in result.open_questions] == ["has:ckd"]
    assert result.unknown == 1 and result.not_met == 0


def test_eligible_when_everything_checkable_is_met() -> None:
    p = profile(denied=[{"name": "CKD", "concept": "chronic_kidney_disease"}])
    result = trial_verdict(trial(), parsed(OSTEO, NO_CKD, CONSENT), PatientFacts(p, REF))
    assert result.verdict == "eligible"
    assert result.open_questions == []


def test_not_eligible_names_failing_criteria() -> None:
    p = profile(conditions=[{"name": "osteoporosis", "concept": "osteoporosis"},
                            {"name": "CKD 4", "concept": "chronic_kidney_disease"}])
    result = trial_verdict(trial(), parsed(OSTEO, NO_CKD), PatientFacts(p, REF))
    assert result.verdict == "not_eligible"
    assert "Chronic kidney disease" in result.reason
    assert result.failing == [1]


def test_registry_sex_and_age_bounds() -> None:
    young_man = profile(age_years=30, sex="male")
    result = trial_verdict(trial(), None, PatientFacts(young_man, REF))
    assert result.verdict == "not_eligible"
    assert {v.kind for v in result.criteria if v.verdict == "NOT_MET"} == {"sex", "age"}
    no_bounds = trial(sex="ALL", minimumAge=None)
    open_trial = trial_verdict(no_bounds, None, PatientFacts(young_man, REF))
    assert open_trial.verdict == "possibly_eligible"
    assert "no criteria text" in open_trial.reason


def test_answer_to_a_question_key_serves_every_trial() -> None:
    answered = profile().with_answer("has:ckd", "no", "Do you have chronic kidney disease?")
    first = parsed(OSTEO, NO_CKD)
    second = parsed(item([constraint("condition", polarity="must_not",
                                     cid="chronic_kidney_disease")], section="exclusion",
                         text="Renal insufficiency (CKD)", key="has:ckd", meets="no"))
    for nct, criteria in (("NCT09990001", first), ("NCT09990002", second)):
        facts = PatientFacts(answered, REF)
        result = trial_verdict(trial(nct), criteria, facts)
        assert result.verdict == "eligible", nct
        answer_verdict = [v for v in result.criteria if v.question and v.question.key == "has:ckd"]
        assert answer_verdict[0].evidence[0].kind == "answer"
        assert answered.answers[0].id in facts.used
    yes = profile().with_answer("has:ckd", "yes")
    assert trial_verdict(trial(), first, PatientFacts(yes, REF)).verdict == "not_eligible"
    unsure = profile().with_answer("has:ckd", "unsure")
    assert trial_verdict(trial(), first, PatientFacts(unsure, REF)).verdict == \
        "possibly_eligible"


def test_answer_overrides_record_and_replaces_earlier_answer() -> None:
    p = profile().with_answer("has:osteoporosis", "no").with_answer("has:osteoporosis", "yes")
    assert len(p.answers) == 1 and p.answers[0].answer == "yes"


def test_ranking_combines_relevance_eligibility_and_distance() -> None:
    trials = [trial("NCT09990001"), trial("NCT09990002"), trial("NCT09990003", sex="MALE")]
    criteria = {"NCT09990001": parsed(OSTEO), "NCT09990002": parsed(OSTEO),
                "NCT09990003": parsed(OSTEO)}
    relevance = {"NCT09990001": 5.0, "NCT09990002": 5.0, "NCT09990003": 9.0}

    def site(km: float) -> NearestSite:
        return NearestSite(city="X", distance_km=km, distance=km)

    far_near = {"NCT09990001": site(400.0), "NCT09990002": site(10.0),
                "NCT09990003": site(1.0)}
    ranked = match_trials(profile(), trials, lambda t: criteria[t.nct_id], reference_date=REF,
                          relevance=relevance, sites=far_near, radius_km=500,
                          use_distance=True)
    order = [m.nct_id for m in ranked]
    assert order[0] == "NCT09990002"
    assert order[-1] == "NCT09990003"
    assert [m.rank for m in ranked] == [1, 2, 3]
    assert ranked[0].distance_km == 10.0
    no_distance = match_trials(profile(), trials, lambda t: criteria[t.nct_id],
                               reference_date=REF, relevance=relevance, sites=far_near)
    assert {m.nct_id for m in no_distance[:2]} == {"NCT09990001", "NCT09990002"}
    assert no_distance[0].score == no_distance[1].score


def test_match_records_profile_version_and_facts() -> None:
    ranked = match_trials(profile(), [trial()], lambda t: parsed(OSTEO), reference_date=REF,
                          patient_id=7, version=3)
    assert ranked[0].patient_id == 7 and ranked[0].profile_version == 3
    assert "c1" in ranked[0].facts_used


def test_broad_exclusion_does_not_exclude_the_studied_condition() -> None:
    other_bone = parsed(item([constraint("condition", polarity="must_not", cid="bone_disease")],
                             section="exclusion", text="Other metabolic bone disease"))
    p = profile()
    osteo_trial = trial()
    studied = trial_verdict(osteo_trial, other_bone, PatientFacts(p, REF))
    assert studied.verdict == "possibly_eligible"
    assert studied.criteria[-1].verdict == "UNKNOWN"
    diabetes_trial = trial_from_api_v2(study(
        "NCT09990009", conditionsModule={"conditions": ["Type 2 Diabetes"]},
        eligibilityModule={"eligibilityCriteria": "x", "sex": "ALL"}))
    assert trial_verdict(diabetes_trial, other_bone, PatientFacts(p, REF)).verdict == \
        "not_eligible"


# ---------------------------------------------------------------------- ranking bands
def condition_trial(nct: str, conditions: list[str], title: str = "A study"):  # type: ignore[no-untyped-def]
    return trial_from_api_v2(study(
        nct, identificationModule={"nctId": nct, "briefTitle": title},
        conditionsModule={"conditions": conditions},
        eligibilityModule={"eligibilityCriteria": "x", "sex": "ALL"}))


def test_verdict_groups_come_first_and_relevance_orders_within_them() -> None:
    """An eligible trial is never below a possibly eligible one, nor that below a failing
    one, however much more relevant the lower group is; within a group relevance rules."""
    p = profile(denied=[{"name": "CKD", "concept": "chronic_kidney_disease"},
                        {"name": "diabetes", "concept": "diabetes"}])
    trials = [condition_trial(f"NCT0999000{i}", ["Osteoporosis"]) for i in range(1, 6)]
    fails = parsed(OSTEO, item([constraint("condition", cid="diabetes")], text="Diabetes"))
    criteria = {"NCT09990001": parsed(OSTEO, NO_CKD),       # eligible, least relevant
                "NCT09990002": parsed(OSTEO, NO_CKD),       # eligible
                "NCT09990003": parsed(OSTEO, item([constraint("condition", cid="asthma")],
                                                  text="Asthma")),     # open question
                "NCT09990004": fails,                         # not eligible, most relevant
                "NCT09990005": None}                          # no criteria text: possibly
    relevance = {"NCT09990001": 1.0, "NCT09990002": 2.0, "NCT09990003": 3.0,
                 "NCT09990004": 9.0, "NCT09990005": 4.0}
    ranked = match_trials(p, trials, lambda t: criteria[t.nct_id], reference_date=REF,
                          relevance=relevance, closed_world=False)
    verdicts = {m.nct_id: m.verdict for m in ranked}
    assert verdicts["NCT09990001"] == verdicts["NCT09990002"] == "eligible"
    assert verdicts["NCT09990004"] == "not_eligible"
    assert [m.nct_id for m in ranked] == ["NCT09990002", "NCT09990001", "NCT09990005",
                                          "NCT09990003", "NCT09990004"]
    assert [m.score for m in ranked] == sorted((m.score for m in ranked), reverse=True)
    assert all(0.0 <= m.score <= 1.0 for m in ranked)


def test_a_weak_failure_ranks_with_the_possibly_eligible_trials() -> None:
    """A "not eligible" that rests only on a loose note mention (a denial far from the
    word, "never been told by a doctor that she has asthma", against an asthma inclusion)
    is unsure: it ranks among the possibly eligible trials by relevance, never above an
    eligible one. ("She has never had asthma" would settle it: see test_confidence.)"""
    note = PatientProfile.model_validate({
        "age_years": 62, "sex": "female",
        "free_text": "Osteoporosis, T-score -2.9. She has never been told by a doctor "
                     "that she has asthma."})
    weak = parsed(OSTEO, item([constraint("condition", cid="asthma")], text="Asthma"))
    trials = [condition_trial("NCT09990001", ["Osteoporosis"]),
              condition_trial("NCT09990002", ["Osteoporosis"]),
              condition_trial("NCT09990003", ["Osteoporosis"])]
    criteria = {"NCT09990001": weak, "NCT09990002": parsed(OSTEO),
                "NCT09990003": parsed(OSTEO, NO_CKD)}
    ranked = match_trials(note, trials, lambda t: criteria[t.nct_id], reference_date=REF,
                          relevance={"NCT09990001": 50.0, "NCT09990002": 1.0,
                                     "NCT09990003": 2.0})
    assert [(m.nct_id, m.verdict) for m in ranked] == [
        ("NCT09990002", "eligible"), ("NCT09990001", "possibly_eligible"),
        ("NCT09990003", "possibly_eligible")]
    unsure = ranked[1]
    assert unsure.criteria[-1].verdict == "NOT_MET"
    assert unsure.criteria[-1].confidence is not None
    assert unsure.criteria[-1].confidence < load_rules("ranking")["bands"]["sure_failure"]
    # The label says what the rank says: to confirm, not "not eligible".
    assert unsure.failing == [] and unsure.to_confirm == [unsure.criteria[-1].item_index]
    assert unsure.reason.startswith("possibly eligible — to confirm: Asthma")
    assert unsure.not_met == 0
    raw = trial_verdict(trials[0], weak, PatientFacts(note, REF))
    assert raw.verdict == "not_eligible" and raw.failing == unsure.to_confirm


def test_trials_for_a_condition_not_recorded_rank_below_recorded_ones() -> None:
    """An osteoporosis patient: possibly eligible trials for dementia or for HER2-positive
    breast cancer go below the possibly eligible osteoporosis trials, however relevant."""
    trials = [condition_trial("NCT09990001", ["Alzheimer Disease"], "Memory in dementia"),
              condition_trial("NCT09990002", ["HER2-positive Breast Cancer"]),
              condition_trial("NCT09990003", ["Postmenopausal Osteoporosis", "Osteoporosis"]),
              condition_trial("NCT09990004", []),
              condition_trial("NCT09990005", ["Osteoporosis"])]
    relevance = {"NCT09990001": 9.0, "NCT09990002": 8.0, "NCT09990003": 2.0,
                 "NCT09990004": 1.0, "NCT09990005": 3.0}
    ranked = match_trials(profile(), trials, lambda t: None, reference_date=REF,
                          relevance=relevance)
    assert {m.verdict for m in ranked} == {"possibly_eligible"}
    main = {m.nct_id: m.main_condition for m in ranked}
    assert main == {"NCT09990001": "not_recorded", "NCT09990002": "not_recorded",
                    "NCT09990003": "recorded", "NCT09990004": "undetermined",
                    "NCT09990005": "recorded"}
    assert [m.nct_id for m in ranked] == ["NCT09990005", "NCT09990003", "NCT09990004",
                                          "NCT09990001", "NCT09990002"]


def test_a_condition_named_in_the_note_counts_as_recorded_unless_denied() -> None:
    from trialscout.matching.rank import main_condition

    dementia = condition_trial("NCT09990001", ["Alzheimer Disease"])
    rare = condition_trial("NCT09990002", ["Frobnitz syndrome"])
    said = PatientProfile.model_validate({"free_text": "She has Frobnitz syndrome and "
                                          "Alzheimer disease."})
    denied = PatientProfile.model_validate({"free_text": "No Alzheimer disease. Her mother "
                                            "had Frobnitz syndrome."})
    for trial_, expected_said in ((dementia, "recorded"), (rare, "recorded")):
        assert main_condition(trial_, PatientFacts(said, REF)) == expected_said
        assert main_condition(trial_, PatientFacts(denied, REF)) == "not_recorded"


def test_engine_early_stop_keeps_the_banded_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Checking stops early only when no unchecked trial could enter the shown results:
    the results equal those of checking every candidate."""
    from trialscout.app import create_app
    from trialscout.matching.engine import MatchOptions
    from trialscout.matching.rank import band_verdict
    from trialscout.patients.notes import extract_note
    from trialscout.sample import sample_path

    app = create_app(database_url=f"sqlite:///{tmp_path / 's.db'}")
    try:
        app.import_paths([sample_path()])
        note = extract_note("A 68-year-old woman with osteoporosis and type 2 diabetes. "
                            "T-score -2.9. No kidney disease.", reference_date=REF)
        full = app.match(note, MatchOptions(reference_date=REF, limit=40))
        checked = []
        for limit in (1, 3):
            short = app.match(note, MatchOptions(reference_date=REF, limit=limit))
            assert [m.nct_id for m in short.results] == \
                [m.nct_id for m in full.results[:limit]]
            assert all(m.complete for m in short.results)
            checked.append(short.checked)
        assert max(checked) <= full.checked
        order = [(["eligible", "possibly_eligible", "not_eligible"].index(band_verdict(m)),
                  m.main_condition == "not_recorded") for m in full.results]
        assert order == sorted(order)
    finally:
        app.close()


def test_a_candidate_is_skipped_only_when_even_the_best_band_cannot_lift_it() -> None:
    from trialscout.matching.engine import _cannot_enter
    from trialscout.matching.rank import band_floor, best_possible, combine

    eligible_recorded = [combine(r, band_floor("eligible", "recorded")) for r in (1.0, 0.9)]
    possibly = [combine(r, band_floor("possibly_eligible", "recorded")) for r in (1.0, 0.9)]
    # Two eligible trials of relevance 0.9 and up: a candidate of relevance 0.5 cannot
    # pass the second of them even if it turns out eligible, one of 0.95 can.
    assert _cannot_enter(0.5, eligible_recorded, limit=2)
    assert not _cannot_enter(0.95, eligible_recorded, limit=2)
    # Behind possibly eligible trials any candidate may still be eligible: never skipped.
    assert not _cannot_enter(0.01, possibly, limit=2)
    assert not _cannot_enter(0.01, eligible_recorded, limit=3)     # fewer than shown yet
    assert best_possible(1.0) == 1.0 and best_possible(0.0) == band_floor("eligible", None)
