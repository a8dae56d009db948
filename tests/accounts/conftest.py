"""Accounts on a real SMTP server, a cheap argon2id hasher and a clock tests can move."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher

from tests.mailserver import MailServer
from trialscout.accounts.service import AccountPolicy, AccountService
from trialscout.app import TrialScout, create_app
from trialscout.mail.delivery import deliver_pending

LINK = re.compile(r"https?://\S+?token=([A-Za-z0-9_%-]+)")


def cheap_hasher() -> PasswordHasher:
    """Still argon2id, with a small memory cost so many sign-ins stay fast in tests."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Accounts:
    app: TrialScout
    service: AccountService
    clock: Clock
    mail: MailServer

    def deliver(self) -> None:
        deliver_pending(self.app, self.clock())

    def last_token(self, to: str) -> str:
        """The token of the newest link the SMTP server received for ``to``."""
        self.deliver()
        for message in reversed(self.mail.messages):
            if message["To"] == to:
                body = message.get_body(("plain",))
                assert body is not None
                found = LINK.search(body.get_content())
                assert found, "no link in the message"
                return found.group(1)
        raise AssertionError(f"no message to {to}")

    def member(self, email: str = "ann@example.org", password: str = "correct horse 1") -> int:
        self.service.sign_up(email, password)
        return self.service.verify(self.last_token(email))


@pytest.fixture
def accounts(mail_server: MailServer) -> Iterator[Accounts]:
    app = create_app(database_url="sqlite://", **mail_server.settings())
    clock = Clock(datetime.now().replace(microsecond=0))
    policy = AccountPolicy.from_settings(app.settings)
    yield Accounts(app, AccountService(app.engine, policy, clock, cheap_hasher()), clock,
                   mail_server)
    app.close()
