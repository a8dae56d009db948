"""Tables of accounts: the account, its one-time links, and failed sign-in counters.

Secrets are never stored: passwords as argon2id hashes, link tokens as their SHA-256, and
the failure counters' keys (an email address or a client address) as an HMAC, so the
table tells nobody who tried to sign in. A web session signed in to an account carries the
account id (``web_sessions.account_id``); the account's own answers, profile and patient
record live in its *home* session row (``accounts.home_hash``), which no cookie can name
and which never expires with a browser session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from trialscout.store.tables import Base

EMAIL_MAX = 254
ROLES = ("member", "coordinator", "admin")
TOKEN_PURPOSES = ("verify", "reset", "signin")


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    role: Mapped[str] = mapped_column(String(16), default="member")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    home_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuthTokenRow(Base):
    """A one-time link (verify the address, reset the password, sign in): single use,
    expiring, stored as the SHA-256 of the token."""

    __tablename__ = "account_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoginFailureRow(Base):
    """Failed sign-ins for one key (an account's email or a client address), for lockout.

    ``failures`` counts consecutive failures; a success on the account key resets it."""

    __tablename__ = "login_failures"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
