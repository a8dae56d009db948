"""Joining, changing and leaving the volunteer registry, and the counts an admin may see.

A member opts in with categories (conditions from the browse list, and free terms), a place
and radius, the age and sex of their profile, and whether they volunteer as a healthy
person. Joining needs the current consent text's version: the consent is recorded (who,
when, which version); changing the registration later keeps that consent unless the text
changed, in which case it must be given again. Withdrawing is one call: the registration and
its categories go in one transaction, and a "withdrawn" consent record is kept.

The admin view is counts only: per category and per area (a region or country, never the
typed place), and any count below ``MIN_COUNT`` is shown as "fewer than" it, so no number
singles anybody out.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, delete, func, insert, select

from trialscout.search.models import ResolvedPlace
from trialscout.sessions.models import Profile
from trialscout.utc import UtcDateTime
from trialscout.volunteers.consent import CURRENT_CONSENT, consent_text
from trialscout.volunteers.tables import (
    CATEGORY_MAX,
    PLACE_MAX,
    VolunteerCategoryRow,
    VolunteerConsentRow,
    VolunteerRow,
)

MAX_CATEGORIES = 20
MIN_COUNT = 5


class VolunteerError(ValueError):
    """A registration that cannot be stored, with a message for the person."""


def _clean(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        text = " ".join(value.split())
        if not text:
            continue
        if len(text) > CATEGORY_MAX or "\x00" in text:
            raise ValueError(f"a category has at most {CATEGORY_MAX} characters")
        seen.setdefault(text.casefold(), text)
    return list(seen.values())


class Registration(BaseModel):
    """What a member sends to join (or change) the registry."""

    model_config = ConfigDict(extra="forbid")

    conditions: list[str] = Field(default_factory=list, max_length=MAX_CATEGORIES,
                                  description="Conditions from the browse list.")
    terms: list[str] = Field(default_factory=list, max_length=MAX_CATEGORIES,
                             description="Free search terms.")
    place: str = Field(min_length=1, max_length=PLACE_MAX,
                       description="Place name or 'lat,lon' to hear about trials near.")
    radius_km: float = Field(default=100, gt=0, le=20_000)
    healthy: bool = Field(default=False, description="Volunteer as a healthy person.")
    consent_version: str = Field(max_length=32, description="The consent text agreed to.")

    _clean_conditions = field_validator("conditions", "terms")(_clean)


class RegistrationView(BaseModel):
    conditions: list[str]
    terms: list[str]
    place: str
    area: str
    radius_km: float
    healthy: bool
    age: float | None
    sex: str | None
    consent_version: str
    registered_at: UtcDateTime
    updated_at: UtcDateTime


class ConsentRecord(BaseModel):
    version: str
    action: str
    at: UtcDateTime


class CategoryCount(BaseModel):
    kind: str
    value: str
    count: int | None = Field(description="Null when fewer than `fewer_than`.")


class AreaCount(BaseModel):
    area: str
    count: int | None


class RegistryCounts(BaseModel):
    total: int | None
    fewer_than: int = MIN_COUNT
    categories: list[CategoryCount]
    areas: list[AreaCount]


def area_of(place: ResolvedPlace) -> str:
    """The coarse area counted for a place: its region and country (never the city), or
    whole degrees for coordinates."""
    parts = [p.strip() for p in place.name.split(",") if p.strip()]
    if all(p.replace(".", "").replace("-", "").isdigit() for p in parts):
        return f"{round(place.lat):d},{round(place.lon):d}"
    return ", ".join(parts[-2:]) if len(parts) > 2 else ", ".join(parts)


def register(conn: Connection, account_id: int, body: Registration, profile: Profile,
             place: ResolvedPlace, known_conditions: set[str], now: datetime
             ) -> RegistrationView:
    """Join or change the registration of ``account_id`` (see the module docstring)."""
    unknown = [c for c in body.conditions if c not in known_conditions]
    if unknown:
        raise VolunteerError("Not in the list of conditions: " + ", ".join(unknown[:5])
                             + ". Add it as a free term instead.")
    if not body.conditions and not body.terms and not body.healthy:
        raise VolunteerError("Choose at least one condition or term, or volunteer as a "
                             "healthy person.")
    if body.consent_version != CURRENT_CONSENT:
        raise VolunteerError("Please read and agree to the current consent text.")
    existing = conn.execute(select(VolunteerRow.consent_version, VolunteerRow.registered_at)
                            .where(VolunteerRow.account_id == account_id)).first()
    values = {"place": body.place, "area": area_of(place), "latitude": place.lat,
              "longitude": place.lon, "radius_km": body.radius_km, "age": profile.age,
              "sex": profile.sex, "healthy": body.healthy, "consent_version": CURRENT_CONSENT,
              "updated_at": now}
    conn.execute(delete(VolunteerCategoryRow).where(
        VolunteerCategoryRow.account_id == account_id))
    conn.execute(delete(VolunteerRow).where(VolunteerRow.account_id == account_id))
    conn.execute(insert(VolunteerRow).values(
        account_id=account_id, registered_at=existing.registered_at if existing else now,
        **values))
    rows = [{"account_id": account_id, "kind": "condition", "value": v} for v in body.conditions]
    rows += [{"account_id": account_id, "kind": "term", "value": v} for v in body.terms]
    if rows:
        conn.execute(insert(VolunteerCategoryRow), rows)
    if existing is None or existing.consent_version != CURRENT_CONSENT:
        conn.execute(insert(VolunteerConsentRow).values(
            account_id=account_id, version=CURRENT_CONSENT, action="given", at=now))
    view = registration(conn, account_id)
    assert view is not None
    return view


def registration(conn: Connection, account_id: int) -> RegistrationView | None:
    row = conn.execute(select(VolunteerRow.__table__).where(
        VolunteerRow.account_id == account_id)).first()
    if row is None:
        return None
    categories = conn.execute(select(VolunteerCategoryRow.kind, VolunteerCategoryRow.value)
                              .where(VolunteerCategoryRow.account_id == account_id)
                              .order_by(VolunteerCategoryRow.value)).all()
    return RegistrationView(
        conditions=[v for k, v in categories if k == "condition"],
        terms=[v for k, v in categories if k == "term"], place=row.place, area=row.area,
        radius_km=row.radius_km, healthy=bool(row.healthy), age=row.age, sex=row.sex,
        consent_version=row.consent_version, registered_at=row.registered_at,
        updated_at=row.updated_at)


def withdraw(conn: Connection, account_id: int, now: datetime) -> bool:
    """Leave the registry at once; returns whether there was a registration."""
    conn.execute(delete(VolunteerCategoryRow).where(
        VolunteerCategoryRow.account_id == account_id))
    gone = conn.execute(delete(VolunteerRow).where(VolunteerRow.account_id == account_id))
    _drop_volunteer_searches(conn, account_id)
    if not gone.rowcount:
        return False
    conn.execute(insert(VolunteerConsentRow).values(
        account_id=account_id, version=CURRENT_CONSENT, action="withdrawn", at=now))
    return True


def _drop_volunteer_searches(conn: Connection, account_id: int) -> None:
    """The saved searches the alerts keep for a volunteer's categories
    (``alerts/volunteers.py``) go now, not at the next alerts pass: no further alert or
    feed entry comes from a registration that was withdrawn."""
    from trialscout.alerts.tables import AlertRow, SavedSearchRow
    from trialscout.alerts.volunteers import PREFIX

    mine = select(SavedSearchRow.id).where(SavedSearchRow.owner == f"account:{account_id}",
                                           SavedSearchRow.source.like(f"{PREFIX}%"))
    conn.execute(delete(AlertRow).where(AlertRow.saved_search_id.in_(mine)))
    conn.execute(delete(SavedSearchRow).where(SavedSearchRow.id.in_(mine)))


def consents(conn: Connection, account_id: int) -> list[ConsentRecord]:
    rows = conn.execute(select(VolunteerConsentRow.version, VolunteerConsentRow.action,
                               VolunteerConsentRow.at)
                        .where(VolunteerConsentRow.account_id == account_id)
                        .order_by(VolunteerConsentRow.id)).all()
    return [ConsentRecord(version=r.version, action=r.action, at=r.at) for r in rows]


def _shown(count: int) -> int | None:
    return count if count >= MIN_COUNT else None


def counts(conn: Connection) -> RegistryCounts:
    """Volunteers per category and per area: counts only, small ones hidden."""
    total = int(conn.execute(select(func.count()).select_from(VolunteerRow)).scalar_one())
    by_category = conn.execute(
        select(VolunteerCategoryRow.kind, VolunteerCategoryRow.value, func.count())
        .group_by(VolunteerCategoryRow.kind, VolunteerCategoryRow.value)
        .order_by(func.count().desc(), VolunteerCategoryRow.value)).all()
    healthy = int(conn.execute(select(func.count()).select_from(VolunteerRow).where(
        VolunteerRow.healthy.is_(True))).scalar_one())
    categories = [CategoryCount(kind=k, value=v, count=_shown(int(n))) for k, v, n in by_category]
    categories.append(CategoryCount(kind="healthy", value="Healthy volunteers",
                                    count=_shown(healthy)))
    by_area = conn.execute(select(VolunteerRow.area, func.count()).group_by(VolunteerRow.area)
                           .order_by(func.count().desc(), VolunteerRow.area)).all()
    return RegistryCounts(total=_shown(total), categories=categories,
                          areas=[AreaCount(area=a, count=_shown(int(n))) for a, n in by_area])


__all__ = ["CURRENT_CONSENT", "Registration", "RegistrationView", "VolunteerError",
           "consent_text", "consents", "counts", "register", "registration", "withdraw"]
