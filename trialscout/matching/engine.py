"""Match one patient against the store: search pre-filters, criteria decide, ranking orders.

1. Search finds candidates with the patient's relevance query, filtered by the patient's
   age and sex (and distance when a place is given): this is what keeps matching fast on
   a registry-sized store.
2. Each candidate's stored parsed criteria are evaluated against the profile.
3. Trials are ordered by verdict, then by whether the patient is known to have the
   condition they study, then by relevance and distance (see
   :mod:`trialscout.matching.rank`).

The cyclic garbage collector runs less often while a match runs (:class:`_RelaxedGC`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Literal

from trialscout.criteria.model import ParsedCriteria
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import MatchResponse, TrialMatch
from trialscout.matching.query import relevance_query
from trialscout.matching.rank import (
    band_floor,
    best_possible,
    combine,
    distance_factor,
    main_condition,
    match_floor,
    rank,
)
from trialscout.matching.rules import load_rules
from trialscout.matching.trial import registry_verdicts, stop_confidence, trial_verdict
from trialscout.patients.model import PatientProfile
from trialscout.registry.model import Trial
from trialscout.search.models import NearestSite, SearchRequest

if TYPE_CHECKING:
    from trialscout.app import TrialScout

ParsedLookup = Callable[[Trial], ParsedCriteria | None]
PAGE_SIZE = 100
CHUNK = 20


@dataclass
class MatchOptions:
    near: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    reference_date: date | None = None
    limit: int = 20
    candidates: int | None = None
    status: list[str] = field(default_factory=list)
    closed_world: bool = False
    use_filters: bool = True
    # Also list the trials the registry's age and sex fields removed (match --all).
    include_removed: bool = False


@dataclass(frozen=True)
class Candidate:
    nct_id: str
    relevance: float
    nearest_site: NearestSite | None = None


def match_trials(profile: PatientProfile, trials: Iterable[Trial], parsed: ParsedLookup, *,
                 reference_date: date, relevance: Mapping[str, float] | None = None,
                 sites: Mapping[str, NearestSite | None] | None = None,
                 radius_km: float | None = None, use_distance: bool = False,
                 closed_world: bool = False, patient_id: int | None = None,
                 version: int | None = None, facts: PatientFacts | None = None,
                 stop_at_failure: bool = False, stop_confidence: float | None = None
                 ) -> list[TrialMatch]:
    """Evaluate and rank ``trials`` for one profile (pure: no database access)."""
    matches = []
    facts = facts or PatientFacts(profile, reference_date)
    for trial in trials:
        facts.used = set()
        match = trial_verdict(trial, parsed(trial), facts, closed_world=closed_world,
                              stop_at_failure=stop_at_failure,
                              stop_confidence=stop_confidence)
        site = (sites or {}).get(trial.nct_id)
        matches.append(match.model_copy(update={
            "main_condition": main_condition(trial, facts, facts.trial_concepts),
            "relevance": float((relevance or {}).get(trial.nct_id, 0.0)),
            "nearest_site": site, "distance_km": site.distance_km if site else None,
            "patient_id": patient_id, "profile_version": version,
            "facts_used": sorted(facts.used)}))
    return rank(matches, radius_km=radius_km, use_distance=use_distance)


def search_request(profile: PatientProfile, query: str, options: MatchOptions,
                   reference_date: date, page: int) -> SearchRequest:
    age = profile.age_on(reference_date) if options.use_filters else None
    sex: Literal["FEMALE", "MALE"] | None = None
    if options.use_filters and profile.sex in {"female", "male"}:
        sex = "FEMALE" if profile.sex == "female" else "MALE"
    radius = options.radius_km if (options.near or options.lat is not None) else None
    if radius is None and (options.near or options.lat is not None):
        radius = profile.travel_radius_km
    return SearchRequest(
        q=query, age=min(age, 130.0) if age is not None else None, sex=sex,
        status=list(options.status), near=options.near, lat=options.lat, lon=options.lon,
        radius=radius, unit="km", page=page, page_size=PAGE_SIZE, facets=False, match="any")


def search_candidates(app: TrialScout, profile: PatientProfile, query: str,
                      options: MatchOptions, reference_date: date, limit: int
                      ) -> list[Candidate]:
    """The best ``limit`` search hits for the patient, with relevance and nearest site."""
    out: list[Candidate] = []
    page = 1
    while len(out) < limit:
        response = app.search(search_request(profile, query, options, reference_date, page))
        for hit in response.hits:
            out.append(Candidate(hit.nct_id, float(hit.score or 0.0), hit.nearest_site))
        if len(response.hits) < PAGE_SIZE or page * PAGE_SIZE >= response.total:
            break
        page += 1
    return out[:limit]


class StoredCriteria:
    """Parsed criteria for trials: the store's (loaded in bulk), else parsed now and cached."""

    def __init__(self, app: TrialScout) -> None:
        self.app = app
        self.cache: dict[str, ParsedCriteria | None] = {}
        self._stored: dict[str, ParsedCriteria] = {}

    def prefetch(self, nct_ids: Iterable[str]) -> None:
        from trialscout.criteria.store import load_many

        missing = [i for i in nct_ids if i not in self.cache and i not in self._stored]
        if missing:
            with self.app.engine.connect() as conn:
                self._stored.update(load_many(conn, missing))

    def __call__(self, trial: Trial) -> ParsedCriteria | None:
        nct = trial.nct_id
        if nct in self.cache:
            return self.cache[nct]
        if nct not in self._stored:
            self.prefetch([nct])
        parsed = self._stored.pop(nct, None)
        if parsed is None and trial.eligibility.criteria:
            from trialscout.criteria import parse_criteria

            parsed = parse_criteria(trial.eligibility.criteria)
        self.cache[nct] = parsed
        return parsed


