"""What the shells call: saved searches per owner, the feed, unsubscribe, and one pass.

Every per-owner method takes the owner key and finds nothing for another owner's id, so a
route answers 404 whether the search belongs to someone else or does not exist.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from trialscout.alerts.compose import AlertLine, compose_alert
from trialscout.alerts.compute import compute_alerts, prune
from trialscout.alerts.matcher import compile_search, origin_of
from trialscout.alerts.models import (
    KIND_LABELS,
    MAX_SEARCHES_PER_OWNER,
    AlertItem,
    RunReport,
    SavedSearch,
    SavedSearchCreate,
    SavedSearchUpdate,
)
from trialscout.alerts.tables import AlertRow, SavedSearchRow
from trialscout.alerts.writer import mark_emailed
from trialscout.mail.delivery import deliver_pending
from trialscout.mail.outbox import Outgoing, enqueue_many, prune_outbox, utcnow
from trialscout.search.models import SearchRequest
from trialscout.store.tables import TrialRow

if TYPE_CHECKING:
    from trialscout.app import TrialScout

ALERTS_PER_EMAIL = 50
EMAIL_CHUNK = 500
FEED_ITEMS = 100
PERIODS = {"immediate": timedelta(0), "daily": timedelta(days=1), "weekly": timedelta(days=7)}
# Fields of a search request that say nothing about which trials it finds.
_PRESENTATION = {"sort", "page", "page_size", "facets"}


class AlertsError(ValueError):
    """A saved search that cannot be made (bad query, unknown place, too many)."""


def _stored_request(request: SearchRequest) -> str:
    return request.model_copy(update={"page": 1, "facets": False}).model_dump_json(
        exclude_defaults=True, exclude=_PRESENTATION)


def describe(request: SearchRequest) -> str:
    """A short name for a search: its words, condition and place."""
    parts = [request.q.strip()] if request.q.strip() else []
    if request.condition:
        parts.append(request.condition.strip())
    if request.status:
        parts.append("/".join(s.replace("_", " ").lower() for s in request.status))
    if request.near:
        parts.append(f"near {request.near.strip()}"
                     + (f" ({request.radius:g} {request.unit})" if request.radius else ""))
    text = ", ".join(p for p in parts if p) or "All trials"
    return text[:200]


class AlertService:
    def __init__(self, app: TrialScout) -> None:
        self.app = app

    # ------------------------------------------------------------ saved searches
    def _view(self, row: Any) -> SavedSearch:
        return SavedSearch(id=row.id, name=row.name,
                           request=SearchRequest.model_validate_json(row.request),
                           delivery=row.delivery, feed_path=f"/alerts/feed/{row.feed_token}",
                           created_at=row.created_at, last_sent_at=row.last_sent_at)

    def save(self, owner: str, create: SavedSearchCreate) -> SavedSearch:
        from trialscout.search.errors import SearchQueryError

        request = create.request
        try:
            origin = origin_of(request)
            compile_search(request, origin)
        except SearchQueryError as exc:
            raise AlertsError(str(exc)) from exc
        if request.radius is not None and origin is None:
            raise AlertsError("a radius needs a place (near, or lat and lon)")
        now = utcnow()
        values = {
            "owner": owner, "name": (create.name or "").strip() or describe(request),
            "request": _stored_request(request), "delivery": create.delivery,
            "origin_lat": origin.lat if origin else None,
            "origin_lon": origin.lon if origin else None,
            "radius_km": origin.radius_km if origin else None,
            "feed_token": secrets.token_urlsafe(32), "unsubscribe_token":
                secrets.token_urlsafe(32), "created_at": now, "last_sent_at": None}
        with self.app.engine.begin() as conn:
            count = conn.execute(select(func.count()).select_from(SavedSearchRow)
                                 .where(SavedSearchRow.owner == owner)).scalar_one()
            if count >= MAX_SEARCHES_PER_OWNER:
                raise AlertsError(f"at most {MAX_SEARCHES_PER_OWNER} saved searches each")
            new_id = conn.execute(insert(SavedSearchRow).values(values)
                                  .returning(SavedSearchRow.id)).scalar_one()
            row = conn.execute(select(SavedSearchRow).where(SavedSearchRow.id == new_id)).one()
        return self._view(row)

    def list_searches(self, owner: str) -> list[SavedSearch]:
        with self.app.engine.connect() as conn:
            rows = conn.execute(select(SavedSearchRow).where(SavedSearchRow.owner == owner)
                                .order_by(SavedSearchRow.id)).all()
        return [self._view(r) for r in rows]

    def get(self, owner: str, search_id: int) -> SavedSearch | None:
        with self.app.engine.connect() as conn:
            row = conn.execute(select(SavedSearchRow).where(
                SavedSearchRow.id == search_id, SavedSearchRow.owner == owner)).first()
        return None if row is None else self._view(row)

    def update(self, owner: str, search_id: int, change: SavedSearchUpdate
               ) -> SavedSearch | None:
        values: dict[str, Any] = {}
        if change.name is not None and change.name.strip():
            values["name"] = change.name.strip()
        if change.delivery is not None:
            values["delivery"] = change.delivery
        with self.app.engine.begin() as conn:
            if values:
                conn.execute(update(SavedSearchRow).where(
                    SavedSearchRow.id == search_id, SavedSearchRow.owner == owner)
                    .values(**values))
        return self.get(owner, search_id)

    def delete(self, owner: str, search_id: int) -> bool:
        with self.app.engine.begin() as conn:
            conn.execute(delete(AlertRow).where(AlertRow.saved_search_id.in_(
                select(SavedSearchRow.id).where(SavedSearchRow.id == search_id,
                                                SavedSearchRow.owner == owner))))
            result = conn.execute(delete(SavedSearchRow).where(
                SavedSearchRow.id == search_id, SavedSearchRow.owner == owner))
        return bool(result.rowcount)

    def alerts(self, owner: str, search_id: int, limit: int = FEED_ITEMS
               ) -> list[AlertItem] | None:
        if self.get(owner, search_id) is None:
            return None
        return self._alerts(search_id, limit)

    def _alerts(self, search_id: int, limit: int) -> list[AlertItem]:
        with self.app.engine.connect() as conn:
            rows = conn.execute(
                select(AlertRow.id, AlertRow.nct_id, AlertRow.kind, AlertRow.created_at,
                       AlertRow.emailed, TrialRow.brief_title, TrialRow.official_title,
                       TrialRow.overall_status)
                .join(TrialRow, TrialRow.nct_id == AlertRow.nct_id, isouter=True)
                .where(AlertRow.saved_search_id == search_id)
                .order_by(AlertRow.id.desc()).limit(limit)).all()
        return [AlertItem(id=r.id, nct_id=r.nct_id, kind=r.kind,
                          label=KIND_LABELS.get(r.kind, r.kind),
                          title=r.brief_title or r.official_title or r.nct_id,
                          overall_status=r.overall_status, created_at=r.created_at,
                          emailed=r.emailed) for r in rows]

    # ------------------------------------------------------------ token routes
    def feed(self, token: str) -> bytes | None:
        """The Atom feed for a feed token, or None (unknown token)."""
        from trialscout.alerts.feeds import atom_feed

        if not token or len(token) > 64:
            return None
        with self.app.engine.connect() as conn:
            row = conn.execute(select(SavedSearchRow).where(
                SavedSearchRow.feed_token == token)).first()
        if row is None:
            return None
        return atom_feed(base_url=self.app.settings.public_url, search=self._view(row),
                         items=self._alerts(row.id, FEED_ITEMS))

    def unsubscribe(self, token: str) -> str | None:
        """Stop the emails of the saved search with this unsubscribe token (its feed stays).
        Returns the search's name, or None for an unknown token."""
        if not token or len(token) > 64:
            return None
        with self.app.engine.begin() as conn:
            row = conn.execute(select(SavedSearchRow.id, SavedSearchRow.name).where(
                SavedSearchRow.unsubscribe_token == token)).first()
            if row is None:
                return None
            conn.execute(update(SavedSearchRow).where(SavedSearchRow.id == row.id)
                         .values(delivery="none"))
        return str(row.name)

    # ------------------------------------------------------------ one pass
    def queue_emails(self, now: datetime | None = None) -> int:
        """Compose one email per saved search that has unsent alerts and is due, a chunk of
        saved searches at a time (their alerts, titles, members' profiles and the outbox
        rows each in a few statements). The saved searches lead and their accounts are
        looked up by id: joining on the owner key as text made SQLite scan every account
        for every chunk."""
        from trialscout.accounts.owners import account_of
        from trialscout.accounts.tables import AccountRow

        now = now or utcnow()
        queued = 0
        last_id = 0
        while True:
            with self.app.engine.connect() as conn:
                due = conn.execute(
                    select(SavedSearchRow.id, SavedSearchRow.owner, SavedSearchRow.name,
                           SavedSearchRow.delivery, SavedSearchRow.unsubscribe_token,
                           SavedSearchRow.last_sent_at)
                    .where(SavedSearchRow.id > last_id,
                           SavedSearchRow.delivery.in_(list(PERIODS)),
                           SavedSearchRow.owner.like("account:%"),
                           select(AlertRow.id).where(AlertRow.saved_search_id ==
                                                     SavedSearchRow.id,
                                                     AlertRow.emailed.is_(False)).exists())
                    .order_by(SavedSearchRow.id).limit(EMAIL_CHUNK)).all()
                if not due:
                    return queued
                owners = {row.owner: account_of(row.owner) for row in due}
                emails = dict(conn.execute(select(AccountRow.id, AccountRow.email).where(
                    AccountRow.id.in_({a for a in owners.values() if a is not None}),
                    AccountRow.verified_at.isnot(None), AccountRow.disabled.is_(False))
                ).all())
            last_id = due[-1].id
            ready = [(row, emails[account]) for row in due
                     if (account := owners[row.owner]) in emails
                     and (row.last_sent_at is None
                          or now - row.last_sent_at >= PERIODS[row.delivery])]
            if ready:
                queued += self._queue_chunk(ready, now)

    def _queue_chunk(self, ready: list[tuple[Any, str]], now: datetime) -> int:
        from trialscout.alerts.verdicts import member_profiles, verdicts

        rows = [row for row, _email in ready]
        address = {row.id: email for row, email in ready}
        search_ids = [row.id for row in rows]
        pending: dict[int, list[Any]] = {}
        with self.app.engine.connect() as conn:
            for alert in conn.execute(
                    select(AlertRow.saved_search_id, AlertRow.id, AlertRow.nct_id,
                           AlertRow.kind)
                    .where(AlertRow.saved_search_id.in_(search_ids),
                           AlertRow.emailed.is_(False))
                    .order_by(AlertRow.saved_search_id, AlertRow.id)):
                pending.setdefault(alert.saved_search_id, []).append(alert)
            shown = sorted({a.nct_id for found in pending.values()
                            for a in found[:ALERTS_PER_EMAIL]})
            trials: dict[str, Any] = {}
            for start in range(0, len(shown), 500):
                trials.update((t.nct_id, t) for t in conn.execute(
                    select(TrialRow.nct_id, TrialRow.brief_title, TrialRow.official_title,
                           TrialRow.overall_status)
                    .where(TrialRow.nct_id.in_(shown[start:start + 500]))))
            profiles = member_profiles(conn, [row.owner for row in rows])
        outgoing: list[Outgoing] = []
        marks: list[tuple[int, list[int]]] = []
        for row in rows:
            alerts = pending.get(row.id)
            if not alerts:
                continue
            first = alerts[:ALERTS_PER_EMAIL]
            profile = profiles.get(row.owner)
            hints = verdicts(self.app, profile, sorted({a.nct_id for a in first})) \
                if profile is not None else {}
            lines = []
            for a in first:
                t = trials.get(a.nct_id)
                title = (t.brief_title or t.official_title) if t is not None else None
                lines.append(AlertLine(a.nct_id, a.kind, title or a.nct_id,
                                       t.overall_status if t is not None else None,
                                       hints.get(a.nct_id)))
            composed = compose_alert(base_url=self.app.settings.public_url,
                                     search_name=row.name, delivery=row.delivery,
                                     unsubscribe_token=row.unsubscribe_token, lines=lines,
                                     more=len(alerts) - len(first))
            ids = [a.id for a in alerts]
            outgoing.append(Outgoing(
                to=address[row.id], subject=composed.subject, text=composed.text,
                html=composed.html, headers=composed.headers,
                key=f"alerts:{row.id}:{ids[0]}:{ids[-1]}:{len(ids)}"))
            marks.append((row.id, ids))
        if not outgoing:
            return 0
        with self.app.engine.begin() as conn:
            queued = enqueue_many(conn, outgoing, sender=self.app.settings.mail_sender,
                                  now=now)
            mark_emailed(conn, [(ids, message.message_id)
                                for (_sid, ids), message in zip(marks, queued, strict=True)])
            conn.execute(update(SavedSearchRow).where(SavedSearchRow.id == bindparam("sid"))
                         .values(last_sent_at=now), [{"sid": sid} for sid, _ids in marks])
        return len(outgoing)

    def run(self, now: datetime | None = None, *, deliver: bool = True,
            resend_uncertain: bool = False, delivery_batch: int = 1000) -> RunReport:
        """One pass: changes -> alerts -> emails -> SMTP (every due message, in batches of
        ``delivery_batch``). Safe to run again at any time."""
        from trialscout.alerts.volunteers import sync_volunteer_searches

        report = RunReport()
        with self.app.engine.begin() as conn:
            sync_volunteer_searches(conn)
        while True:
            computed = compute_alerts(self.app.engine)
            if not computed.changes:
                break
            report.changes += computed.changes
            report.searches = max(report.searches, computed.searches)
            report.alerts += computed.alerts
        report.emails_queued = self.queue_emails(now)
        with self.app.engine.begin() as conn:
            prune(conn, now=now)
            prune_outbox(conn, now=now)
        first = True
        while deliver:
            delivered = deliver_pending(self.app, now, limit=delivery_batch,
                                        resend_uncertain=resend_uncertain and first)
            first = False
            report.sent += delivered.sent
            report.deferred += delivered.deferred
            report.failed += delivered.failed
            report.uncertain += delivered.uncertain
            report.smtp_configured = delivered.configured
            if not delivered.more:
                break
        return report
