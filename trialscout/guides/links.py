"""Which trials a guide lists, and which guides a trial page links to.

Both go through the shared vocabulary: a guide names concepts (``denosumab``), and a trial
belongs to it when one of its conditions, interventions, MeSH terms, keywords or its title
names that concept or a narrower one, by any synonym ("Prolia", "AMG 162", "Denosumab 60 mg
[Prolia]"). A broad SQL filter finds candidates; the vocabulary matcher confirms each, on
whole words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Connection, func, or_, select

from trialscout.guides.content import Guide, bundled_guides
from trialscout.store.tables import TrialFacetRow, TrialRow
from trialscout.summaries.mentions import matcher
from trialscout.vocabulary import vocabulary

LINK_FIELDS = ("condition", "intervention", "mesh", "keyword")
OPEN_STATUSES = ("RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION")
FIELD_ORDER = {"condition": 0, "intervention": 1, "mesh": 2, "keyword": 3, "title": 4}


class GuideTrial(BaseModel):
    nct_id: str
    title: str
    status: str | None = None
    phases: str | None = None
    matched: list[str] = Field(default_factory=list)


class GuideTrials(BaseModel):
    total: int
    trials: list[GuideTrial]


def guide_concepts(guide: Guide) -> set[str]:
    """The guide's concepts and every narrower concept (osteoporosis -> steroid-induced...)."""
    vocab = vocabulary()
    out: set[str] = set()
    for cid in guide.concepts:
        out.add(cid)
        out |= vocab.members(cid)
    return out


def _forms(concepts: Iterable[str]) -> list[str]:
    vocab = vocabulary()
    forms = {form.casefold() for cid in concepts for form in vocab.by_id[cid].forms}
    return sorted(f for f in forms if len(f) >= 3)


def _like(column: Any, forms: list[str]) -> ColumnElement[bool]:
    lowered = func.lower(column)
    return or_(*[lowered.like(f"%{f}%") for f in forms])


def _matches(text: str, concepts: set[str]) -> bool:
    return bool(matcher().concept_ids(text, overlapping=True) & concepts)


def linked_trial_ids(conn: Connection, guide: Guide) -> dict[str, list[str]]:
    """NCT id -> what matched ("condition: Postmenopausal Osteoporosis") for every trial."""
    concepts = guide_concepts(guide)
    forms = _forms(concepts)
    found: dict[str, list[str]] = {}
    rows = conn.execute(
        select(TrialFacetRow.nct_id, TrialFacetRow.field, TrialFacetRow.value)
        .where(TrialFacetRow.field.in_(LINK_FIELDS), _like(TrialFacetRow.value, forms)))
    for nct_id, field, value in rows:
        if _matches(value, concepts):
            found.setdefault(nct_id, []).append(f"{field}: {value}")
    titles = conn.execute(select(TrialRow.nct_id, TrialRow.brief_title)
                          .where(_like(TrialRow.brief_title, forms)))
    for nct_id, title in titles:
        if nct_id not in found and title and _matches(title, concepts):
            found[nct_id] = [f"title: {title}"]
    for reasons in found.values():
        reasons.sort(key=lambda r: FIELD_ORDER.get(r.split(":", 1)[0], 9))
    return found


def guide_trials(conn: Connection, guide: Guide, *, limit: int = 20, offset: int = 0,
                 open_only: bool = False) -> GuideTrials:
    """A page of the guide's trials: open ones first, then the most recently updated."""
    found = linked_trial_ids(conn, guide)
    if not found:
        return GuideTrials(total=0, trials=[])
    ids = sorted(found)
    rows: list[Any] = []
    for start in range(0, len(ids), 900):
        query = (select(TrialRow.nct_id, TrialRow.brief_title, TrialRow.official_title,
                        TrialRow.overall_status, TrialRow.phases, TrialRow.last_update_sort)
                 .where(TrialRow.nct_id.in_(ids[start:start + 900])))
        if open_only:
            query = query.where(TrialRow.overall_status.in_(OPEN_STATUSES))
        rows.extend(conn.execute(query).all())
    rows.sort(key=lambda r: r.nct_id)
    rows.sort(key=lambda r: r.last_update_sort or dt.date.min, reverse=True)
    rows.sort(key=lambda r: r.overall_status not in OPEN_STATUSES)
    page = rows[offset:offset + limit]
    return GuideTrials(total=len(rows), trials=[
        GuideTrial(nct_id=r.nct_id, title=r.brief_title or r.official_title or r.nct_id,
                   status=r.overall_status, phases=r.phases, matched=found[r.nct_id])
        for r in page])


def guides_for_text(texts: Iterable[str]) -> list[Guide]:
    """Guides whose concepts the texts name (for "Read our guide" links on a trial page)."""
    named: set[str] = set()
    for text in texts:
        named |= matcher().concept_ids(text, overlapping=True)
    return [g for g in bundled_guides() if guide_concepts(g) & named]