def parsed_lookup(app: TrialScout) -> StoredCriteria:
    return StoredCriteria(app)


class _RelaxedGC:
    """Run the cyclic garbage collector less often while matches run.

    A match allocates hundreds of thousands of short-lived models and lists, none of them
    in cycles; at the default threshold (700) the collector ran every few thousand of
    them, each time scanning the long-lived objects of the process too (search index,
    vocabulary), and took about a third of a request's CPU. Concurrent matches share one
    setting: the first one in raises the threshold, the last one out restores it.
    """

    threshold = 50_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._previous: tuple[int, ...] = gc.get_threshold()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._active == 0:
                self._previous = gc.get_threshold()
                gc.set_threshold(max(self._previous[0], self.threshold), *self._previous[1:])
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0:
                    gc.set_threshold(*self._previous)


relaxed_gc = _RelaxedGC()


def match_profile(app: TrialScout, profile: PatientProfile, options: MatchOptions | None = None,
                  *, patient_id: int | None = None, version: int | None = None,
                  load_trials: Callable[[list[str]], list[Trial]] | None = None
                  ) -> MatchResponse:
    """Rank the store's trials for ``profile`` (see :func:`_match_profile`), with the
    garbage collector relaxed while it runs."""
    with relaxed_gc():
        return _match_profile(app, profile, options, patient_id=patient_id,
                              version=version, load_trials=load_trials)


