"""A volunteer's categories are saved searches too.

Each pass first brings the saved searches marked ``source = "volunteer:<kind>:<value>"``
in line with the volunteer registry: one per category (a browse-list condition or a free
term, or "healthy volunteer"), around the volunteer's place and radius, for their age and
sex, recruiting or not yet recruiting, emailed daily. A changed registration updates them
in place (their feed and unsubscribe tokens stay), and a withdrawn one deletes them with
their alerts, before any email of the pass is composed.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from trialscout.alerts.tables import AlertRow, SavedSearchRow
from trialscout.mail.outbox import utcnow
from trialscout.search.models import SearchRequest

PREFIX = "volunteer:"
OPEN = ["RECRUITING", "NOT_YET_RECRUITING"]
DELIVERY = "daily"


def _wanted(conn: Connection) -> dict[tuple[str, str], dict[str, Any]]:
    from trialscout.volunteers.tables import VolunteerCategoryRow, VolunteerRow

    people = {r.account_id: r for r in conn.execute(select(VolunteerRow.__table__))}
    categories: dict[int, list[tuple[str, str]]] = {}
    for row in conn.execute(select(VolunteerCategoryRow.account_id, VolunteerCategoryRow.kind,
                                   VolunteerCategoryRow.value)):
        categories.setdefault(row.account_id, []).append((row.kind, row.value))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for account_id, person in people.items():
        chosen = list(categories.get(account_id, []))
        if person.healthy:
            chosen.append(("healthy", ""))
        for kind, value in chosen:
            fields: dict[str, Any] = {"status": OPEN, "age": person.age,
                                      "sex": person.sex or None}
            if kind == "condition":
                fields["condition"] = value
            elif kind == "term":
                fields["q"] = value
            else:
                fields["healthy_volunteers"] = True
            has_place = person.latitude is not None and person.longitude is not None
            if has_place:
                fields.update(lat=person.latitude, lon=person.longitude,
                              radius=person.radius_km)
            request = SearchRequest.model_validate(fields)
            label = value if kind != "healthy" else "healthy volunteers"
            out[(f"account:{account_id}", f"{PREFIX}{kind}:{value}"[:220])] = {
                "name": f"Volunteer: {label}"[:200],
                "request": request.model_dump_json(exclude_defaults=True),
                "origin_lat": person.latitude if has_place else None,
                "origin_lon": person.longitude if has_place else None,
                "radius_km": person.radius_km if has_place else None}
    return out


def sync_volunteer_searches(conn: Connection) -> int:
    """Create, update and delete the volunteers' saved searches; returns rows changed."""
    wanted = _wanted(conn)
    existing = {(r.owner, r.source): r for r in conn.execute(
        select(SavedSearchRow.id, SavedSearchRow.owner, SavedSearchRow.source,
               SavedSearchRow.request, SavedSearchRow.radius_km, SavedSearchRow.origin_lat,
               SavedSearchRow.origin_lon)
        .where(SavedSearchRow.source.like(f"{PREFIX}%")))}
    changed = 0
    gone = [row.id for key, row in existing.items() if key not in wanted]
    if gone:
        conn.execute(delete(AlertRow).where(AlertRow.saved_search_id.in_(gone)))
        conn.execute(delete(SavedSearchRow).where(SavedSearchRow.id.in_(gone)))
        changed += len(gone)
    now = utcnow()
    for (owner, source), values in wanted.items():
        row = existing.get((owner, source))
        if row is None:
            conn.execute(insert(SavedSearchRow).values(
                owner=owner, source=source, delivery=DELIVERY, created_at=now,
                last_sent_at=None, feed_token=secrets.token_urlsafe(32),
                unsubscribe_token=secrets.token_urlsafe(32), **values))
            changed += 1
        elif (row.request, row.radius_km, row.origin_lat, row.origin_lon) != (
                values["request"], values["radius_km"], values["origin_lat"],
                values["origin_lon"]):
            conn.execute(update(SavedSearchRow).where(SavedSearchRow.id == row.id)
                         .values(**values))
            changed += 1
    return changed
