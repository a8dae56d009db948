"""The emails accounts send: verify an address, reset a password, sign in by link, and the
note to an existing account when someone tries to sign up with its address.

Each goes through the mail outbox (``trialscout.mail.outbox.enqueue``) inside the caller's
transaction, so an email exists exactly when its token does; the idempotency key is the
token's hash, so a retried request never sends a second copy. The link is the only
secret in the message; nothing else personal is in it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from html import escape
from urllib.parse import quote

from sqlalchemy import Connection

from trialscout.mail.outbox import enqueue

_TEXTS = {
    "verify": ("Confirm your email address for TrialScout",
               "Open this link to confirm your email address and finish creating your "
               "TrialScout account:", "It works once and expires in {lifetime}."),
    "reset": ("Reset your TrialScout password",
              "Someone (we hope you) asked to reset the password of your TrialScout account. "
              "Open this link to choose a new one:",
              "It works once and expires in {lifetime}. If you did not ask, ignore this "
              "email: your password stays as it is."),
    "signin": ("Your TrialScout sign-in link",
               "Open this link to sign in to TrialScout:",
               "It works once and expires in {lifetime}. If you did not ask, ignore this "
               "email."),
    "exists": ("Your TrialScout account",
               "Someone (we hope you) tried to create a TrialScout account with this email "
               "address, which already has one. To sign in without your password, or to "
               "reset it, open:", "If it was not you, ignore this email."),
}
PATHS = {"verify": "/account/verify", "reset": "/account/reset", "signin": "/account/link",
         "exists": "/account/signin"}


def account_link(public_url: str, kind: str, token: str | None) -> str:
    base = public_url.rstrip("/") + PATHS[kind]
    return f"{base}?token={quote(token, safe='')}" if token else base


def send_account_email(conn: Connection, *, public_url: str, to: str, kind: str,
                       token: str | None, lifetime: str, now: datetime) -> str:
    """Queue one account email in the caller's transaction; returns its Message-ID."""
    subject, lead, tail = _TEXTS[kind]
    link = account_link(public_url, kind, token)
    tail = tail.format(lifetime=lifetime)
    why = ("You get this email because this address was entered on TrialScout "
           f"({public_url.rstrip('/')}).")
    text = f"{lead}\n\n{link}\n\n{tail}\n\n-- \n{why}\n"
    html = (f"<p>{escape(lead)}</p><p><a href=\"{escape(link)}\">{escape(link)}</a></p>"
            f"<p>{escape(tail)}</p><hr><p><small>{escape(why)}</small></p>")
    seed = token or f"{to}:{now:%Y-%m-%dT%H}"  # a tokenless note: at most one an hour
    key = f"account:{kind}:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()
    return enqueue(conn, to=to, subject=subject, text=text, html=html, key=key,
                   now=now).message_id