def _match_profile(app: TrialScout, profile: PatientProfile, options: MatchOptions | None,
                   *, patient_id: int | None, version: int | None,
                   load_trials: Callable[[list[str]], list[Trial]] | None
                   ) -> MatchResponse:
    """Rank the store's trials for ``profile``; the first ``options.limit`` are returned.

    Candidates are checked in order of relevance, a chunk at a time, at most
    ``check_limit`` of them (``rules/ranking.yaml``). A trial's score is its band's floor
    (verdict, then whether its condition is recorded) plus its relevance times distance
    factor within the band (:mod:`trialscout.matching.rank`), so a candidate not yet
    checked can score at most what the best band gives its relevance: once that is below
    the ``limit``-th best score so far, it cannot enter the top ``limit`` and is skipped,
    and checking stops when the next chunk's most relevant candidate cannot. Any failing
    criterion puts a trial in the not-eligible bands whichever it is, so checking a trial
    stops at its first failure (see :func:`~trialscout.matching.trial.stop_confidence`);
    the trials shown are then checked in full, and are the same as when every trial is
    checked in full.
    """
    options = options or MatchOptions()
    reference_date = options.reference_date or date.today()
    query = relevance_query(profile)
    pool = options.candidates or int(load_rules("ranking")["candidates"])
    candidates = search_candidates(app, profile, query, options, reference_date, pool) \
        if query.strip() else []
    candidates.sort(key=lambda c: (-c.relevance, c.nct_id))
    best = candidates[0].relevance if candidates else 0.0
    use_distance = bool(options.near or options.lat is not None)
    radius = options.radius_km or profile.travel_radius_km
    criteria = parsed_lookup(app)
    facts = PatientFacts(profile, reference_date)
    checked: list[TrialMatch] = []
    scores: list[float] = []
    by_id: dict[str, Trial] = {}
    budget = candidates[: int(load_rules("ranking")["check_limit"])]
    for start in range(0, len(budget), CHUNK):
        chunk = budget[start:start + CHUNK]
        if _cannot_enter(chunk[0].relevance / best if best > 0 else 1.0, scores,
                         options.limit):
            break
        ids = [c.nct_id for c in chunk]
        trials = load_trials(ids) if load_trials is not None else _load_trials(app, ids)
        by_id.update({t.nct_id: t for t in trials})
        criteria.prefetch(ids)
        for candidate in chunk:
            trial = by_id.get(candidate.nct_id)
            if trial is None:
                continue
            rel = candidate.relevance / best if best > 0 else 1.0
            site = candidate.nearest_site
            reach = rel * (distance_factor(site.distance_km if site else None, radius)
                           if use_distance else 1.0)
            if _cannot_enter(reach, scores, options.limit):
                continue
            (match,) = match_trials(
                profile, [trial], criteria, reference_date=reference_date,
                relevance={candidate.nct_id: candidate.relevance},
                sites={candidate.nct_id: candidate.nearest_site}, radius_km=radius,
                use_distance=use_distance, closed_world=options.closed_world,
                patient_id=patient_id, version=version, facts=facts, stop_at_failure=True,
                stop_confidence=stop_confidence(reach, _kth(scores, options.limit)))
            scores.append(combine(rel, match_floor(match),
                                  match.distance_km, use_distance=use_distance,
                                  radius_km=radius))
            checked.append(match)
    ranked = rank(checked, radius_km=radius, use_distance=use_distance)[: options.limit]
    shown = []
    for match in ranked:
        if not match.complete:
            (full,) = match_trials(
                profile, [by_id[match.nct_id]], criteria, reference_date=reference_date,
                relevance={match.nct_id: match.relevance},
                sites={match.nct_id: match.nearest_site}, radius_km=radius,
                use_distance=use_distance, closed_world=options.closed_world,
                patient_id=patient_id, version=version, facts=facts)
            match = full.model_copy(update={"score": match.score, "rank": match.rank,
                                            "eligibility": match.eligibility})
        shown.append(match)
    removed = removed_by_registry(app, profile, query, options, facts, load_trials,
                                  patient_id=patient_id, version=version) \
        if options.include_removed else []
    return MatchResponse(patient_id=patient_id, profile_version=version,
                         reference_date=reference_date, query=query[:500],
                         candidates=len(candidates), checked=len(checked),
                         results=shown, removed=removed)


