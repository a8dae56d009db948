"""Trial-level matching evaluations: TREC-style ranking and target-trial recovery.

``trec_matching``: topics (patient notes), qrels (0 not relevant, 1 excluded, 2 eligible) and
studies in the shapes of ../shared/data. The pool is the judged trials that the studies
file has with criteria text (``criteria``) or with any text (``text``). On that pool three
systems rank each topic: a plain BM25 (bm25s defaults), TrialScout search alone (the note
as free text), and TrialScout matching (search candidates, criterion verdicts, combined
score). Reported: NDCG@10 (graded gains), P@10 with eligible (2) as relevant, and the
AUROC of eligible (2) versus excluded (1) over all judged pairs of the pool, where a
trial a system did not retrieve scores lowest.

``target_trial``: synthetic patients (``_id`` = ``P_`` + target NCT id) ranked against all
studies; MRR and recall@10 of the target, for matching, search alone and BM25.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from trialscout.evaluation.errors import (
    ErrorRow,
    classify,
    error_row,
    errors_text,
    kind_counts,
    shorten,
)
from trialscout.evaluation.matching_eval import EvalInputError
from trialscout.evaluation.search_eval import (
    Qrels,
    Run,
    baseline_text,
    bm25_baseline,
    build_pool_app,
    iter_studies,
    load_qrels,
    load_topics,
    measure,
)
from trialscout.evaluation.sets import SetRoles, roles_for

CANDIDATES = 1000
Progress = Callable[[str], None] | None


def auroc(positives: list[float], negatives: list[float]) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not positives or not negatives:
        return None
    labelled = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives])
    rank_sum = 0.0
    i = 0
    while i < len(labelled):
        j = i
        while j < len(labelled) and labelled[j][0] == labelled[i][0]:
            j += 1
        average_rank = (i + 1 + j) / 2
        rank_sum += average_rank * sum(1 for k in range(i, j) if labelled[k][1] == 1)
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def pooled_auroc(scores: Mapping[str, Mapping[str, float]], qrels: Qrels) -> float | None:
    """AUROC of label 2 versus label 1 over every judged pair (unretrieved: lowest score)."""
    positives: list[float] = []
    negatives: list[float] = []
    for qid, docs in qrels.items():
        got = scores.get(qid, {})
        floor = min(got.values(), default=0.0) - 1.0
        for doc, label in docs.items():
            value = got.get(doc, floor)
            if label == 2:
                positives.append(value)
            elif label == 1:
                negatives.append(value)
    return auroc(positives, negatives)


@dataclass
class SystemScores:
    name: str
    ndcg10: float
    p10: float
    auroc: float | None
    seconds: float


@dataclass
class TrecReport:
    pool_kind: str
    topics: int
    trials: int
    pairs: int
    labels: dict[str, int]
    systems: list[SystemScores] = field(default_factory=list)
    sets: SetRoles = field(default_factory=SetRoles)
    errors: list[ErrorRow] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "benchmark_sets": self.sets.as_dict(),
            "pool": self.pool_kind, "topics": self.topics, "trials": self.trials,
            "judged_pairs": self.pairs, "labels": self.labels,
            "systems": [{"name": s.name, "ndcg@10": round(s.ndcg10, 4),
                         "p@10": round(s.p10, 4),
                         "auroc": None if s.auroc is None else round(s.auroc, 4),
                         "seconds": round(s.seconds, 1)} for s in self.systems]}
        if self.errors is not None:
            out["error_kinds"] = kind_counts(self.errors)
            out["errors"] = [e.as_dict() for e in self.errors]
        return out

    def as_text(self) -> str:
        lines = [self.sets.as_text(), "",
                 f"pool: judged trials with {self.pool_kind} ({self.trials} trials, "
                 f"{self.topics} topics, {self.pairs} judged pairs; labels 2/1/0 = "
                 f"{self.labels.get('2', 0)}/{self.labels.get('1', 0)}/"
                 f"{self.labels.get('0', 0)})", "",
                 "| system | NDCG@10 | P@10 (eligible) | AUROC eligible vs excluded |",
                 "|---|---|---|---|"]
        for s in self.systems:
            auc = "n/a" if s.auroc is None else f"{s.auroc:.3f}"
            lines.append(f"| {s.name} | {s.ndcg10:.4f} | {s.p10:.4f} | {auc} |")
        if self.errors is not None:
            lines += ["", errors_text(
                "TrialScout matching, judged eligible (2) or excluded (1) pairs whose verdict "
                "disagrees", self.errors)]
        return "\n".join(lines)


def _has_criteria(line: bytes) -> bool:
    study = orjson.loads(line)
    module = study.get("protocolSection", {}).get("eligibilityModule", {})
    return bool((module.get("eligibilityCriteria") or "").strip())


def _pool_ids(studies: Path, judged: set[str], kind: str) -> set[str]:
    return {nct for nct, line in iter_studies(studies, judged)
            if kind == "text" or _has_criteria(line)}


class _Matcher:
    """Scores trials for one note with TrialScout matching, on an app over the pool."""

    def __init__(self, app: Any, reference_date: date) -> None:
        from trialscout.matching.engine import parsed_lookup

        self.app = app
        self.ref = reference_date
        self.parsed = parsed_lookup(app)
        self.trials: dict[str, Any] = {}
        self.matches: dict[str, Any] = {}
        self.profile: Any = None

    def load(self, ids: Iterable[str]) -> None:
        from trialscout.store.trials import load_trials

        missing = [i for i in ids if i not in self.trials]
        if missing:
            with self.app.engine.connect() as conn:
                self.trials.update(load_trials(conn, missing))

    def score(self, text: str, extra: Iterable[str] = ()
              ) -> tuple[dict[str, float], dict[str, float]]:
        """(ranking of the retrieved candidates, scores of candidates and ``extra``)."""
        from trialscout.matching.facts import PatientFacts
        from trialscout.matching.query import relevance_query
        from trialscout.matching.rank import combine, main_condition, match_floor, shown
        from trialscout.matching.trial import trial_verdict
        from trialscout.patients.notes import NoteError, extract_note

        self.matches = {}
        try:
            profile = extract_note(text, reference_date=self.ref)
        except NoteError:
            self.profile = None
            return {}, {}
        self.profile = profile
        query = relevance_query(profile)
        hits = self.app.search_engine.rank(query, CANDIDATES, mode="any") \
            if query.strip() else []
        relevance = dict(hits)
        best = max(relevance.values(), default=0.0)
        wanted = list(dict.fromkeys([*relevance, *extra]))
        self.load(wanted)
        self.parsed.prefetch(wanted)
        scores: dict[str, float] = {}
        facts = PatientFacts(profile, self.ref)
        for nct in wanted:
            trial = self.trials.get(nct)
            if trial is None:
                continue
            verdict = trial_verdict(trial, self.parsed(trial), facts)
            verdict.main_condition = main_condition(trial, facts, facts.trial_concepts)
            self.matches[nct] = shown(verdict)
            rel = relevance.get(nct, 0.0) / best if best > 0 else 0.0
            scores[nct] = combine(rel, match_floor(verdict))
        ranking = {nct: scores[nct] for nct in relevance if nct in scores}
        return ranking, scores


def trec_matching(topics_path: Path, qrels_path: Path, studies_path: Path, *,
                  pool: str = "criteria", reference_date: date | None = None,
                  progress: Progress = None, errors: bool = False) -> TrecReport:
    if pool not in {"criteria", "text"}:
        raise EvalInputError("pool must be 'criteria' or 'text'")
    say = progress or (lambda _m: None)
    topics = load_topics(topics_path)
    qrels = load_qrels(qrels_path)
    judged = {d for docs in qrels.values() for d in docs}
    pool_ids = _pool_ids(studies_path, judged, pool)
    if not pool_ids:
        raise EvalInputError("no judged trial of that pool is in the studies file")
    pool_qrels = {q: {d: r for d, r in docs.items() if d in pool_ids}
                  for q, docs in qrels.items() if q in topics}
    pool_qrels = {q: d for q, d in pool_qrels.items() if d}
    queries = {q: topics[q] for q in sorted(pool_qrels)}
    labels: dict[str, int] = {}
    for docs in pool_qrels.values():
        for label in docs.values():
            labels[str(label)] = labels.get(str(label), 0) + 1
    report = TrecReport(pool, len(queries), len(pool_ids),
                        sum(len(d) for d in pool_qrels.values()), labels,
                        sets=roles_for([topics_path, qrels_path, studies_path]),
                        errors=[] if errors else None)
    with tempfile.TemporaryDirectory(prefix="trialscout-match-eval-") as tmp:
        say(f"building a store of {len(pool_ids)} pool trials")
        app = build_pool_app(studies_path, pool_ids, Path(tmp))
        try:
            say(f"ranking {len(queries)} topics")
            started = time.perf_counter()
            search_run: Run = {q: dict(app.search_engine.rank(t, CANDIDATES, mode="any"))
                               for q, t in queries.items()}
            search_seconds = time.perf_counter() - started
            matcher = _Matcher(app, reference_date or date.today())
            started = time.perf_counter()
            ours_run: Run = {}
            ours_scores: dict[str, dict[str, float]] = {}
            for qid, text in queries.items():
                ours_run[qid], ours_scores[qid] = matcher.score(text, pool_qrels[qid])
                if report.errors is not None:
                    report.errors += trec_errors(qid, text, pool_qrels[qid], matcher.matches)
            ours_seconds = time.perf_counter() - started
            from trialscout.search import store

            ids = sorted(pool_ids)
            with app.connect() as conn:
                documents = store.documents(conn, ids)
            ids = [i for i in ids if i in documents]
            texts = [baseline_text(orjson.loads(documents[i])) for i in ids]
        finally:
            app.close()
    say("running the BM25 baseline")
    started = time.perf_counter()
    bm25_run = bm25_baseline(ids, texts, queries, depth=len(ids))
    bm25_seconds = time.perf_counter() - started
    for name, run, scores, seconds in (
            ("BM25 baseline (bm25s defaults)", bm25_run, bm25_run, bm25_seconds),
            ("TrialScout search alone", search_run, search_run, search_seconds),
            ("TrialScout matching", ours_run, ours_scores, ours_seconds)):
        metrics = measure(_top(run), pool_qrels, ("nDCG@10", "P(rel=2)@10"))
        report.systems.append(SystemScores(name, metrics["nDCG@10"], metrics["P(rel=2)@10"],
                                           pooled_auroc(scores, pool_qrels), seconds))
    return report


_WORD = re.compile(r"[^\W\d_]{4,}")


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


def _closest_sentence(criterion: str, note: str) -> str:
    """The note sentence sharing the most words with ``criterion`` ("" when none does)."""
    wanted = _words(criterion)
    best, best_overlap = "", 0
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", note):
        overlap = len(wanted & _words(sentence))
        if overlap > best_overlap:
            best, best_overlap = sentence.strip(), overlap
    return best


def trec_errors(qid: str, note: str, judged: Mapping[str, int], matches: Mapping[str, Any]
                ) -> list[ErrorRow]:
    """The judged pairs of one topic whose verdict contradicts the judgment.

    A trial judged eligible (2) that matching calls not eligible is a *false exclusion*:
    its failing criteria are listed. A trial judged excluded (1) that matching calls
    eligible or possibly eligible is a *missed exclusion*; which criterion excludes the
    patient is not in the judgments, so the criterion matching left open (or passed) that
    shares the most words with the note stands for it, a heuristic, with that note
    sentence as the patient text.
    """
    rows: list[ErrorRow] = []
    for nct, label in sorted(judged.items()):
        match = matches.get(nct)
        if match is None or label not in {1, 2}:
            continue
        pair = f"{qid} / {nct}"
        expected = "eligible" if label == 2 else "excluded"
        if label == 2 and match.verdict == "not_eligible":
            failing = [v for v in match.criteria
                       if v.verdict == "NOT_MET" and v.item_index in set(match.failing)]
            if not failing:
                continue
            first = max(failing, key=lambda v: v.confidence or 0.0)
            row = error_row(pair, first.section, first.text, [first], match.verdict,
                            expected, what=f"false exclusion, {len(failing)} failing "
                            "criteria; the surest shown")
            if first.item_index < 0:
                row = ErrorRow(row.pair, row.section, row.criterion, row.patient_text,
                               row.predicted, row.expected, "other",
                               row.what + "; a registry field (age range or sex)")
            rows.append(row)
        elif label == 1 and match.verdict != "not_eligible":
            open_items = [v for v in match.criteria if v.item_index >= 0 and v.checkable]
            if not open_items:
                rows.append(ErrorRow(pair, "", "(no checkable criterion)", "", match.verdict,
                                     expected, "parse miss", "missed exclusion"))
                continue
            likely = max(open_items, key=lambda v: (len(_words(v.text) & _words(note)),
                                                    v.verdict == "UNKNOWN",
                                                    v.section == "exclusion"))
            sentence = _closest_sentence(likely.text, note)
            row = error_row(pair, likely.section, likely.text, [likely], match.verdict,
                            expected, what="missed exclusion; likeliest criterion shown")
            if sentence:
                row = ErrorRow(row.pair, row.section, row.criterion, shorten(sentence, 400),
                               row.predicted, row.expected,
                               classify(likely.text, sentence, [likely.kind]), row.what)
            rows.append(row)
    return rows


def _top(run: Run, depth: int = CANDIDATES) -> Run:
    return {q: dict(sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))[:depth])
            for q, d in run.items()}


# ---------------------------------------------------------------------- target trial
@dataclass
class TargetScores:
    name: str
    mrr: float
    recall10: float
    found: int
    seconds: float


@dataclass
class TargetReport:
    patients: int
    studies: int
    systems: list[TargetScores] = field(default_factory=list)
    ranks: dict[str, dict[str, int | None]] = field(default_factory=dict)
    sets: SetRoles = field(default_factory=SetRoles)

    def as_dict(self) -> dict[str, Any]:
        return {"benchmark_sets": self.sets.as_dict(),
                "patients": self.patients, "studies": self.studies,
                "systems": [{"name": s.name, "mrr": round(s.mrr, 4),
                             "recall@10": round(s.recall10, 4), "found": s.found,
                             "seconds": round(s.seconds, 1)} for s in self.systems],
                "ranks": self.ranks}

    def as_text(self) -> str:
        lines = [self.sets.as_text(), "",
                 f"{self.patients} patients, target among {self.studies} studies", "",
                 "| system | MRR | recall@10 | target retrieved |", "|---|---|---|---|"]
        for s in self.systems:
            lines.append(f"| {s.name} | {s.mrr:.4f} | {s.recall10:.4f} | "
                         f"{s.found}/{self.patients} |")
        return "\n".join(lines)


def load_patients(path: Path) -> dict[str, tuple[str, str]]:
    """``_id`` -> (target NCT id, text) from a jsonl of synthetic patients."""
    out: dict[str, tuple[str, str]] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalInputError(f"cannot read patients {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise EvalInputError(f"{path}:{number}: not JSON: {exc}") from exc
        pid = str(row.get("_id", "")) if isinstance(row, dict) else ""
        if not pid.startswith("P_") or not isinstance(row.get("text"), str):
            raise EvalInputError(f"{path}:{number}: expected _id 'P_<NCT id>' and text")
        out[pid] = (pid[2:], row["text"])
    if not out:
        raise EvalInputError(f"{path}: no patients")
    return out


def _rank_of(target: str, ranking: Mapping[str, float]) -> int | None:
    ordered = sorted(ranking.items(), key=lambda kv: (-kv[1], kv[0]))
    for position, (nct, _score) in enumerate(ordered, start=1):
        if nct == target:
            return position
    return None


def target_trial(patients_path: Path, studies_path: Path, *,
                 reference_date: date | None = None, progress: Progress = None
                 ) -> TargetReport:
    say = progress or (lambda _m: None)
    patients = load_patients(patients_path)
    all_ids = {nct for nct, _line in iter_studies(studies_path)}
    report = TargetReport(len(patients), len(all_ids),
                          sets=roles_for([patients_path, studies_path]))
    runs: dict[str, dict[str, dict[str, float]]] = {}
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="trialscout-target-eval-") as tmp:
        say(f"building a store of {len(all_ids)} studies")
        app = build_pool_app(studies_path, all_ids, Path(tmp))
        try:
            app.search_engine.view()
            started = time.perf_counter()
            runs["TrialScout search alone"] = {
                p: dict(app.search_engine.rank(text, CANDIDATES, mode="any"))
                for p, (_t, text) in patients.items()}
            seconds["TrialScout search alone"] = time.perf_counter() - started
            matcher = _Matcher(app, reference_date or date.today())
            started = time.perf_counter()
            runs["TrialScout matching"] = {p: matcher.score(text)[0]
                                           for p, (_t, text) in patients.items()}
            seconds["TrialScout matching"] = time.perf_counter() - started
            from trialscout.search import store

            ids = sorted(all_ids)
            with app.connect() as conn:
                documents = store.documents(conn, ids)
            ids = [i for i in ids if i in documents]
            texts = [baseline_text(orjson.loads(documents[i])) for i in ids]
        finally:
            app.close()
    say("running the BM25 baseline")
    started = time.perf_counter()
    runs["BM25 baseline (bm25s defaults)"] = bm25_baseline(
        ids, texts, {p: text for p, (_t, text) in patients.items()}, depth=CANDIDATES)
    seconds["BM25 baseline (bm25s defaults)"] = time.perf_counter() - started
    for name in ("BM25 baseline (bm25s defaults)", "TrialScout search alone",
                 "TrialScout matching"):
        ranks = {p: _rank_of(target, runs[name].get(p, {}))
                 for p, (target, _text) in patients.items()}
        report.ranks[name] = ranks
        found = [r for r in ranks.values() if r is not None]
        report.systems.append(TargetScores(
            name, sum(1 / r for r in found) / len(patients),
            sum(1 for r in found if r <= 10) / len(patients), len(found), seconds[name]))
    return report
