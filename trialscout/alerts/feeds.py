"""The Atom feed of one saved search (feedgen), at an unguessable URL."""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from trialscout.alerts.models import KIND_LABELS, AlertItem, SavedSearch


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def atom_feed(*, base_url: str, search: SavedSearch, items: list[AlertItem]) -> bytes:
    base = base_url.rstrip("/")
    feed_url = f"{base}{search.feed_path}"
    fg = FeedGenerator()
    fg.id(feed_url)
    fg.title(f"TrialScout alerts: {search.name}")
    fg.subtitle("Trials that are new, now recruiting, have a new site near you or changed "
                "their eligibility criteria, for this saved search.")
    fg.link(href=feed_url, rel="self", type="application/atom+xml")
    fg.link(href=f"{base}/search", rel="alternate", type="text/html")
    fg.author({"name": "TrialScout"})
    fg.generator("TrialScout")
    fg.language("en")
    newest = max((i.created_at for i in items), default=search.created_at)
    fg.updated(_aware(newest))
    for item in reversed(items):
        entry = fg.add_entry()
        entry.id(f"{feed_url}#alert-{item.id}")
        entry.title(f"{KIND_LABELS.get(item.kind, item.kind)}: {item.title}")
        entry.link(href=f"{base}/trials/{item.nct_id}", rel="alternate", type="text/html")
        entry.updated(_aware(item.created_at))
        entry.published(_aware(item.created_at))
        status = (item.overall_status or "unknown").replace("_", " ").lower()
        entry.summary(f"{item.nct_id} — status: {status}.")
    return bytes(fg.atom_str(pretty=True))
