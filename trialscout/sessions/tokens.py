"""Session ids and CSRF tokens.

A session id is 256 random bits handed to the browser; the database keeps only its SHA-256,
which is safe without a salt because the id itself is unguessable. A CSRF token is an HMAC
of the session id under the server's secret key, so it needs no storage and is worthless
for any other session.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def is_session_token(value: str | None) -> bool:
    return bool(value) and _TOKEN.match(value or "") is not None


def hash_session_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def csrf_token(secret: bytes, session_token: str) -> str:
    return hmac.new(secret, b"csrf:" + session_token.encode("ascii"), hashlib.sha256).hexdigest()


def csrf_matches(secret: bytes, session_token: str | None, candidate: str | None) -> bool:
    if not session_token or not candidate or not is_session_token(session_token):
        return False
    return hmac.compare_digest(csrf_token(secret, session_token), candidate)
