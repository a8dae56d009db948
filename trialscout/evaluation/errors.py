"""Error analysis for the matching evaluations: each wrong pair, and a guess at why.

``trialscout eval criterion-matching --errors`` and ``trialscout eval trec --errors`` list
every pair matching got wrong with its criterion, the patient text the verdict used, the
predicted and expected labels and a *failure kind*: class membership, definition, time,
logic, negation scope, currency/person, parse miss or other. The kind comes from a
heuristic classifier over the criterion's words, the patient text used and the kinds of
the verdicts (cues in ``failure_kinds.yaml``, tried in a fixed order, first hit wins). It
is a guide for choosing what to work on next, not a diagnosis, and it never changes a
verdict; the counts per kind say which failures dominate.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CUES = Path(__file__).with_name("failure_kinds.yaml")
KINDS = ("class membership", "definition", "time", "logic", "negation scope",
         "currency/person", "parse miss", "other")
TEXT_LIMIT = 220


@dataclass(frozen=True)
class _Cues:
    order: tuple[str, ...]
    parse_miss_kinds: frozenset[str]
    criterion: dict[str, tuple[re.Pattern[str], ...]]
    patient: dict[str, tuple[re.Pattern[str], ...]]


@cache
def cues(path: Path = CUES) -> _Cues:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or "version" not in data or "tuned_on" not in data:
        raise ValueError(f"{path.name}: expected version and tuned_on")
    order = tuple(str(k) for k in data["order"])
    unknown = [k for k in order if k not in KINDS]
    if unknown:
        raise ValueError(f"{path.name}: unknown failure kinds {unknown}")

    def compiled(kind: str, where: str) -> tuple[re.Pattern[str], ...]:
        spec = data["cues"].get(kind) or {}
        return tuple(re.compile(p, re.IGNORECASE) for p in spec.get(where) or ())

    return _Cues(order, frozenset(str(k) for k in data.get("parse_miss_kinds") or ()),
                 {k: compiled(k, "criterion") for k in order if k != "parse miss"},
                 {k: compiled(k, "patient") for k in order if k != "parse miss"})


def classify(criterion: str, patient_text: str, verdict_kinds: Sequence[str]) -> str:
    """The most likely failure kind of one wrong pair (heuristic; see the module doc)."""
    spec = cues()
    for kind in spec.order:
        if kind == "parse miss":
            if not verdict_kinds or all(k in spec.parse_miss_kinds for k in verdict_kinds):
                return kind
            continue
        if any(p.search(criterion) for p in spec.criterion[kind]) or (
                patient_text and any(p.search(patient_text) for p in spec.patient[kind])):
            return kind
    return "other"


def shorten(text: str, limit: int = TEXT_LIMIT) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def patient_text_used(verdicts: Iterable[Any]) -> str:
    """The patient text a verdict rested on: its evidence, else what it lacked."""
    texts: list[str] = []
    reasons: list[str] = []
    for verdict in verdicts:
        for evidence in getattr(verdict, "evidence", ()):
            if evidence.kind != "absence" and evidence.text and evidence.text not in texts:
                texts.append(evidence.text)
        reason = str(getattr(verdict, "reason", "") or "")
        if reason and reason not in reasons:
            reasons.append(reason)
    if texts:
        return " | ".join(texts)
    return "(no patient text cited: " + "; ".join(reasons[:2]) + ")" if reasons else \
        "(no patient text cited)"


@dataclass(frozen=True)
class ErrorRow:
    """One wrong pair."""

    pair: str
    section: str
    criterion: str
    patient_text: str
    predicted: str
    expected: str
    kind: str
    what: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"pair": self.pair, "section": self.section, "criterion": self.criterion,
                "patient_text": self.patient_text, "predicted": self.predicted,
                "expected": self.expected, "failure_kind": self.kind, "what": self.what}

    def as_text(self) -> str:
        head = f"[{self.kind}] {self.pair}" + (f" ({self.what})" if self.what else "")
        return "\n".join([
            head,
            f"  {self.section} criterion: {shorten(self.criterion)}",
            f"  patient text used: {shorten(self.patient_text)}",
            f"  predicted: {self.predicted}; expected: {self.expected}"])


def error_row(pair: str, section: str, criterion: str, verdicts: Sequence[Any],
              predicted: str, expected: str, what: str = "") -> ErrorRow:
    used = patient_text_used(verdicts)
    cited = "" if used.startswith("(no patient text") else used
    kind = classify(criterion, cited, [str(getattr(v, "kind", "")) for v in verdicts])
    return ErrorRow(pair, section, criterion, shorten(used, 400), predicted, expected, kind,
                    what)


def kind_counts(rows: Iterable[ErrorRow]) -> dict[str, int]:
    """Wrong pairs per failure kind, in the order of :data:`KINDS` (zeros left out)."""
    counts = Counter(r.kind for r in rows)
    return {k: counts[k] for k in KINDS if counts[k]}


def errors_text(title: str, rows: Sequence[ErrorRow]) -> str:
    counts = kind_counts(rows)
    lines = [f"{title}: {len(rows)} wrong pairs (failure kinds are a heuristic guess)"]
    lines += [f"  {kind}: {n}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    lines.append("")
    lines += [r.as_text() for r in rows]
    return "\n".join(lines)
