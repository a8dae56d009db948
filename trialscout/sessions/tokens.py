"""Session ids and CSRF tokens.

A session id is 256 random bits followed by their HMAC under the server's secret key
(``<nonce>.<signature>``), so only ids this server issued are accepted: a client cannot pick
its own id and have it kept (session fixation). The database keeps only the id's SHA-256,
which is safe without a salt because the id itself is unguessable. A CSRF token is an HMAC
of the session id under the secret key, so it needs no storage and is worthless for any
other session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

_NONCE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_ISSUED = re.compile(r"^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$")


def new_session_token() -> str:
    """256 random bits, URL-safe: the nonce of an issued id (and an opaque store key)."""
    return secrets.token_urlsafe(32)


def _signature(secret: bytes, nonce: str) -> str:
    mac = hmac.new(secret, b"session:" + nonce.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def issue_session_id(secret: bytes) -> str:
    """A new session id signed with ``secret``: the only kind the web accepts."""
    nonce = new_session_token()
    return f"{nonce}.{_signature(secret, nonce)}"


def is_issued_session_id(secret: bytes, value: str | None) -> bool:
    """Whether ``value`` is a session id this server (holding ``secret``) issued."""
    found = _ISSUED.match(value or "")
    if found is None:
        return False
    return hmac.compare_digest(_signature(secret, found.group(1)), found.group(2))


def is_session_token(value: str | None) -> bool:
    """Shape check only (a bare nonce or a signed id); the web also checks the signature."""
    text = value or ""
    return bool(text) and (_NONCE.match(text) is not None or _ISSUED.match(text) is not None)


def hash_session_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def csrf_token(secret: bytes, session_token: str) -> str:
    return hmac.new(secret, b"csrf:" + session_token.encode("ascii"), hashlib.sha256).hexdigest()


def csrf_matches(secret: bytes, session_token: str | None, candidate: str | None) -> bool:
    if not session_token or not candidate or not is_session_token(session_token):
        return False
    return hmac.compare_digest(csrf_token(secret, session_token), candidate)
