"""The clinical test suite: hand-written patient x criterion cases with the verdict a careful
clinician would give, run through the same library path as ``trialscout match``.

The cases live in ``data/clinical_cases.yaml`` (written for this suite, not taken from any
benchmark). Each one becomes a fictional one-criterion trial (or a trial with a whole small
criteria text, for logic trees) with no registry sex or age limits, so the trial's verdict is
the criterion's own: a criterion the patient passes makes the trial eligible, one that fails
makes it not eligible, and an open one leaves it possibly eligible. Reading the verdict at
the trial level keeps the cases independent of how the parser splits or nests an item.

A case may carry ``known_gap: "<why>"``: it is then an expected failure (strict), so the
day it passes the suite says so and the mark must go.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import orjson
import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tests.factories import study
from trialscout.criteria import parse_criteria
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import TrialMatch
from trialscout.matching.trial import trial_verdict
from trialscout.patients.loader import load_patient_text
from trialscout.patients.model import PatientProfile
from trialscout.registry.api_v2 import trial_from_api_v2

DATA = Path(__file__).parent / "data" / "clinical_cases.yaml"
Kind = Literal["class", "definition", "time", "logic", "negation", "currency", "safety"]
KINDS: tuple[str, ...] = ("class", "definition", "time", "logic", "negation", "currency",
                          "safety")
ItemVerdict = Literal["MET", "NOT_MET", "UNKNOWN"]
TrialLabel = Literal["eligible", "possibly_eligible", "not_eligible"]
TRIAL_OF_ITEM: dict[str, str] = {"MET": "eligible", "NOT_MET": "not_eligible",
                                 "UNKNOWN": "possibly_eligible"}
MIN_CASES = 200


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatientSpec(_Strict):
    """A note, structured profile fields (``PatientProfile`` JSON), or both."""

    note: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _something(self) -> PatientSpec:
        if not self.note and not self.facts:
            raise ValueError("a patient needs a note or facts")
        return self


class Case(_Strict):
    id: str = Field(pattern=r"^[a-z]+-\d{3}$")
    kind: Kind
    section: Literal["inclusion", "exclusion", "both"]
    criterion: str | None = None
    criteria: str | None = None
    patient: PatientSpec
    reference_date: date
    expected: ItemVerdict | None = None
    expected_trial: TrialLabel | None = None
    why: str = Field(min_length=10)
    known_gap: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Case:
        if (self.criterion is None) == (self.criteria is None):
            raise ValueError("give exactly one of criterion (one item) or criteria (a text)")
        if self.criterion is not None and (self.expected is None or self.section == "both"):
            raise ValueError("a one-criterion case needs expected and a section")
        if self.criteria is not None and self.expected_trial is None:
            raise ValueError("a whole-text case needs expected_trial")
        return self

    def criteria_text(self) -> str:
        if self.criteria is not None:
            return self.criteria
        heading = "Inclusion Criteria" if self.section == "inclusion" else "Exclusion Criteria"
        return f"{heading}:\n\n* {self.criterion}\n"

    def wanted(self) -> str:
        if self.expected_trial is not None:
            return self.expected_trial
        assert self.expected is not None
        return TRIAL_OF_ITEM[self.expected]


class CaseFile(_Strict):
    version: int
    tuned_on: list[str]
    cases: list[Case]


@lru_cache(maxsize=1)
def load_cases() -> CaseFile:
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return CaseFile.model_validate(raw)


def load_patient(spec: PatientSpec, ref: date) -> PatientProfile:
    """Read the patient as ``trialscout match`` reads a file: a note through the note
    reader, structured facts as profile JSON; with both, the facts are added to what the
    note gave (lists extended, single fields set)."""
    if spec.note is None:
        return load_patient_text(orjson.dumps(spec.facts).decode(), reference_date=ref).profile
    profile = load_patient_text(spec.note, reference_date=ref).profile
    if not spec.facts:
        return profile
    merged = profile.model_dump(mode="json")
    for key, value in spec.facts.items():
        if isinstance(value, list):
            merged[key] = [*merged.get(key, []), *value]
        else:
            merged[key] = value
    return load_patient_text(orjson.dumps(merged).decode(), reference_date=ref).profile


def run_case(case: Case) -> TrialMatch:
    text = case.criteria_text()
    trial = trial_from_api_v2(study(
        "NCT09990777", title="A fictional study for the clinical suite",
        conditionsModule={"conditions": ["Test condition"]},
        eligibilityModule={"eligibilityCriteria": text, "sex": "ALL"}))
    profile = load_patient(case.patient, case.reference_date)
    facts = PatientFacts(profile, case.reference_date)
    return trial_verdict(trial, parse_criteria(text), facts)


def describe(match: TrialMatch) -> str:
    lines = [f"trial: {match.verdict} ({match.reason})"]
    lines += [f"  [{v.section}] {v.verdict}: {v.text[:90]!r} -- {v.reason[:120]}"
              for v in match.criteria]
    return "\n".join(lines)


def _params() -> list[Any]:
    out = []
    for case in load_cases().cases:
        marks = [pytest.mark.xfail(strict=True, reason=case.known_gap)] \
            if case.known_gap else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_clinical_case(case: Case) -> None:
    match = run_case(case)
    assert match.verdict == case.wanted(), f"{case.why}\n{describe(match)}"


def test_the_suite_is_large_and_covers_every_kind() -> None:
    cases = load_cases().cases
    assert len(cases) >= MIN_CASES
    assert len({c.id for c in cases}) == len(cases), "case ids must be unique"
    by_kind: Counter[str] = Counter(c.kind for c in cases)
    assert set(by_kind) == set(KINDS), by_kind
    failure_kinds = [k for k in KINDS if k != "safety"]
    assert min(by_kind[k] for k in failure_kinds) >= 25, by_kind
    item_of_trial = {v: k for k, v in TRIAL_OF_ITEM.items()}
    for kind in failure_kinds:
        directions = {c.expected or item_of_trial[c.wanted()] for c in cases if c.kind == kind}
        assert directions == {"MET", "NOT_MET", "UNKNOWN"}, (kind, directions)
    assert {c.section for c in cases} >= {"inclusion", "exclusion"}
    assert any(c.criteria for c in cases if c.kind == "logic"), "logic trees need whole texts"


def test_no_criterion_without_information_is_met() -> None:
    """The safety cases: nothing in the record speaks to the criterion, so it stays open."""
    safety = [c for c in load_cases().cases if c.kind == "safety"]
    assert len(safety) >= 10
    assert all(c.expected in {"UNKNOWN", "NOT_MET"} for c in safety)
