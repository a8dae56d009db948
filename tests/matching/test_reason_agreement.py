"""The reason a verdict shows agrees with the verdict (issue 13, "Verdicts that mean what
they say").

A patient reads the reason next to the verdict. A criterion marked MET whose reason says
"no eGFR value recorded", or an "eligible" trial whose reason lists failures, tells them two
different things. The checks are on shapes every reason must have, not on exact wording:

* a decided criterion (MET / NOT_MET) that a patient can check rests on something: evidence
  from the record, or a reason saying the criterion does not apply to the patient; its reason
  names what decided it, not only what is missing (parts of an item that did not decide it
  may still be open: "no information about fracture; denosumab: recorded as absent" passes
  an exclusion of a fracture *while on* denosumab);
* an open criterion (UNKNOWN) does not carry a decided reason ("excluded: ...");
* ``holds`` (the criterion's own statement) is consistent with the verdict and section;
* the trial's label, reason, counts and failing list agree with its criteria.

The fast tier runs every criterion of the bundled sample for a few patients; the slow tier
runs the 5,064 real criteria texts in ../shared/data for its 30 synthetic patients.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest

from trialscout.criteria import parse_criteria
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import CriterionVerdict, TrialMatch
from trialscout.matching.trial import trial_verdict
from trialscout.patients.loader import load_patient_text
from trialscout.patients.model import PatientProfile
from trialscout.registry.api_v2 import trial_from_api_v2
from trialscout.registry.model import Trial
from trialscout.sample import sample_path

REF = date(2025, 6, 1)
OPEN = re.compile(
    r"no information|no [\w\s()./%-]*value recorded|(?:is |are )?not recorded|not known|"
    r"not understood|checked by the study team|less specific|not whether|"
    r"to confirm|not stated|cannot be checked", re.IGNORECASE)
DECIDED = re.compile(r"^(?:excluded|included|meets|fails)\b", re.IGNORECASE)
ABSENT = re.compile(r"not mentioned in the (?:note|record)", re.IGNORECASE)
NOT_APPLICABLE = re.compile(r"not applicable|does not apply|excludes no one|open to all|"
                            r"allows a group", re.IGNORECASE)
ELIGIBLE_FAILURE = re.compile(r"\bfail|\bnot met\b|\bto confirm\b", re.IGNORECASE)
NUMBER = r"-?\d+(?:\.\d+)?"
REQUIREMENT = re.compile(
    rf"^(?:\w+: )?(?P<label>.*?)\s(?P<value>{NUMBER})(?: (?P<unit>[^\s,;]+))?"
    rf"(?: \(= (?P<same>{NUMBER})[^)]*\))?, required (?P<op>≥|≤|<|>|=|between) "
    rf"(?P<low>{NUMBER})(?: and (?P<high>{NUMBER}))?(?: (?P<req_unit>[^\s,;]+))?$")
DAYS = {"day": 1.0, "days": 1.0, "week": 7.0, "weeks": 7.0, "month": 30.44,
        "months": 30.44, "year": 365.25, "years": 365.25}

PATIENT_NOTES = (
    "A 68-year-old postmenopausal woman with osteoporosis: lumbar spine T-score -2.9. She had "
    "a wrist fracture in 2022 and has never taken denosumab. No cancer. eGFR 70 mL/min/1.73m2, "
    "calcium 9.4 mg/dL, vitamin D 31 ng/mL.",
    "A 57-year-old man with type 2 diabetes for 12 years on metformin and insulin glargine. "
    "HbA1c 8.1%, BMI 33, blood pressure 150/92. He denies heart failure and has never smoked.",
    "A 9-year-old boy with mild persistent asthma who uses a budesonide inhaler every day.",
    "A 74-year-old woman with mild Alzheimer's disease and atrial fibrillation on apixaban. "
    "Her mother had a hip fracture. She is not receiving chemotherapy.",
)


# ------------------------------------------------------------------ the checks
def _parts(reason: str) -> list[str]:
    return [p.strip() for p in reason.split(";") if p.strip()]


def stated_comparison(part: str) -> bool | None:
    """Whether the value a reason part states meets the requirement it states ("eGFR 22
    mL/min/1.73m2 (= 22 mL/min/1.73m²), required < 30 mL/min/1.73m²" -> True); None when
    the part states no such pair or its units cannot be compared here."""
    found = REQUIREMENT.match(part.strip())
    if found is None:
        return None
    value = float(found.group("same") or found.group("value"))
    low, high = float(found.group("low")), found.group("high")
    unit, wanted = found.group("unit"), found.group("req_unit")
    if found.group("same") is None and unit and wanted and unit != wanted:
        if unit not in DAYS or wanted not in DAYS:
            return None
        value = value * DAYS[unit] / DAYS[wanted]
    if found.group("label").strip().lower() == "age" and any(
            abs(value - float(b)) < 1.0 for b in (low, high) if b is not None):
        return None  # a shown age is rounded; the check itself uses the exact age
    op = found.group("op")
    if op == "between":
        return high is not None and low <= value <= float(high)
    return {"≥": value >= low, "≤": value <= low, "<": value < low, ">": value > low,
            "=": value == low}[op]


def criterion_problems(v: CriterionVerdict) -> list[str]:
    """What disagrees between one criterion's verdict and its reason (empty when none)."""
    out = []
    parts = _parts(v.reason)
    if not parts:
        return [f"{v.verdict} with an empty reason"]
    if v.verdict in {"MET", "NOT_MET"} and v.checkable:
        if all(OPEN.search(p) and not ABSENT.search(p) for p in parts):
            out.append(f"{v.verdict} whose reason only says what is missing")
        if not v.evidence and not NOT_APPLICABLE.search(v.reason):
            out.append(f"{v.verdict} with no evidence and no reason it does not apply")
    if len(parts) == 1 and v.holds is not None and v.verdict != "UNKNOWN":
        stated = stated_comparison(parts[0])
        if stated is not None and stated != v.holds:
            out.append(f"{v.verdict} whose own value and requirement say the opposite")
    if v.verdict == "UNKNOWN" and DECIDED.match(parts[0]):
        out.append("UNKNOWN with a decided reason")
    if v.holds is not None:
        if v.verdict == "UNKNOWN":
            out.append("UNKNOWN with a truth value")
        else:
            passes = v.holds if v.section == "inclusion" else not v.holds
            if passes != (v.verdict == "MET"):
                out.append(f"{v.verdict} in {v.section} with holds={v.holds}")
    if v.verdict == "NOT_MET" and v.checkable and v.confidence is None:
        out.append("NOT_MET without a confidence")
    return out


def trial_problems(match: TrialMatch) -> list[str]:
    """What disagrees between a trial's label, reason and counts and its criteria.

    The failing and open lists come from the sections' logic trees: a failed alternative
    inside a satisfied "any of" group is neither failing nor open, so a NOT_MET inclusion
    may stand beside an eligible trial; a failing one may not, nor an exclusion that
    applies, nor the registry's sex or age.
    """
    out = []
    counted = [v for v in match.criteria if v.checkable]
    by_index = {v.item_index: v for v in counted}
    met = [v for v in counted if v.verdict == "MET"]
    unknown = [v for v in counted if v.verdict == "UNKNOWN"]
    if any(by_index.get(i) is None or by_index[i].verdict != "NOT_MET"
           for i in match.failing):
        out.append("a failing criterion that is not a checkable NOT_MET")
    if match.not_met != len(set(match.failing)):
        out.append("not_met differs from the failing list")
    if match.met != len(met):
        out.append("met differs from the MET criteria")
    if match.unknown > len(unknown):
        out.append("more open criteria counted than there are UNKNOWN ones")
    excluded = [v for v in counted if v.verdict == "NOT_MET" and
                (v.section == "exclusion" or v.item_index < 0)]
    if match.verdict == "eligible":
        if match.failing or match.unknown or excluded:
            out.append("eligible with a failing, open or excluding criterion")
        if ELIGIBLE_FAILURE.search(match.reason):
            out.append("eligible whose reason lists failures or open criteria")
    elif match.verdict == "not_eligible":
        if not match.failing:
            out.append("not eligible with no failing criterion")
        if not re.search(r"\bfail|not eligible|exclud", match.reason, re.IGNORECASE):
            out.append("not eligible whose reason names no failure")
    else:
        if match.failing:
            out.append("possibly eligible with a failing criterion")
        if re.search(r"\bfails\b", match.reason):
            out.append("possibly eligible whose reason lists failures")
    open_keys = {v.question.key for v in unknown if v.question is not None}
    asked = {q.key for q in match.open_questions}
    if not asked <= open_keys:
        out.append("open questions that belong to no open criterion")
    return out


def problems(match: TrialMatch) -> list[str]:
    out = [f"{match.nct_id}: {p} ({match.reason})" for p in trial_problems(match)]
    for v in match.criteria:
        out += [f"{match.nct_id} [{v.section} {v.item_index}] {p}: {v.text[:60]!r} -- "
                f"{v.reason[:120]!r}" for p in criterion_problems(v)]
    return out


def run(trials: Iterable[Trial], profiles: Iterable[PatientProfile], *,
        closed_world: bool = False) -> Iterator[TrialMatch]:
    parsed = {}
    for profile in profiles:
        facts = PatientFacts(profile, REF)
        for trial in trials:
            if trial.nct_id not in parsed:
                parsed[trial.nct_id] = parse_criteria(trial.eligibility.criteria or "")
            facts.used = set()
            yield trial_verdict(trial, parsed[trial.nct_id], facts, closed_world=closed_world)


def report(found: list[str], limit: int = 40) -> str:
    more = f"\n... and {len(found) - limit} more" if len(found) > limit else ""
    return f"{len(found)} disagreements:\n" + "\n".join(found[:limit]) + more


# ------------------------------------------------------------------ the checks check
def _verdict(**fields: object) -> CriterionVerdict:
    base: dict[str, object] = {"item_index": 0, "section": "inclusion", "kind": "measurement",
                               "text": "eGFR of at least 30"}
    return CriterionVerdict.model_validate({**base, **fields})


def test_the_checks_catch_disagreeing_reasons() -> None:
    assert criterion_problems(_verdict(verdict="MET", reason="no eGFR value recorded"))
    assert criterion_problems(_verdict(verdict="UNKNOWN", reason="excluded: cancer: found"))
    assert criterion_problems(_verdict(verdict="MET", holds=False, reason="eGFR 40",
                                       evidence=[{"kind": "fact", "text": "eGFR 40"}]))
    assert not criterion_problems(_verdict(
        verdict="MET", holds=True, reason="eGFR 40, required >= 30",
        evidence=[{"kind": "fact", "text": "eGFR 40"}]))
    assert not criterion_problems(_verdict(verdict="UNKNOWN", reason="no eGFR value recorded"))
    assert not criterion_problems(_verdict(
        verdict="NOT_MET", reason="Neoplasms, Unknown Primary: recorded as absent",
        confidence=0.8, evidence=[{"kind": "note", "text": "no cancer"}]))
    assert criterion_problems(_verdict(
        verdict="MET", holds=True, reason="eGFR 9 mL/min/1.73m2 (= 9 mL/min/1.73m²), required "
        "between 15 and 29 mL/min/1.73m²", evidence=[{"kind": "fact", "text": "eGFR 9"}]))
    assert stated_comparison("HbA1c 8.1 %, required ≥ 7 %") is True
    assert stated_comparison("excluded: T-score -2.9 1, required ≤ -2.5") is True
    assert stated_comparison("type 2 diabetes for 8 months, required ≥ 1 years") is False
    assert stated_comparison("age 68, required between 18 and 65 years") is False
    assert stated_comparison("age 55, required ≥ 55 years") is None
    assert stated_comparison("age 54, required ≥ 55 years") is False
    assert stated_comparison("hemoglobin 10 g/dL, required > 10 g/dL") is False
    assert stated_comparison("no eGFR value recorded") is None
    eligible = TrialMatch(nct_id="NCT0", title="t", verdict="eligible",
                          reason="fails 1 criterion: x")
    assert trial_problems(eligible)


# ------------------------------------------------------------------ fast tier: the sample
def _sample_trials() -> list[Trial]:
    return [trial_from_api_v2(orjson.loads(line))
            for line in sample_path().read_bytes().splitlines() if line.strip()]


def _answering_profile(trials: list[Trial]) -> PatientProfile:
    """A profile that answered every sample question, alternating yes and no."""
    keys = sorted({item.question.key for t in trials
                   for item in parse_criteria(t.eligibility.criteria or "").items
                   if item.question is not None and item.question.answerable})
    answers = [{"question_key": k, "answer": "yes" if i % 2 else "no"}
               for i, k in enumerate(keys)]
    return PatientProfile.model_validate({"age_years": 61, "sex": "female",
                                          "answers": answers})


def test_sample_reasons_agree_with_verdicts() -> None:
    trials = _sample_trials()
    profiles = [load_patient_text(n, reference_date=REF).profile for n in PATIENT_NOTES]
    profiles.append(PatientProfile.model_validate({
        "age_years": 70, "sex": "female",
        "measurements": [{"name": "T-score", "analyte": "bmd_t_score", "value": -2.6},
                         {"name": "eGFR", "analyte": "egfr", "value": 25,
                          "unit": "mL/min/1.73m2"}],
        "conditions": [{"name": "chronic kidney disease", "concept": "chronic_kidney_disease"}],
        "medications": [{"name": "denosumab", "concept": "denosumab", "start": "2022-01-01",
                         "stop": "2024-01-01", "status": "stopped"}]}))
    profiles.append(_answering_profile(trials))
    found = [p for match in run(trials, profiles) for p in problems(match)]
    assert not found, report(found)


def test_sample_reasons_agree_in_a_closed_world() -> None:
    """The evaluations read a note as complete: what it does not mention is absent, and the
    reason must say so rather than only that nothing was found."""
    profiles = [load_patient_text(n, reference_date=REF).profile for n in PATIENT_NOTES[:2]]
    found = [p for match in run(_sample_trials(), profiles, closed_world=True)
             for p in problems(match)]
    assert not found, report(found)


# ------------------------------------------------------------------ slow tier: real texts
PATIENTS_PER_TEXT = 1


def _real_trials(path: Path) -> list[Trial]:
    out = []
    with gzip.open(path, "rb") as fh:
        for line in fh:
            record = orjson.loads(line)
            module = record.get("protocolSection", {}).get("eligibilityModule", {})
            if not module.get("eligibilityCriteria"):
                continue
            try:
                out.append(trial_from_api_v2(record))
            except ValueError:
                continue
    return out


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_reasons_agree_with_verdicts(shared_data: Path) -> None:
    """Every real criteria text is checked for ``PATIENTS_PER_TEXT`` of the 30 synthetic
    patients (patient i gets the texts whose position is i modulo 30 / PATIENTS_PER_TEXT)
    and each patient for its own target trial: every text is covered in a few minutes."""
    studies = shared_data / "ctgov" / "studies.jsonl.gz"
    people = shared_data / "patients" / "synthetic_patient_cases_random_30_modified.jsonl"
    if not studies.exists() or not people.exists():
        pytest.skip("the shared studies or synthetic patients are absent")
    trials = _real_trials(studies)
    assert len(trials) >= 5_000
    by_id = {t.nct_id: t for t in trials}
    patients = [orjson.loads(line) for line in people.read_bytes().splitlines()
                if line.strip()]
    assert len(patients) == 30
    step = len(patients) // PATIENTS_PER_TEXT
    profiles = [load_patient_text(p["text"], reference_date=REF).profile for p in patients]
    parsed = {t.nct_id: parse_criteria(t.eligibility.criteria or "") for t in trials}
    found: list[str] = []
    for i, (patient, profile) in enumerate(zip(patients, profiles, strict=True)):
        facts = PatientFacts(profile, REF)
        mine = [t for j, t in enumerate(trials) if j % step == i % step]
        target = by_id.get(str(patient["_id"]).removeprefix("P_"))
        if target is not None:
            mine.append(target)
        for trial in mine:
            facts.used = set()
            found += problems(trial_verdict(trial, parsed[trial.nct_id], facts))
    assert not found, report(found)
