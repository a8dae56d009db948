"""What an email address and a password may be: checked before anything else is done.

Both have hard size limits so the cost of checking is bounded: an address is at most 254
characters (RFC 5321's path limit), a password 8 to 256 characters (argon2 hashes any length,
but nobody types more, and a megabyte password would only cost us CPU).
"""

from __future__ import annotations

import re
import unicodedata

from trialscout.accounts.tables import EMAIL_MAX

PASSWORD_MIN = 10
PASSWORD_MAX = 256
_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class AccountInputError(ValueError):
    """An email address or password that cannot be used, with a message for the person."""


def normalize_email(raw: str) -> str:
    """The address as stored and compared: trimmed, lower-cased; or AccountInputError.

    Only plain ASCII addresses are accepted (no quoted local parts, no comments, no IP
    literals): they are what mail servers deliver reliably and what cannot smuggle
    header text into a message."""
    if not isinstance(raw, str) or len(raw) > EMAIL_MAX + 20:
        raise AccountInputError(f"An email address has at most {EMAIL_MAX} characters.")
    email = raw.strip().lower()
    if not email or len(email) > EMAIL_MAX:
        raise AccountInputError(f"An email address has 3 to {EMAIL_MAX} characters.")
    local, at, domain = email.rpartition("@")
    if not at or not _LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".") \
            or ".." in local:
        raise AccountInputError("That is not an email address (name@example.org).")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels) \
            or labels[-1].isdigit():
        raise AccountInputError("That is not an email address (name@example.org).")
    return email


def check_password(password: str) -> str:
    """The password if it can be used, else AccountInputError saying why."""
    if not isinstance(password, str):
        raise AccountInputError("A password is needed.")
    if len(password) > PASSWORD_MAX:
        raise AccountInputError(f"A password has at most {PASSWORD_MAX} characters.")
    if len(password) < PASSWORD_MIN:
        raise AccountInputError(f"A password has at least {PASSWORD_MIN} characters.")
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise AccountInputError("A password cannot contain control characters.")
    if not password.strip():
        raise AccountInputError("A password cannot be only spaces.")
    return password
