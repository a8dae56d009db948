"""The alert email: a text part, an HTML part (escaped registry text), one-click
unsubscribe headers (RFC 8058) and a footer that says why it was sent."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from html import escape

from trialscout.alerts.models import DELIVERY_LABELS, KIND_LABELS
from trialscout.alerts.verdicts import LABELS as VERDICT_LABELS


@dataclass(frozen=True)
class AlertLine:
    nct_id: str
    kind: str
    title: str
    status: str | None
    verdict: str | None = None


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


@functools.lru_cache(maxsize=4_096)
def _render_line(base: str, line: AlertLine) -> tuple[str, str]:
    """One trial's lines in the text part and its item in the HTML part. A day's digests
    repeat the same few thousand changed trials, so each is written once, not once per
    email (this was a third of the time spent composing 86,000 digests)."""
    url = f"{base}/trials/{line.nct_id}"
    label = KIND_LABELS.get(line.kind, line.kind)
    status = (line.status or "").replace("_", " ").lower()
    verdict = VERDICT_LABELS.get(line.verdict or "")
    title = _one_line(line.title, 300)
    text = (f"* {label}: {title} ({line.nct_id})\n"
            f"  Status: {status or 'unknown'}" + (f". {verdict}." if verdict else "")
            + f"\n  {url}")
    item = (f'<li><strong>{escape(label)}:</strong> <a href="{escape(url)}">'
            f"{escape(title)}</a> ({escape(line.nct_id)})<br>"
            f"Status: {escape(status or 'unknown')}"
            + (f". <em>{escape(verdict)}.</em>" if verdict else "") + "</li>")
    return text, item


def compose_alert(*, base_url: str, search_name: str, delivery: str, unsubscribe_token: str,
                  lines: list[AlertLine], more: int = 0) -> Composed:
    base = base_url.rstrip("/")
    unsubscribe = f"{base}/alerts/unsubscribe/{unsubscribe_token}"
    manage = f"{base}/alerts"
    count = len(lines) + more
    noun = "update" if count == 1 else "updates"
    subject = _one_line(f"TrialScout: {count} {noun} for “{search_name}”", 200)
    why = (f"You get this email because you saved the search “{search_name}” on TrialScout "
           f"and asked for alerts {DELIVERY_LABELS.get(delivery, delivery)}.")
    text_lines = [f"{count} {noun} for your saved search “{search_name}”:", ""]
    html_items = []
    for line in lines:
        text, item = _render_line(base, line)
        text_lines.append(text)
        html_items.append(item)
    if more:
        text_lines.append(f"... and {more} more: {manage}")
        html_items.append(f'<li><a href="{escape(manage)}">{more} more</a></li>')
    text_lines += ["", "--", why, f"Unsubscribe from this search: {unsubscribe}",
                   f"Manage your saved searches: {manage}"]
    html = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(subject)}</title></head><body>"
        f"<p>{count} {noun} for your saved search “{escape(search_name)}”:</p>"
        f"<ul>{''.join(html_items)}</ul><hr>"
        f"<p><small>{escape(why)} <a href=\"{escape(unsubscribe)}\">Unsubscribe from this "
        f"search</a> · <a href=\"{escape(manage)}\">Manage your saved searches</a></small></p>"
        "</body></html>")
    headers = {"List-Unsubscribe": f"<{unsubscribe}>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
               "Auto-Submitted": "auto-generated"}
    return Composed(subject, "\n".join(text_lines) + "\n", html, headers)
