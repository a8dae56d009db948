"""Account operations: sign up, verify, sign in and out, links by email, roles, disable.

Every outcome a stranger can observe is the same whether or not an address has an account:
sign-up, reset and sign-in-link requests always answer "check your email" (an existing
account gets a note instead of a second account), and a failed sign-in always says
"Email address or password is wrong." (unknown addresses still pay for one argon2 check).
Lockout counters are keyed by the typed address too, so they leak nothing either.

Web sessions: signing in links a *new* session id to the account and merges the old
session's data into it (``owners.merge_owner``) in one transaction; the old id stops
working. Signing out deletes the session; "sign out everywhere", a password reset, a role
change and disabling delete every session of the account, so any privilege change forces a
new session id.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from trialscout.accounts import lockout
from trialscout.accounts.emails import send_account_email
from trialscout.accounts.inputs import AccountInputError, check_password, normalize_email
from trialscout.accounts.links import (
    RESEND_AFTER,
    consume_link_token,
    issue_link_token,
    recently_issued,
)
from trialscout.accounts.lookup import AccountInfo
from trialscout.accounts.owners import merge_owner, owner_for
from trialscout.accounts.session_data import ensure_home_row
from trialscout.accounts.tables import ROLES, AccountRow
from trialscout.sessions.tables import WebSessionRow
from trialscout.sessions.tokens import hash_session_token
from trialscout.settings import Settings

WRONG = "Email address or password is wrong."


class SignInRefused(Exception):
    """Wrong address or password (the same message either way)."""

    def __init__(self, message: str = WRONG) -> None:
        super().__init__(message)


class NotVerified(SignInRefused):
    """The right password for an address not confirmed yet. Only someone who knows the
    password sees this (a wrong one gets the usual message), so it tells a stranger
    nothing; it says whether a new link went out (at most one a minute is sent)."""

    def __init__(self, resent: bool = True) -> None:
        super().__init__(
            "Confirm your email address first: we have emailed you a new link. "
            "Open it, then sign in." if resent else
            "Confirm your email address first: open the link we emailed you a moment ago, "
            "then sign in.")
        self.resent = resent


class LockedOut(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed attempts. Try again in {retry_after} seconds.")
        self.retry_after = retry_after


class LinkInvalid(Exception):
    def __init__(self) -> None:
        super().__init__("This link does not work any more: links work once and expire. "
                         "Ask for a new one.")


class AccountNotFound(LookupError):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _lifetime_text(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


@dataclass(frozen=True)
class AccountPolicy:
    verify_lifetime: timedelta = timedelta(hours=48)
    link_lifetime: timedelta = timedelta(minutes=30)
    lockout: lockout.LockoutPolicy = field(default_factory=lockout.LockoutPolicy)
    public_url: str = "http://127.0.0.1:8000"
    hash_memory_kib: int = 65536

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountPolicy:
        return cls(verify_lifetime=timedelta(hours=settings.account_verify_hours),
                   link_lifetime=timedelta(minutes=settings.account_link_minutes),
                   lockout=lockout.LockoutPolicy(settings.login_lockout_after,
                                                 settings.login_lockout_max_seconds),
                   public_url=settings.public_url,
                   hash_memory_kib=settings.password_hash_memory_kib)


class AccountService:
    def __init__(self, engine: Engine, policy: AccountPolicy,
                 clock: Callable[[], datetime] = utcnow,
                 hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.policy = policy
        self.clock = clock
        self.hasher = hasher or PasswordHasher(memory_cost=policy.hash_memory_kib)
        self._dummy: str | None = None

    # ------------------------------------------------------------------ helpers
    def _mail(self, conn: Connection, to: str, kind: str, token: str | None,
              lifetime: timedelta) -> None:
        send_account_email(conn, public_url=self.policy.public_url, to=to, kind=kind,
                           token=token, lifetime=_lifetime_text(lifetime), now=self.clock())

    def _by_email(self, conn: Connection, email: str) -> Row[Any] | None:
        return conn.execute(select(AccountRow.__table__).where(
            AccountRow.email == email)).first()

    def _check_dummy(self, password: str) -> None:
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        with suppress(VerificationError):
            self.hasher.verify(self._dummy, password)

    def info(self, account_id: int) -> AccountInfo:
        with self.engine.connect() as conn:
            row = conn.execute(select(AccountRow.__table__).where(
                AccountRow.id == account_id)).first()
        if row is None:
            raise AccountNotFound(f"no account {account_id}")
        return AccountInfo(int(row.id), row.email, row.role, row.verified_at is not None)

    # ------------------------------------------------------------------ sign-up
    def create(self, conn: Connection, email: str, password: str, *, role: str = "member",
               verified: bool = False) -> int:
        """Insert an account (and its home row); IntegrityError if the address is taken."""
        if role not in ROLES:
            raise AccountInputError(f"role must be one of {', '.join(ROLES)}")
        email = normalize_email(email)
        password_hash = self.hasher.hash(check_password(password))
        now = self.clock()
        home = hash_session_token(secrets.token_urlsafe(32))
        ensure_home_row(conn, home)
        key = conn.execute(insert(AccountRow).values(
            email=email, password_hash=password_hash, verified_at=now if verified else None,
            role=role, disabled=False, created_at=now, updated_at=now,
            home_hash=home)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def sign_up(self, email: str, password: str) -> None:
        """Create an unverified account and email its verification link; for an address that
        has an account, email that account a note instead. Same outcome to the caller."""
        email = normalize_email(email)
        check_password(password)
        with self.engine.begin() as conn:
            existing = self._by_email(conn, email)
            if existing is not None:
                self.hasher.hash(password)  # as long as a real sign-up: timing tells nothing
                if existing.verified_at is None and not existing.disabled:
                    # anyone can sign up with any address: at most one link an hour here
                    self._resend_verification(conn, existing.id, email, timedelta(hours=1))
                else:
                    self._mail(conn, email, "exists", None, self.policy.link_lifetime)
                return
            try:
                with conn.begin_nested():
                    account_id = self.create(conn, email, password)
            except IntegrityError:
                return  # a concurrent sign-up with the same address won
            token = issue_link_token(conn, account_id, "verify", self.clock(),
                                     self.policy.verify_lifetime)
            self._mail(conn, email, "verify", token, self.policy.verify_lifetime)

    def verify(self, token: str) -> int:
        """Mark the address of this verification link confirmed; LinkInvalid if used/expired."""
        now = self.clock()
        with self.engine.begin() as conn:
            account_id = consume_link_token(conn, token, "verify", now)
            if account_id is None:
                raise LinkInvalid()
            conn.execute(update(AccountRow).where(AccountRow.id == account_id,
                                                  AccountRow.verified_at.is_(None))
                         .values(verified_at=now, updated_at=now))
            return account_id

    # ------------------------------------------------------------------ sign-in
    def authenticate(self, email: str, password: str, client: str) -> AccountInfo:
        """The account for this address and password, or SignInRefused / LockedOut."""
        try:
            email = normalize_email(email)
        except AccountInputError as exc:
            raise SignInRefused() from exc
        if not isinstance(password, str) or not password or \
                len(password) > 1024:
            raise SignInRefused()
        keys = [lockout.email_key(email), lockout.client_key(client)]
        now = self.clock()
        with self.engine.connect() as conn:
            wait = lockout.locked_for(conn, keys, now)
            row = None if wait else self._by_email(conn, email)
        if wait:
            raise LockedOut(wait)
        ok = False
        if row is None or row.disabled:
            self._check_dummy(password)
        else:
            try:
                ok = self.hasher.verify(row.password_hash, password)
            except (VerifyMismatchError, InvalidHashError, VerificationError):
                ok = False
        if not ok or row is None:
            with self.engine.begin() as conn:
                lockout.record_failure(conn, keys[0], "email", now, self.policy.lockout)
                lockout.record_failure(conn, keys[1], "client", now, self.policy.lockout)
            raise SignInRefused()
        with self.engine.begin() as conn:
            lockout.clear(conn, keys[0])
            if self.hasher.check_needs_rehash(row.password_hash):
                conn.execute(update(AccountRow).where(AccountRow.id == row.id).values(
                    password_hash=self.hasher.hash(password)))
            resent = row.verified_at is None and self._resend_verification(conn, row.id,
                                                                          row.email)
        if row.verified_at is None:
            raise NotVerified(resent)
        return AccountInfo(int(row.id), row.email, row.role, True)

    def _resend_verification(self, conn: Connection, account_id: int, email: str,
                             within: timedelta = RESEND_AFTER) -> bool:
        """A new verification link for an unconfirmed account (someone signing up again, or
        signing in before confirming), unless one went out less than ``within`` ago."""
        now = self.clock()
        if recently_issued(conn, account_id, "verify", now, within):
            return False
        token = issue_link_token(conn, account_id, "verify", now, self.policy.verify_lifetime)
        self._mail(conn, email, "verify", token, self.policy.verify_lifetime)
        return True

    def request_link(self, email: str, purpose: str) -> None:
        """Email a reset (``reset``) or sign-in (``signin``) link if the address has an
        enabled account; nothing observable otherwise."""
        if purpose not in ("reset", "signin"):
            raise ValueError(purpose)
        try:
            email = normalize_email(email)
        except AccountInputError:
            return
        with self.engine.begin() as conn:
            row = self._by_email(conn, email)
            if row is None or row.disabled or recently_issued(conn, row.id, purpose,
                                                              self.clock()):
                return
            token = issue_link_token(conn, row.id, purpose, self.clock(),
                                     self.policy.link_lifetime)
            self._mail(conn, row.email, purpose, token, self.policy.link_lifetime)

    def use_signin_link(self, token: str) -> AccountInfo:
        """The account of a sign-in link (used up now); following it also confirms the
        address, since only its owner received it."""
        now = self.clock()
        with self.engine.begin() as conn:
            account_id = consume_link_token(conn, token, "signin", now)
            if account_id is None:
                raise LinkInvalid()
            conn.execute(update(AccountRow).where(AccountRow.id == account_id,
                                                  AccountRow.verified_at.is_(None))
                         .values(verified_at=now, updated_at=now))
            disabled = conn.execute(select(AccountRow.disabled).where(
                AccountRow.id == account_id)).scalar_one()
        if disabled:
            raise LinkInvalid()
        return self.info(account_id)

    def check_link(self, token: str, purpose: str) -> bool:
        """Whether a link is still usable (shown before asking for a new password)."""
        from trialscout.accounts.links import token_hash
        from trialscout.accounts.tables import AuthTokenRow

        with self.engine.connect() as conn:
            return conn.execute(select(AuthTokenRow.account_id).where(
                AuthTokenRow.token_hash == token_hash(token), AuthTokenRow.purpose == purpose,
                AuthTokenRow.used_at.is_(None), AuthTokenRow.expires_at > self.clock())
            ).first() is not None

    def reset_password(self, token: str, password: str) -> int:
        """Set a new password through a reset link; every session of the account ends."""
        password_hash = self.hasher.hash(check_password(password))
        now = self.clock()
        with self.engine.begin() as conn:
            account_id = consume_link_token(conn, token, "reset", now)
            if account_id is None:
                raise LinkInvalid()
            conn.execute(update(AccountRow).where(AccountRow.id == account_id).values(
                password_hash=password_hash, updated_at=now,
                verified_at=conn.execute(select(AccountRow.verified_at).where(
                    AccountRow.id == account_id)).scalar_one() or now))
            self._end_all(conn, account_id)
            row = conn.execute(select(AccountRow.email).where(AccountRow.id == account_id)
                               ).scalar_one()
            lockout.clear(conn, lockout.email_key(row))
            return account_id

    # ------------------------------------------------------------------ web sessions
    def start_session(self, old_token: str | None, new_token: str, account_id: int) -> None:
        """Link the new session id to the account, moving what the old session held into the
        account, in one transaction; the old id no longer reaches anything."""
        now = self.clock()
        new_hash = hash_session_token(new_token)
        with self.engine.begin() as conn:
            if old_token:
                old_hash = hash_session_token(old_token)
                merge_owner(conn, owner_for(old_hash, None), owner_for(None, account_id))
                conn.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == old_hash))
            conn.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == new_hash))
            conn.execute(insert(WebSessionRow).values(
                id_hash=new_hash, created_at=now, last_seen=now, profile=None,
                account_id=account_id))

    def end_session(self, token: str | None) -> None:
        """Sign out this session (the account's data stays with the account)."""
        if not token:
            return
        with self.engine.begin() as conn:
            conn.execute(delete(WebSessionRow).where(
                WebSessionRow.id_hash == hash_session_token(token),
                WebSessionRow.account_id.is_not(None)))

    def _end_all(self, conn: Connection, account_id: int) -> int:
        result = conn.execute(delete(WebSessionRow).where(
            WebSessionRow.account_id == account_id))
        return int(result.rowcount or 0)

    def end_all_sessions(self, account_id: int) -> int:
        """Sign out everywhere: every session of the account ends."""
        with self.engine.begin() as conn:
            return self._end_all(conn, account_id)

    # ------------------------------------------------------------------ administration
    def set_role(self, account_id: int, role: str) -> None:
        """Change the role; the account's sessions end (a privilege change needs new ids)."""
        if role not in ROLES:
            raise AccountInputError(f"role must be one of {', '.join(ROLES)}")
        with self.engine.begin() as conn:
            found = conn.execute(update(AccountRow).where(AccountRow.id == account_id).values(
                role=role, updated_at=self.clock()))
            if not found.rowcount:
                raise AccountNotFound(f"no account {account_id}")
            self._end_all(conn, account_id)

    def set_disabled(self, account_id: int, disabled: bool = True) -> None:
        with self.engine.begin() as conn:
            found = conn.execute(update(AccountRow).where(AccountRow.id == account_id).values(
                disabled=disabled, updated_at=self.clock()))
            if not found.rowcount:
                raise AccountNotFound(f"no account {account_id}")
            if disabled:
                self._end_all(conn, account_id)

    def find(self, email: str) -> int | None:
        with self.engine.connect() as conn:
            row = self._by_email(conn, normalize_email(email))
        return None if row is None else int(row.id)

    def list(self) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(
                AccountRow.id, AccountRow.email, AccountRow.role, AccountRow.verified_at,
                AccountRow.disabled, AccountRow.created_at).order_by(AccountRow.id)).all()
        return [{"id": r.id, "email": r.email, "role": r.role,
                 "verified": r.verified_at is not None, "disabled": bool(r.disabled),
                 "created_at": r.created_at.isoformat(timespec="seconds")} for r in rows]
