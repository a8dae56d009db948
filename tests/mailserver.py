"""A real SMTP server (aiosmtpd) on 127.0.0.1 that collects what it receives.

Use the ``mail_server`` fixture (imported into conftest.py): ``mail_server.settings()`` gives
the overrides that point an app at it, ``mail_server.messages`` the parsed messages received,
and ``refuse`` / ``stop`` / ``start`` simulate refusals and an outage.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    refuse_all: str | None = None
    rcpt_delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.rcpt_delay:
            import asyncio

            await asyncio.sleep(self.rcpt_delay)
        reply = self.refuse_rcpt.get(address.lower()) or self.refuse_all
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        msg = message_from_bytes(raw, policy=default_policy)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          msg, raw))
        return "250 Message accepted for delivery"


class MailServer:
    """One aiosmtpd server on a free loopback port; plain SMTP, no login."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.handler = _Handler()
        self._controller: Controller | None = None

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(self.handler, hostname=self.host, port=self.port,
                                          ready_timeout=10)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self) -> dict[str, Any]:
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_security": "none",
                "smtp_timeout": 5.0, "mail_sender": "TrialScout <alerts@trialscout.test>"}

    def refuse(self, address: str | None, reply: str) -> None:
        """Answer RCPT TO for ``address`` (or every address when None) with ``reply``."""
        if address is None:
            self.handler.refuse_all = reply
        else:
            self.handler.refuse_rcpt[address.lower()] = reply

    def accept_all(self) -> None:
        self.handler.refuse_all = None
        self.handler.refuse_rcpt.clear()

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return [r.message for r in self.handler.received]

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A started SMTP server collecting messages; stopped after the test."""
    server = MailServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
