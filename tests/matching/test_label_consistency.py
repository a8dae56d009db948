"""The label a patient sees says what the ranking says.

A "not eligible" that rests only on unsure failures (a note mention, the note's silence, a
criterion understood only in part) ranks with the possibly eligible trials; it is also
labelled possibly eligible, with those criteria to confirm, so that nobody is told "not
eligible" on unsure evidence and no label contradicts the order. Checked as a property
over drawn trials and patients, on the bundled sample through ``app.match`` and the CLI.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.factories import study
from tests.matching.builders import constraint, item, parsed
from trialscout.app import TrialScout
from trialscout.cli import _load_commands, cli
from trialscout.criteria.model import Item
from trialscout.matching.engine import MatchOptions, match_trials
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import TrialMatch
from trialscout.matching.rank import band_verdict, shown, sure_failure
from trialscout.matching.trial import failure_confidence, trial_verdict
from trialscout.patients.model import PatientProfile
from trialscout.patients.notes import extract_note
from trialscout.registry.api_v2 import trial_from_api_v2
from trialscout.sample import sample_path

REF = date(2024, 6, 1)
Answer = Literal["yes", "no"]
ORDER = {"eligible": 0, "possibly_eligible": 1, "not_eligible": 2}
_load_commands()
runner = CliRunner()


def _osteo(index: int) -> Item:
    return item([constraint("condition", cid="osteoporosis", text="Osteoporosis")],
                text="Osteoporosis", key="has:osteoporosis", index=index)


def _ckd(index: int) -> Item:
    return item([constraint("condition", polarity="must_not", cid="chronic_kidney_disease",
                            text="Chronic kidney disease")], section="exclusion",
                text="Chronic kidney disease", key="has:ckd", meets="no", index=index)


def _diabetes(index: int) -> Item:
    return item([constraint("condition", cid="diabetes", text="Diabetes")],
                text="Diabetes", key="has:diabetes", index=index)


def _asthma(index: int) -> Item:
    return item([constraint("condition", polarity="must_not", cid="asthma", text="Asthma")],
                section="exclusion", text="Asthma", key="has:asthma", meets="no",
                index=index)


ITEMS = [_osteo, _ckd, _diabetes, _asthma]
NOTES = ["A 64-year-old woman with osteoporosis. She has chronic kidney disease.",
         "Osteoporosis, T-score -2.8. She has never had diabetes. Asthma since childhood.",
         "A 70-year-old woman. No kidney disease. Type 2 diabetes on metformin.",
         "She reports no asthma and no diabetes."]


def _profile(kind: int, note: int, answers: list[tuple[str, Answer]]) -> PatientProfile:
    if kind == 0:
        profile = extract_note(NOTES[note], reference_date=REF)
    else:
        profile = PatientProfile.model_validate({
            "age_years": 64, "sex": "female",
            "conditions": [{"name": "osteoporosis", "concept": "osteoporosis"},
                           {"name": "CKD stage 3", "concept": "chronic_kidney_disease"}]})
    for key, value in answers:
        profile = profile.with_answer(key, value)
    return profile


def check_label(match: TrialMatch) -> None:
    """The invariants between a shown match's label, reason, lists and rank band."""
    assert match.verdict == band_verdict(match), match.reason
    if match.verdict == "not_eligible":
        assert failure_confidence(match) >= sure_failure()
        assert not match.to_confirm
    if match.to_confirm:
        assert match.verdict == "possibly_eligible"
        assert match.reason.startswith("possibly eligible — to confirm: ")
        assert not set(match.to_confirm) & set(match.failing)
        by_index = {c.item_index: c for c in match.criteria}
        keys = {q.key for q in match.open_questions}
        for index in match.to_confirm:
            criterion = by_index[index]
            assert criterion.verdict == "NOT_MET"
            assert (criterion.confidence or 0.0) < sure_failure()
            assert criterion.question is None or criterion.question.key in keys


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.integers(0, len(ITEMS) - 1), min_size=0, max_size=4,
                         unique=True), min_size=1, max_size=5),
       st.integers(0, 1), st.integers(0, len(NOTES) - 1),
       st.lists(st.tuples(st.sampled_from(["has:ckd", "has:diabetes", "has:asthma"]),
                          st.sampled_from(["yes", "no"])), max_size=2, unique_by=lambda a: a[0]),
       st.lists(st.floats(0.1, 10.0), min_size=5, max_size=5),
       st.lists(st.sampled_from(["ALL", "FEMALE", "MALE"]), min_size=5, max_size=5))
