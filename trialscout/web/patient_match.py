"""The visitor's patient record and matches: ownership, reading uploads, calling the core.

Every per-visitor object is reached through the session: a record id is only ever accepted
when it is the one the requesting session owns, and any other id is answered with 404 (not
403, which would confirm that the record exists). Nothing here logs: notes, bundles and the
facts read from them are health data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any, Literal

from fastapi import Request

from trialscout.matching.engine import (
    MatchOptions,
    match_trials,
    parsed_lookup,
    removed_by_registry,
    search_request,
)
from trialscout.matching.facts import PatientFacts
from trialscout.matching.model import TrialMatch
from trialscout.matching.query import relevance_query
from trialscout.matching.rank import sure_failure
from trialscout.patients.fhir import FhirImportError, import_bundle
from trialscout.patients.loader import LoadedPatient, PatientFileError, load_patient_bytes
from trialscout.patients.model import MAX_TEXT, FactSource, PatientProfile
from trialscout.patients.model import Answer as AnswerFact
from trialscout.patients.notes import NoteError, extract_note
from trialscout.patients.store import PatientNotFound, StoredProfile
from trialscout.registry.model import Trial
from trialscout.search.errors import SearchQueryError
from trialscout.search.models import ResolvedPlace
from trialscout.search.places import KM_PER_MILE, gazetteer
from trialscout.sessions.models import Answer, Profile
from trialscout.sessions.questions import display_text
from trialscout.sessions.tokens import is_session_token
from trialscout.web.context import WebContext, web_context
from trialscout.web.patient_views import (
    VERDICT_LABELS,
    HitMatch,
    MatchesPage,
    MatchesQuery,
    MatchResult,
    PatientRecord,
    RecordFacts,
)
from trialscout.web.problems import ProblemError, ProblemException
from trialscout.web.visitor import SESSION_COOKIE

OPEN_STATUSES = ("RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION")
MAX_RADIUS_KM = 20_000.0
ANSWER_KEY_MAX = 300


def not_yours(patient_id: int) -> ProblemException:
    return ProblemException(404, f"No patient record {patient_id} belongs to this session.",
                            "not-found")


def owned_patient_id(ctx: WebContext, token: str, patient_id: int | None = None) -> int | None:
    """The id of this session's patient record, checked against ``patient_id`` if given."""
    owned = ctx.sessions.patient_id(token)
    if patient_id is not None and patient_id != owned:
        raise not_yours(patient_id)
    return owned


def load_record(ctx: WebContext, token: str, patient_id: int | None = None
                ) -> StoredProfile | None:
    """This session's patient record (None if it has none); another id is a 404."""
    owned = owned_patient_id(ctx, token, patient_id)
    if owned is None:
        return None
    try:
        return ctx.core.patient(owned)
    except PatientNotFound:
        if patient_id is not None:
            raise not_yours(patient_id) from None
        return None


# ---------------------------------------------------------------------- reading uploads
def _fhir_errors(exc: FhirImportError, where: tuple[str, ...]) -> list[ProblemError]:
    errors = []
    for problem in exc.problems[:50]:
        loc: list[str | int] = list(where)
        if problem.index is not None:
            loc += ["entry", problem.index]
        if problem.field:
            loc.append(problem.field)
        errors.append(ProblemError(loc=loc, msg=str(problem), type="fhir"))
    return errors


def read_upload(*, note: str | None = None, bundle: Any = None, raw: bytes | None = None,
                where: tuple[str, ...] = ("body", "bundle"),
                max_note_chars: int = MAX_TEXT) -> LoadedPatient:
    """Parse one upload with the core loader; unreadable input is a 422 saying why.

    ``raw`` is a file of any kind the loader reads (FHIR Bundle, profile JSON, note);
    ``note`` is always a note, ``bundle`` always FHIR.
    """
    try:
        if bundle is not None:
            return LoadedPatient("fhir", import_bundle(bundle))
        if raw is not None:
            return load_patient_bytes(raw, max_note_chars=max_note_chars)
        return LoadedPatient("note", extract_note(note or "", max_chars=max_note_chars))
    except FhirImportError as exc:
        raise ProblemException(422, str(exc), "invalid-fhir",
                               errors=_fhir_errors(exc, where)) from None
    except (PatientFileError, NoteError) as exc:
        raise ProblemException(422, str(exc), "invalid-patient-record") from None


# ---------------------------------------------------------------------- what the record says
def _when(value: date | None, prefix: str) -> str:
    return f" ({prefix} {value.isoformat()})" if value else ""


