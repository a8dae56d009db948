"""Missed and false exclusions on a file of trials and short notes (``trialscout eval
exclusions``).

A case file (YAML, see ``tests/matching/data/osteoporosis_cases.yaml``) holds a few trials
(registry fields and criteria text) and short notes, each paired with some of the trials
and the outcome a clinician expects: ``excluded``, ``not_excluded`` or ``cannot_tell``.
The trials go into a throwaway store; each note is matched through ``app.match`` (the path
of ``trialscout match``, with the trials the registry's age and sex removed listed too),
and each pair is judged by the label the user sees (:func:`trialscout.matching.rank.shown`,
applied by ranking). A *missed exclusion* is an excluded pair not labelled "not eligible";
a *false exclusion* is a pair that should stay open labelled "not eligible"; an
*overclaim* is a pair the note cannot settle labelled "eligible". Excluded pairs also name
a piece of the deciding criterion: a right label for another criterion is reported as a
*wrong reason* (a guide, not counted as an error).

The files are small and hand-written, so the limits are tight: a bad file is an
:class:`EvalInputError` that says what is wrong.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trialscout.evaluation.matching_eval import EvalInputError
from trialscout.evaluation.sets import SetRoles, roles_for

MAX_FILE_BYTES = 2_000_000
Expected = Literal["excluded", "not_excluded", "cannot_tell"]
REGISTRY = "registry"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrialSpec(_Strict):
    id: str = Field(pattern=r"^NCT\d{8}$")
    title: str = Field(min_length=3, max_length=300)
    conditions: list[str] = Field(default_factory=list, max_length=20)
    sex: Literal["ALL", "FEMALE", "MALE"] = "ALL"
    min_age: int | None = Field(default=None, ge=0, le=120)
    max_age: int | None = Field(default=None, ge=0, le=120)
    criteria: str = Field(min_length=10, max_length=20_000)

    def record(self) -> dict[str, Any]:
        """The trial as an API v2 study record."""
        elig: dict[str, Any] = {"eligibilityCriteria": self.criteria, "sex": self.sex}
        if self.min_age is not None:
            elig["minimumAge"] = f"{self.min_age} Years"
        if self.max_age is not None:
            elig["maximumAge"] = f"{self.max_age} Years"
        return {"protocolSection": {
            "identificationModule": {"nctId": self.id, "briefTitle": self.title},
            "statusModule": {"overallStatus": "RECRUITING",
                             "startDateStruct": {"date": "2024-01"},
                             "lastUpdatePostDateStruct": {"date": "2024-06-01"}},
            "conditionsModule": {"conditions": self.conditions},
            "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE3"]},
            "eligibilityModule": elig}}


class Pair(_Strict):
    trial: str = Field(pattern=r"^NCT\d{8}$")
    expected: Expected
    criterion: str | None = Field(default=None, max_length=200)
    kind: str | None = Field(default=None, max_length=40)
    known_gap: str | None = Field(default=None, max_length=300)


class NoteCase(_Strict):
    id: str = Field(min_length=1, max_length=40)
    note: str = Field(min_length=10, max_length=4_000)
    reference_date: date | None = None
    pairs: list[Pair] = Field(min_length=1, max_length=50)


class CaseFile(_Strict):
    version: int
    tuned_on: list[str]
    reference_date: date
    trials: list[TrialSpec] = Field(min_length=1, max_length=200)
    notes: list[NoteCase] = Field(min_length=1, max_length=2_000)

    @model_validator(mode="after")
    def _known_trials(self) -> CaseFile:
        ids = [t.id for t in self.trials]
        if len(set(ids)) != len(ids):
            raise ValueError("trial ids must be unique")
        if len({n.id for n in self.notes}) != len(self.notes):
            raise ValueError("note ids must be unique")
        for note in self.notes:
            for pair in note.pairs:
                if pair.trial not in ids:
                    raise ValueError(f"note {note.id}: unknown trial {pair.trial}")
        return self


def load_case_file(path: Path) -> CaseFile:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise EvalInputError(f"{path}: cannot read ({exc.strerror})") from exc
    if size > MAX_FILE_BYTES:
        raise EvalInputError(f"{path}: {size:,} bytes; a case file holds at most "
                             f"{MAX_FILE_BYTES:,}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return CaseFile.model_validate(raw)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"{path}: not a readable YAML file ({exc})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EvalInputError(f"{path}: {where}: {first['msg']}") from exc


@dataclass
class PairResult:
    note: str
    trial: str
    expected: str
    shown: str
    reason: str
    failing: list[str]
    criterion: str | None = None
    kind: str | None = None
    candidate: bool = True
    known_gap: str | None = None

    @property
    def problem(self) -> str | None:
        """missed_exclusion, false_exclusion, overclaim, wrong_reason or None."""
        if self.expected == "excluded":
            if self.shown != "not_eligible":
                return "missed_exclusion"
            if self.criterion and not any(self.criterion.lower() in f.lower()
                                          for f in self.failing):
                return "wrong_reason"
            return None
        if self.shown == "not_eligible":
            return "false_exclusion"
        if self.expected == "cannot_tell" and self.shown == "eligible":
            return "overclaim"
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"note": self.note, "trial": self.trial, "expected": self.expected,
                "shown": self.shown, "problem": self.problem, "kind": self.kind,
                "criterion": self.criterion, "failing": self.failing,
                "reason": self.reason, "search_candidate": self.candidate,
                "known_gap": self.known_gap}


@dataclass
class ExclusionReport:
    path: str
    pairs: list[PairResult] = field(default_factory=list)
    sets: SetRoles = field(default_factory=SetRoles)

    def count(self, problem: str) -> int:
        return sum(1 for p in self.pairs if p.problem == problem)

    def expected(self, label: str) -> int:
        return sum(1 for p in self.pairs if p.expected == label)

    def as_dict(self) -> dict[str, Any]:
        return {"benchmark_sets": self.sets.as_dict(), "file": self.path,
                "pairs": len(self.pairs),
                "excluded": self.expected("excluded"),
                "not_excluded": self.expected("not_excluded"),
                "cannot_tell": self.expected("cannot_tell"),
                "missed_exclusions": self.count("missed_exclusion"),
                "false_exclusions": self.count("false_exclusion"),
                "overclaims": self.count("overclaim"),
                "wrong_reasons": self.count("wrong_reason"),
                "errors": [p.as_dict() for p in self.pairs if p.problem]}

    def as_text(self) -> str:
        lines = [self.sets.as_text(), f"cases: {self.path}",
                 f"{len(self.pairs)} pairs: {self.expected('excluded')} excluded, "
                 f"{self.expected('not_excluded')} not excluded, "
                 f"{self.expected('cannot_tell')} cannot tell",
                 f"missed exclusions: {self.count('missed_exclusion')} of "
                 f"{self.expected('excluded')}",
                 f"false exclusions: {self.count('false_exclusion')} of "
                 f"{self.expected('not_excluded') + self.expected('cannot_tell')}",
                 f"overclaims (cannot tell, shown eligible): {self.count('overclaim')}",
                 f"right label, another criterion: {self.count('wrong_reason')}",
                 f"pairs marked as known gaps: {sum(1 for p in self.pairs if p.known_gap)}"
                 f" (still wrong: {sum(1 for p in self.pairs if p.known_gap and p.problem)})"]
        for problem in ("missed_exclusion", "false_exclusion", "overclaim", "wrong_reason"):
            for p in self.pairs:
                if p.problem == problem:
                    lines.append(f"  {problem}: {p.note} x {p.trial} [{p.kind or '-'}] "
                                 f"expected {p.expected}, shown {p.shown}"
                                 + ("" if p.candidate else " (not a search candidate)"))
                    lines.append(f"    reason: {p.reason[:200]}")
                    if p.known_gap:
                        lines.append(f"    known gap: {p.known_gap}")
                    if p.criterion:
                        lines.append(f"    deciding criterion: {p.criterion!r}")
        return "\n".join(lines)


def evaluate_cases(path: Path) -> ExclusionReport:
    """Match every note of the case file and judge each of its pairs."""
    from trialscout.app import create_app
    from trialscout.matching.engine import MatchOptions, match_trials, parsed_lookup
    from trialscout.patients.loader import load_patient_text

    cases = load_case_file(path)
    report = ExclusionReport(path=str(path), sets=roles_for([path]))
    with tempfile.TemporaryDirectory(prefix="trialscout-cases-") as tmp:
        records = Path(tmp) / "trials.jsonl"
        records.write_bytes(b"\n".join(orjson.dumps(t.record()) for t in cases.trials))
        app = create_app(database_url=f"sqlite:///{Path(tmp) / 'cases.db'}",
                         search_index_dir="none")
        try:
            app.import_paths([records])
            trials = {t.id: app.trial(t.id) for t in cases.trials}
            parsed = parsed_lookup(app)
            for case in cases.notes:
                ref = case.reference_date or cases.reference_date
                profile = load_patient_text(case.note, reference_date=ref).profile
                response = app.match(profile, MatchOptions(
                    reference_date=ref, limit=len(cases.trials), include_removed=True))
                found = {m.nct_id: m for m in [*response.removed, *response.results]}
                for pair in case.pairs:
                    match = found.get(pair.trial)
                    candidate = match is not None
                    if match is None:
                        stored = trials[pair.trial]
                        if stored is None:
                            raise EvalInputError(f"{pair.trial}: the store refused the trial")
                        (match,) = match_trials(profile, [stored], parsed, reference_date=ref)
                    failing = [v.text for v in match.criteria
                               if v.item_index in set(match.failing)]
                    if pair.criterion == REGISTRY:
                        failing = [REGISTRY if v.item_index < 0 else v.text
                                   for v in match.criteria
                                   if v.item_index in set(match.failing)]
                    report.pairs.append(PairResult(
                        note=case.id, trial=pair.trial, expected=pair.expected,
                        shown=match.verdict, reason=match.reason, failing=failing,
                        criterion=pair.criterion or None, kind=pair.kind,
                        candidate=candidate, known_gap=pair.known_gap))
        finally:
            app.close()
    return report