def test_every_label_agrees_with_its_rank_band(
        trial_items: list[list[int]], kind: int, note: int, answers: list[tuple[str, Answer]],
        relevance: list[float], sexes: list[str]) -> None:
    profile = _profile(kind, note, answers)
    trials, criteria = [], {}
    for number, chosen in enumerate(trial_items):
        nct = f"NCT0999{number:04d}"
        trials.append(trial_from_api_v2(study(nct, eligibilityModule={
            "eligibilityCriteria": "x", "sex": sexes[number]})))
        criteria[nct] = parsed(*[ITEMS[k](i) for i, k in enumerate(chosen)]) if chosen \
            else None
    ranked = match_trials(profile, trials, lambda t: criteria[t.nct_id], reference_date=REF,
                          relevance={t.nct_id: relevance[i] for i, t in enumerate(trials)})
    for match in ranked:
        check_label(match)
        raw = trial_verdict(next(t for t in trials if t.nct_id == match.nct_id),
                            criteria[match.nct_id], PatientFacts(profile, REF))
        # Only the unsure "not eligible" changes its label; nothing else is relabelled.
        if raw.verdict != match.verdict:
            assert raw.verdict == "not_eligible" and match.to_confirm == raw.failing
    bands = [ORDER[m.verdict] for m in ranked]
    assert bands == sorted(bands)


def test_shown_is_idempotent_and_keeps_sure_failures() -> None:
    # kidney disease only as "CKD": a loose reading, so an unsure failure
    noted = extract_note("A 64-year-old woman with osteoporosis. She has CKD.",
                         reference_date=REF)
    female = trial_from_api_v2(study("NCT09990001", eligibilityModule={
        "eligibilityCriteria": "x", "sex": "FEMALE"}))
    unsure = trial_verdict(female, parsed(_osteo(0), _ckd(1)), PatientFacts(noted, REF))
    assert unsure.verdict == "not_eligible" and failure_confidence(unsure) < sure_failure()
    once = shown(unsure)
    assert once.verdict == "possibly_eligible" and once.to_confirm == [1]
    assert "has:ckd" in {q.key for q in once.open_questions}
    assert shown(once) == once
    answered = noted.with_answer("has:ckd", "yes")
    sure = trial_verdict(female, parsed(_osteo(0), _ckd(1)), PatientFacts(answered, REF))
    assert shown(sure) == sure and sure.verdict == "not_eligible"
    male_only = trial_from_api_v2(study("NCT09990002", eligibilityModule={
        "eligibilityCriteria": "x", "sex": "MALE"}))
    registry = trial_verdict(male_only, parsed(_osteo(0)), PatientFacts(noted, REF))
    assert shown(registry).verdict == "not_eligible"


# A note that denies a drug some sample trials require: read from a note mention only.
SAMPLE_NOTE = ("A 67-year-old postmenopausal woman with osteoporosis (lumbar spine T-score "
               "-3.0) and a vertebral fracture two years ago. She has never taken denosumab.")


def test_sample_matches_label_unsure_failures_to_confirm(file_app: TrialScout) -> None:
    file_app.import_paths([sample_path()])
    profile = extract_note(SAMPLE_NOTE, reference_date=REF)
    response = file_app.match(profile, MatchOptions(reference_date=REF, limit=40))
    for match in response.results:
        check_label(match)
    confirm = [m for m in response.results if m.to_confirm]
    assert confirm, "the note's denial of denosumab leaves some trial to confirm"
    bands = [ORDER[m.verdict] for m in response.results]
    assert bands == sorted(bands)


def test_cli_match_never_says_not_eligible_on_unsure_evidence(
        file_app: TrialScout, monkeypatch: pytest.MonkeyPatch) -> None:
    from trialscout.cli import console

    monkeypatch.setattr(console, "width", 400)     # one table row per line
    file_app.import_paths([sample_path()])
    url = str(file_app.engine.url)
    result = runner.invoke(cli, ["--database", url, "match", "--note", SAMPLE_NOTE,
                                 "--date", REF.isoformat(), "--limit", "40", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    confirm = [m for m in body["results"] if m["to_confirm"]]
    assert confirm and all(m["verdict"] == "possibly_eligible" for m in confirm)
    for match in body["results"]:
        check_label(TrialMatch.model_validate(match))
    text = runner.invoke(cli, ["--database", url, "match", "--note", SAMPLE_NOTE,
                               "--date", REF.isoformat(), "--limit", "40"])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    for match in confirm:
        start = next(i for i, line in enumerate(lines) if match["nct_id"] in line)
        end = next(i for i in range(start, len(lines)) if lines[i][:1] in {"├", "└"})
        row = " ".join(lines[start:end])
        assert "possibly eligible" in row and "not eligible" not in row, row
        assert "possibly eligible — to confirm" in row, row