def record_facts(profile: PatientProfile) -> RecordFacts:
    facts = RecordFacts()
    for c in profile.conditions:
        state = ", resolved" if c.status == "resolved" else ""
        facts.conditions.append(f"{c.name}{_when(c.onset, 'since')}{state}".strip())
    for m in profile.medications:
        status = "" if m.status == "unknown" else f" ({m.status})"
        facts.medications.append(f"{m.name}{status}")
    facts.procedures = [f"{p.name}{_when(p.date, 'on')}" for p in profile.procedures]
    for lab in profile.measurements:
        unit = lab.unit if lab.unit not in (None, "1") else None
        value = lab.text or " ".join(str(v) for v in (
            f"{lab.value:g}" if lab.value is not None else None, unit) if v)
        facts.measurements.append(f"{lab.name}: {value}{_when(lab.date, 'on')}"
                                  if value and value != lab.name else lab.name)
    facts.allergies = [a.substance for a in profile.allergies]
    facts.denied = [d.name for d in profile.denied]
    facts.family_history = [f"{f.name}" + (f" ({f.relative})" if f.relative else "")
                            for f in profile.family_history]
    other = []
    if profile.birth_date:
        other.append(f"born {profile.birth_date.isoformat()}")
    elif profile.age_years is not None:
        other.append(f"age {profile.age_years:g}")
    for name in ("sex", "menopause", "smoking"):
        value = getattr(profile, name)
        if value:
            other.append(f"{name}: {value}")
    if profile.pregnant is not None:
        other.append("pregnant" if profile.pregnant else "not pregnant")
    for name in ("ecog", "karnofsky", "pack_years"):
        value = getattr(profile, name)
        if value is not None:
            other.append(f"{name.replace('_', ' ')}: {value:g}")
    facts.other = other
    return facts


def record_view(stored: StoredProfile) -> PatientRecord:
    saved_at = stored.created_at  # stored as naive UTC
    if saved_at.tzinfo is None:
        saved_at = saved_at.replace(tzinfo=UTC)
    return PatientRecord(patient_id=stored.patient_id, version=stored.version,
                         source=stored.source, saved_at=saved_at,
                         facts=record_facts(stored.profile), profile=stored.profile)


# ---------------------------------------------------------------------- the matching profile
def radius_km(radius: float | None, unit: str) -> float | None:
    if radius is None:
        return None
    return min(radius * KM_PER_MILE if unit == "mi" else radius, MAX_RADIUS_KM)


def answer_facts(answers: Mapping[str, Answer]) -> list[AnswerFact]:
    """Remembered self-check answers as profile facts (keys are the criteria's question keys,
    which matching looks answers up by)."""
    return [AnswerFact(question_key=key, answer=value, source=FactSource(kind="answer"))
            for key, value in sorted(answers.items()) if 1 <= len(key) <= ANSWER_KEY_MAX]


def matching_profile(form: Profile, record: PatientProfile | None,
                     answers: Mapping[str, Answer]) -> PatientProfile:
    """One profile for matching: the medical history, what the form says (it wins: the
    visitor typed it last), and the self-check answers (which win over older answers)."""
    data: dict[str, Any] = record.model_dump(exclude={"answers"}) if record else {}
    if form.age is not None:
        data.update(age_years=form.age, birth_date=None, recorded_on=None)
    if form.sex is not None:
        data["sex"] = form.sex.lower()
    if form.near:
        data["location"] = {"place": form.near}
    if form.radius:
        data["travel_radius_km"] = radius_km(form.radius, form.unit)
    kept = [a.model_dump() for a in (record.answers if record else [])
            if a.question_key not in answers]
    data["answers"] = kept + [a.model_dump() for a in answer_facts(answers)]
    return PatientProfile.model_validate(data)


@dataclass
class VisitorState:
    """Everything the visitor told us, read once per request."""

    form: Profile
    record: StoredProfile | None
    answers: dict[str, Answer]

    @property
    def active(self) -> bool:
        return not self.form.is_empty() or self.record is not None

    def profile(self) -> PatientProfile:
        return matching_profile(self.form, self.record.profile if self.record else None,
                                self.answers)


def visitor_state(ctx: WebContext, token: str | None, patient_id: int | None = None
                  ) -> VisitorState:
    """The visitor's form, record and answers; ``patient_id`` must be their own record's."""
    if token is None:
        if patient_id is not None:
            raise not_yours(patient_id)
        return VisitorState(Profile(), None, {})
    record = load_record(ctx, token, patient_id)
    return VisitorState(ctx.sessions.profile(token), record, ctx.sessions.answers(token))


def request_state(request: Request) -> VisitorState:
    """The state of the session whose cookie the request carries (none: an empty state)."""
    raw = request.cookies.get(SESSION_COOKIE)
    return visitor_state(web_context(request), raw if raw and is_session_token(raw) else None)


# ---------------------------------------------------------------------- verdicts and matches
def load_trials(ctx: WebContext, ids: Iterable[str]) -> dict[str, Trial]:
    from trialscout.store.trials import load_trials as load

    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    with ctx.core.engine.connect() as conn:
        return load(conn, wanted)


def hit_verdicts(ctx: WebContext, profile: PatientProfile, trials: Iterable[Trial],
                 reference_date: date | None = None) -> dict[str, HitMatch]:
    """Verdicts for a page of results, cheaply: each trial only up to its first sure
    failing criterion (enough for the badge: an unsure one leaves the trial possibly
    eligible), with the stored parsed criteria loaded in one go."""
    listed = list(trials)
    if not listed:
        return {}
    criteria = parsed_lookup(ctx.core)
    criteria.prefetch([t.nct_id for t in listed])
    matches = match_trials(profile, listed, criteria,
                           reference_date=reference_date or date.today(), stop_at_failure=True,
                           stop_confidence=sure_failure())
    return {m.nct_id: HitMatch(verdict=m.verdict, label=VERDICT_LABELS[m.verdict],
                               reason=display_text(m.reason)) for m in matches}