def removed_by_registry(app: TrialScout, profile: PatientProfile, query: str,
                        options: MatchOptions, facts: PatientFacts,
                        load_trials: Callable[[list[str]], list[Trial]] | None = None, *,
                        patient_id: int | None = None, version: int | None = None
                        ) -> list[TrialMatch]:
    """The trials the search's age and sex filters kept out of matching, best first.

    Matching finds its candidates with the patient's age and sex as search filters (which
    keeps it fast), so a trial whose registry age range or sex excludes the patient is
    never checked. A coordinator may still want to see them: this runs the same search
    without those filters and lists, with the registry field and the reason, each hit
    that the registry's sex or age range rules out (at most ``options.limit``).
    """
    if not options.use_filters or (facts.age is None and facts.profile.sex is None):
        return []
    unfiltered = replace(options, use_filters=False)
    pool = options.candidates or int(load_rules("ranking")["candidates"])
    hits = search_candidates(app, profile, query, unfiltered, facts.ref, pool)
    hits.sort(key=lambda c: (-c.relevance, c.nct_id))
    ids = [h.nct_id for h in hits]
    loaded = load_trials(ids) if load_trials is not None else _load_trials(app, ids)
    trials = {t.nct_id: t for t in loaded}
    floor = band_floor("not_eligible", None)
    out: list[TrialMatch] = []
    for hit in hits:
        trial = trials.get(hit.nct_id)
        if trial is None:
            continue
        failing = [v for v in registry_verdicts(trial, facts) if v.verdict == "NOT_MET"]
        if not failing:
            continue
        fields = " and ".join(dict.fromkeys("sex" if v.kind == "sex" else "age range"
                                            for v in failing))
        site = hit.nearest_site
        out.append(TrialMatch(
            nct_id=trial.nct_id, title=trial.title, overall_status=trial.overall_status,
            verdict="not_eligible", criteria=failing, failing=[v.item_index for v in failing],
            reason=f"removed by the registry's {fields}: " + "; ".join(
                v.reason for v in failing),
            not_met=len(failing), relevance=hit.relevance, eligibility=floor,
            distance_km=site.distance_km if site else None, nearest_site=site,
            patient_id=patient_id, profile_version=version, reference_date=facts.ref,
            rank=len(out) + 1, complete=False))
        if len(out) >= options.limit:
            break
    return out


WARM_UP_NOTE = ("A 70-year-old woman with postmenopausal osteoporosis, T-score -2.7, on "
                "alendronate for 3 years. Wrist fracture 2 years ago. No diabetes. eGFR 55.")
WARM_UP_CRITERIA = ("Inclusion Criteria:\n* Women aged 50 years or older with osteoporosis\n"
                    "Exclusion Criteria:\n* Prior denosumab within 6 months\n"
                    "* eGFR below 30 mL/min/1.73m2\n* Any malignancy")


def warm_up() -> None:
    """Load what a process's first match loads (the note reader, the criteria parser, the
    clinical knowledge base, the concept index, units: a few CPU-seconds) by matching a
    made-up note against a made-up trial, so that a web worker does it before its first
    visitor does (``web_warm_up``)."""
    from trialscout.criteria import parse_criteria
    from trialscout.knowledge import knowledge
    from trialscout.patients.notes import extract_note
    from trialscout.registry.api_v2 import trial_from_api_v2

    knowledge()
    ref = date(2025, 1, 1)
    trial = trial_from_api_v2({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000000", "briefTitle": "Warm-up"},
        "conditionsModule": {"conditions": ["Postmenopausal Osteoporosis"]},
        "eligibilityModule": {"eligibilityCriteria": WARM_UP_CRITERIA, "sex": "FEMALE",
                              "minimumAge": "50 Years"}}})
    profile = extract_note(WARM_UP_NOTE, reference_date=ref)
    parsed = parse_criteria(WARM_UP_CRITERIA)
    relevance_query(profile)
    match_trials(profile, [trial], lambda _t: parsed, reference_date=ref,
                 relevance={trial.nct_id: 1.0})


def _kth(scores: list[float], limit: int) -> float | None:
    """The ``limit``-th best score so far (None while fewer have been scored)."""
    if len(scores) < limit:
        return None
    return sorted(scores, reverse=True)[limit - 1]


def _cannot_enter(reach: float, scores: list[float], limit: int) -> bool:
    """Whether a trial whose relevance times distance factor is ``reach`` scores below the
    ``limit``-th best so far even in the best band (eligible, its condition recorded)."""
    kth = _kth(scores, limit)
    return kth is not None and best_possible(reach) < kth


def _load_trials(app: TrialScout, ids: list[str]) -> list[Trial]:
    from trialscout.store.trials import load_trials

    with app.engine.connect() as conn:
        loaded = load_trials(conn, ids)
    return [loaded[i] for i in ids if i in loaded]
