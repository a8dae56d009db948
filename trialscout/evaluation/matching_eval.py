"""Criterion-level matching evaluation on TrialGPT-style annotations.

Input: a JSON list of patient-criterion pairs (the shape of
../shared/data/criteria/trialgpt_criterion): ``note`` (numbered sentences), ``criterion_type``
(inclusion / exclusion), ``criterion_text``, the physicians' ``expert_eligibility`` and
GPT-4's ``gpt4_eligibility``. Each criterion is parsed by the criteria parser, the note is
read by the note importer, and the verdicts are mapped onto the six labels:

* inclusion: passes -> "included", fails -> "not included";
* exclusion: the excluding statement holds -> "excluded", it does not -> "not excluded";
* a criterion about a group the patient is not in (pregnancy for a man) -> "not applicable";
* UNKNOWN -> "not enough information".

The annotators treated a note as complete: a condition a note does not mention counts as
absent ("if the patient had it, the note would say so"). The ``closed world`` run applies
that reading to conditions, drugs, procedures and unchecked items of a note-only profile;
the ``open world`` run keeps them UNKNOWN. Both are reported next to GPT-4 on the same
pairs and to a majority-label baseline, with the notes as given and again without the
sentences every note of the set carries (TrialGPT's notes all close with the same consent
and compliance sentence, which real notes do not; see
:mod:`trialscout.evaluation.boilerplate`). With ``errors``, each pair the closed-world
reading gets wrong is listed with a failure kind (:mod:`trialscout.evaluation.errors`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from trialscout.evaluation.boilerplate import shared_sentences, without
from trialscout.evaluation.errors import ErrorRow, error_row, errors_text, kind_counts
from trialscout.evaluation.search_eval import EvaluationInputError
from trialscout.evaluation.sets import SetRoles, roles_for

EvalInputError = EvaluationInputError
LABELS = ("included", "not included", "excluded", "not excluded", "not enough information",
          "not applicable")
WITHOUT = "without the shared sentences"
_REQUIRED = ("note", "criterion_type", "criterion_text", "expert_eligibility")


def load_annotations(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvalInputError(f"cannot read annotations {path}: {exc}") from exc
    if not isinstance(data, list):
        raise EvalInputError(f"{path}: expected a JSON list of patient-criterion pairs")
    for i, row in enumerate(data):
        if not isinstance(row, dict) or any(k not in row for k in _REQUIRED):
            raise EvalInputError(f"{path}: pair {i} lacks one of {', '.join(_REQUIRED)}")
        if row["criterion_type"] not in {"inclusion", "exclusion"}:
            raise EvalInputError(f"{path}: pair {i} has criterion_type "
                                 f"{row['criterion_type']!r}")
        if row["expert_eligibility"] not in LABELS:
            raise EvalInputError(f"{path}: pair {i} has label {row['expert_eligibility']!r}")
    return data


@dataclass
class Scores:
    name: str
    accuracy: float
    macro_f1: float
    confusion: dict[str, dict[str, int]]
    per_label_f1: dict[str, float]


def score(name: str, gold: list[str], predicted: list[str]) -> Scores:
    """Accuracy, macro-F1 over the labels present in the gold standard, confusion matrix."""
    confusion = {g: {p: 0 for p in LABELS} for g in LABELS}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p if p in LABELS else "not enough information"] += 1
    total = len(gold)
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    per_label: dict[str, float] = {}
    for label in LABELS:
        if label not in gold:
            continue
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in LABELS) - tp
        fn = sum(confusion[label].values()) - tp
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        per_label[label] = 2 * precision * recall / (precision + recall) \
            if precision + recall else 0.0
    macro = sum(per_label.values()) / len(per_label) if per_label else 0.0
    return Scores(name, correct / total if total else 0.0, macro, confusion, per_label)


def label_for(section: str, verdicts: list[Any]) -> str:
    """The six-way label of one criterion from the verdicts of its parsed items."""
    if not verdicts:
        return "not enough information"
    if all(not v.applicable for v in verdicts):
        return "not applicable"
    holds = [v.holds for v in verdicts if v.applicable]
    if section == "inclusion":
        if any(h is False for h in holds):
            return "not included"
        return "included" if holds and all(h is True for h in holds) else \
            "not enough information"
    if any(h is True for h in holds):
        return "excluded"
    return "not excluded" if holds and all(h is False for h in holds) else \
        "not enough information"


@dataclass
class CriterionMatchingReport:
    pairs: int
    patients: int
    trials: int
    gold_counts: dict[str, int]
    systems: list[Scores] = field(default_factory=list)
    evidence: dict[str, float] = field(default_factory=dict)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    sets: SetRoles = field(default_factory=SetRoles)
    shared: list[str] = field(default_factory=list)
    errors: list[ErrorRow] | None = None
    errors_without: list[ErrorRow] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "benchmark_sets": self.sets.as_dict(),
            "pairs": self.pairs, "patients": self.patients, "trials": self.trials,
            "gold_counts": self.gold_counts, "labels": list(LABELS),
            "systems": [{"name": s.name, "accuracy": round(s.accuracy, 4),
                         "macro_f1": round(s.macro_f1, 4),
                         "per_label_f1": {k: round(v, 4) for k, v in s.per_label_f1.items()},
                         "confusion": s.confusion} for s in self.systems],
            "shared_sentences_removed": self.shared,
            "evidence_sentences": {k: round(v, 4) for k, v in self.evidence.items()},
            "predictions": self.predictions,
        }
        if self.errors is not None and self.errors_without is not None:
            out["error_kinds"] = kind_counts(self.errors)
            out["error_kinds_without_shared_sentences"] = kind_counts(self.errors_without)
            out["errors"] = [e.as_dict() for e in self.errors]
        return out

    def as_text(self) -> str:
        lines = [self.sets.as_text(), "",
                 f"{self.pairs} patient-criterion pairs, {self.patients} patients, "
                 f"{self.trials} trials", "",
                 "| system | accuracy | macro-F1 |", "|---|---|---|"]
        for s in self.systems:
            lines.append(f"| {s.name} | {s.accuracy:.3f} | {s.macro_f1:.3f} |")
        lines += ["", _shared_text(self.shared)]
        short = {"included": "incl", "not included": "not incl", "excluded": "excl",
                 "not excluded": "not excl", "not enough information": "NEI",
                 "not applicable": "n/a"}
        for s in self.systems[:1] + self.systems[2:3]:
            lines += ["", f"confusion matrix, {s.name} (rows: expert, columns: predicted)",
                      "| expert \\ predicted | " + " | ".join(short[p] for p in LABELS) + " |",
                      "|---" * (len(LABELS) + 1) + "|"]
            for g in LABELS:
                lines.append(f"| {short[g]} | " + " | ".join(
                    str(s.confusion[g][p]) for p in LABELS) + " |")
        if self.evidence:
            lines += ["", "evidence sentences vs the experts' (pairs where both cite some): "
                      f"precision {self.evidence['precision']:.3f}, "
                      f"recall {self.evidence['recall']:.3f}"]
        if self.errors is not None and self.errors_without is not None:
            counts = kind_counts(self.errors_without)
            lines += ["", errors_text("trialscout (closed world), notes as given",
                                      self.errors), "",
                      f"without the shared sentences: {len(self.errors_without)} wrong pairs; "
                      + ", ".join(f"{k}: {n}" for k, n in counts.items())]
        return "\n".join(lines)


def _shared_text(shared: list[str]) -> str:
    if not shared:
        return ("no sentence is carried by every note of this set: the runs without shared "
                "sentences read the same notes")
    return ("sentences every note of this set carries, removed in the runs 'without the "
            "shared sentences' (real notes do not carry them): " + "; ".join(
                f"“{s}”" for s in shared))


def _sentence_ids(text: Any) -> set[int]:
    if isinstance(text, list):
        return {int(x) for x in text if isinstance(x, int)}
    return {int(x) for x in re.findall(r"\d+", str(text or ""))}


@dataclass
class _Run:
    """One reading of every pair: labels in both worlds, the closed-world verdicts."""

    closed: list[str] = field(default_factory=list)
    open: list[str] = field(default_factory=list)
    verdicts: list[list[Any]] = field(default_factory=list)
    cited: int = 0
    true_cited: int = 0
    expert_total: int = 0


def _read_pairs(pairs: list[dict[str, Any]], notes: list[str], ref: date,
                items_of: list[tuple[str, list[Any]]]) -> _Run:
    from trialscout.matching.facts import PatientFacts
    from trialscout.matching.item import evaluate_item
    from trialscout.patients.notes import NoteError, extract_note

    run = _Run()
    profiles: dict[str, Any] = {}
    for pair, note, (section, items) in zip(pairs, notes, items_of, strict=True):
        key = str(pair.get("patient_id") or note[:200]) + "\0" + note
        if key not in profiles:
            try:
                profiles[key] = extract_note(note, reference_date=ref)
            except NoteError:
                profiles[key] = None
        profile = profiles[key]
        if profile is None:
            run.closed.append("not enough information")
            run.open.append("not enough information")
            run.verdicts.append([])
            continue
        for world in ("closed", "open"):
            facts = PatientFacts(profile, ref)
            verdicts = [evaluate_item(it, facts, closed_world=world == "closed")
                        for it in items]
            if world == "closed":
                run.closed.append(label_for(section, verdicts))
                run.verdicts.append(verdicts)
                continue
            run.open.append(label_for(section, verdicts))
            ours = {e.sentence for v in verdicts for e in v.evidence
                    if e.kind == "note" and e.sentence is not None}
            expert = _sentence_ids(pair.get("expert_sentences"))
            if ours and expert:
                run.cited += len(ours)
                run.true_cited += len(ours & expert)
                run.expert_total += len(expert)
    return run


def _errors(pairs: list[dict[str, Any]], gold: list[str], run: _Run) -> list[ErrorRow]:
    rows = []
    for i, (pair, expected, predicted, verdicts) in enumerate(zip(
            pairs, gold, run.closed, run.verdicts, strict=True)):
        if predicted == expected:
            continue
        ident = (f"#{pair.get('annotation_id', i)} patient {pair.get('patient_id', '?')}, "
                 f"trial {pair.get('trial_id', '?')}")
        rows.append(error_row(ident, pair["criterion_type"], str(pair["criterion_text"]),
                              verdicts, predicted, expected))
    return rows


def criterion_matching(path: Path, *, reference_date: date | None = None,
                       errors: bool = False) -> CriterionMatchingReport:
    """Accuracy on the pairs with the notes as given, and without the sentences every
    note of the set carries (:mod:`trialscout.evaluation.boilerplate`); ``errors`` lists
    each pair the closed-world reading gets wrong, with a failure kind."""
    from trialscout.criteria import parse_criteria

    pairs = load_annotations(path)
    ref = reference_date or date.today()
    gold = [p["expert_eligibility"] for p in pairs]
    gpt4 = [p.get("gpt4_eligibility") or "not enough information" for p in pairs]
    majority_by_type = {t: Counter(p["expert_eligibility"] for p in pairs
                                   if p["criterion_type"] == t).most_common(1)[0][0]
                        for t in {p["criterion_type"] for p in pairs}}
    items_of: list[tuple[str, list[Any]]] = []
    for pair in pairs:
        section = pair["criterion_type"]
        heading = "Inclusion Criteria:" if section == "inclusion" else "Exclusion Criteria:"
        parsed = parse_criteria(f"{heading}\n* {pair['criterion_text']}")
        items_of.append((section, [it for it in parsed.items if it.section == section]
                         or list(parsed.items)))
    notes = [str(p["note"]) for p in pairs]
    shared = shared_sentences(notes)
    given = _read_pairs(pairs, notes, ref, items_of)
    stripped = _read_pairs(pairs, [without(n, shared) for n in notes], ref, items_of) \
        if shared else given
    report = CriterionMatchingReport(
        pairs=len(pairs), patients=len({p.get("patient_id") for p in pairs}),
        trials=len({p.get("trial_id") for p in pairs}),
        gold_counts=dict(Counter(gold)), sets=roles_for([path]), shared=sorted(shared))
    report.systems.append(score("trialscout (closed world)", gold, given.closed))
    report.systems.append(score("trialscout (open world)", gold, given.open))
    report.systems.append(score("GPT-4 (TrialGPT, same pairs)", gold, gpt4))
    report.systems.append(score("majority label per criterion type", gold,
                                [majority_by_type[p["criterion_type"]] for p in pairs]))
    report.systems.append(score(f"trialscout (closed world), {WITHOUT}", gold,
                                stripped.closed))
    report.systems.append(score(f"trialscout (open world), {WITHOUT}", gold, stripped.open))
    report.predictions = [
        {"annotation_id": p.get("annotation_id", i), "expert": g, "ours": c, "ours_open": o,
         "ours_without_shared": w, "ours_open_without_shared": wo, "gpt4": q}
        for i, (p, g, c, o, w, wo, q) in enumerate(zip(
            pairs, gold, given.closed, given.open, stripped.closed, stripped.open, gpt4,
            strict=True))]
    if given.cited:
        report.evidence = {"precision": given.true_cited / given.cited,
                           "recall": given.true_cited / given.expert_total
                           if given.expert_total else 0.0}
    if errors:
        report.errors = _errors(pairs, gold, given)
        report.errors_without = _errors(pairs, gold, stripped)
    return report
