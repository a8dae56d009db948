"""Why a trial is listed as similar, in a few words a patient understands.

Reasons are derived from the same features the score uses, so an explanation never claims
more than the ranking saw: "same condition (osteoporosis), same drug (denosumab),
recruiting, 12 km away".
"""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field

from trialscout.search.places import haversine_km
from trialscout.similar.features import TrialFeatures, rules
from trialscout.similar.index import ScoreParts

STATUS_WORDS = {
    "RECRUITING": "recruiting",
    "NOT_YET_RECRUITING": "opening soon",
    "ENROLLING_BY_INVITATION": "by invitation",
    "ACTIVE_NOT_RECRUITING": "not taking new people",
    "COMPLETED": "completed",
    "TERMINATED": "stopped early",
    "WITHDRAWN": "withdrawn",
    "SUSPENDED": "on hold",
}
SEX_WORDS = {"FEMALE": "also for women only", "MALE": "also for men only"}


class Reason(BaseModel):
    kind: str
    text: str


class SimilarTrial(BaseModel):
    """One similar trial with its score and the reasons it was picked."""

    nct_id: str
    title: str
    status: str | None = None
    score: float
    reasons: list[Reason] = Field(default_factory=list)
    distance_km: float | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def explanation(self) -> str:
        return ", ".join(r.text for r in self.reasons)


def _shared(a: dict[str, str], b: dict[str, str]) -> list[str]:
    return [b[key] for key in a if key in b]


def nearest_km(f: TrialFeatures, origin: tuple[float, float]) -> float | None:
    if not f.sites:
        return None
    return float(min(haversine_km(origin[0], origin[1], lat, lon) for lat, lon in f.sites))


def explain(query: TrialFeatures, other: TrialFeatures, parts: ScoreParts,
            origin: tuple[float, float] | None = None) -> SimilarTrial:
    reasons: list[Reason] = []
    conditions = _shared(query.conditions, other.conditions)
    if conditions:
        word = "same condition" if len(conditions) == 1 else "same conditions"
        reasons.append(Reason(kind="condition", text=f"{word} ({', '.join(conditions[:2])})"))
    else:
        related = sorted(query.condition_family & other.condition_family)
        if related and other.conditions:
            name = next(iter(other.conditions.values()))
            reasons.append(Reason(kind="related_condition", text=f"related condition ({name})"))
    shared = [key for key in query.interventions if key in other.interventions]
    if shared:
        drugs = [k for k in shared if other.intervention_kinds.get(k) == "drug"]
        keys = drugs or shared
        word = "drug" if drugs else "treatment"
        word = f"same {word}" + ("s" if len(keys) > 1 else "")
        names = [other.interventions[k] for k in keys[:2]]
        reasons.append(Reason(kind="intervention", text=f"{word} ({', '.join(names)})"))
    if not conditions and not shared and parts.text >= float(rules()["similar_text_min"]):
        reasons.append(Reason(kind="text", text="similar description"))
    if parts.population and query.sex == other.sex and query.sex in SEX_WORDS:
        reasons.append(Reason(kind="population", text=SEX_WORDS[query.sex]))
    if other.status in STATUS_WORDS:
        reasons.append(Reason(kind="status", text=STATUS_WORDS[other.status]))
    distance = nearest_km(other, origin) if origin else None
    if distance is not None:
        shown = f"{distance:.0f}" if distance >= 10 else f"{distance:.1f}"
        reasons.append(Reason(kind="distance", text=f"{shown} km away"))
    if not reasons:
        reasons.append(Reason(kind="text", text="similar description"))
    return SimilarTrial(nct_id=other.nct_id, title=other.title, status=other.status,
                        score=round(parts.score, 4), reasons=reasons,
                        distance_km=None if distance is None else round(distance, 1))