def _filter_matches(ctx: WebContext, profile: PatientProfile, options: MatchOptions,
                    origin: ResolvedPlace | None, reference_date: date
                    ) -> tuple[list[TrialMatch], int]:
    """Without a medical history there is no text to find candidates by: check the trials
    the profile's age, sex and place filters find (nearest first), and rank them."""
    request = search_request(profile, "", options, reference_date, 1)
    if origin is not None:
        request = request.model_copy(update={"sort": "distance"})
    response = ctx.core.search(request)
    trials = load_trials(ctx, [h.nct_id for h in response.hits])
    listed = [trials[h.nct_id] for h in response.hits if h.nct_id in trials]
    criteria = parsed_lookup(ctx.core)
    criteria.prefetch(list(trials))
    facts = PatientFacts(profile, reference_date)
    common: dict[str, Any] = {
        "reference_date": reference_date, "relevance": {h.nct_id: 1.0 for h in response.hits},
        "sites": {h.nct_id: h.nearest_site for h in response.hits},
        "radius_km": options.radius_km or profile.travel_radius_km,
        "use_distance": origin is not None, "facts": facts}
    ranked = match_trials(profile, listed, criteria, stop_at_failure=True,
                          stop_confidence=sure_failure(), **common)[: options.limit]
    shown = []
    for match in ranked:
        if not match.complete:
            (full,) = match_trials(profile, [trials[match.nct_id]], criteria, **common)
            match = full.model_copy(update={"score": match.score, "rank": match.rank,
                                            "eligibility": match.eligibility})
        shown.append(match)
    return shown, response.total


def result_view(match: TrialMatch, unit: Literal["km", "mi"]) -> MatchResult:
    data = match.model_dump()
    for criterion in data["criteria"]:
        criterion["text"] = display_text(criterion["text"])
        if criterion.get("question"):
            criterion["question"]["text"] = display_text(criterion["question"]["text"])
    for question in data["open_questions"]:
        question["text"] = display_text(question["text"])
    data["reason"] = display_text(data["reason"])
    distance = None
    if match.distance_km is not None:
        distance = round(match.distance_km / KM_PER_MILE if unit == "mi"
                         else match.distance_km, 1)
    return MatchResult.model_validate({**data, "label": VERDICT_LABELS[match.verdict],
                                       "distance": distance, "unit": unit})


NO_PROFILE = ("Add your age, sex or location, or your medical history (a health record or "
              "a clinical note), to your profile to see the trials you may be eligible for.")


def run_matches(ctx: WebContext, state: VisitorState, query: MatchesQuery) -> MatchesPage:
    """Rank trials for the visitor's profile with the matching core (``app.match``)."""
    form = state.form
    unit = query.unit or form.unit
    near = query.near or form.near
    radius = query.radius if query.radius is not None else form.radius
    page = MatchesPage(active=state.active, profile=form, unit=unit, near=near, radius=radius,
                       include_closed=query.include_closed, answers_used=len(state.answers),
                       note=NO_PROFILE)
    if state.record is not None:
        page.patient_id, page.profile_version = state.record.patient_id, state.record.version
        page.record_source = state.record.source
    if not state.active:
        return page
    origin = None
    if near:
        try:
            origin = gazetteer().resolve(near)
        except SearchQueryError as exc:
            page.place_error = str(exc)
            page.note = "Check the place: matching needs a place it can find."
            return page
    page.origin = origin
    profile = state.profile()
    options = MatchOptions(
        lat=origin.lat if origin else None, lon=origin.lon if origin else None,
        radius_km=radius_km(radius, unit) if origin else None, limit=query.limit,
        status=[] if query.include_closed else list(OPEN_STATUSES),
        include_removed=query.all)
    reference_date = date.today()
    removed: list[TrialMatch] = []
    try:
        if relevance_query(profile).strip():
            response = ctx.core.match(profile, options)
            results, page.candidates = response.results, response.candidates
            reference_date, page.ranked_by = response.reference_date, "history"
            removed = response.removed
        else:
            results, page.candidates = _filter_matches(ctx, profile, options, origin,
                                                       reference_date)
            page.ranked_by = "filters"
            if query.all:
                removed = removed_by_registry(ctx.core, profile, "", options,
                                              PatientFacts(profile, reference_date))
    except SearchQueryError as exc:
        page.place_error = str(exc)
        return page
    page.reference_date = reference_date
    page.results = [result_view(m, unit) for m in results]
    page.removed = [result_view(m, unit) for m in removed]
    if page.ranked_by == "history":
        page.note = ("Trials found from your medical history, checked criterion by criterion "
                     "against your profile and your self-check answers, best first.")
    else:
        page.note = ("Trials open to your age, sex and place, checked criterion by criterion. "
                     "Add your medical history to find trials for your conditions.")
    return page
