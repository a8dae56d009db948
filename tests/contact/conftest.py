"""An app holding the two contact trials, and helpers to read what it queued to send."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.contact.studies import write_studies
from trialscout.app import TrialScout
from trialscout.mail.tables import OutboxRow


@pytest.fixture
def capp(backend_app: TrialScout, tmp_path: Path) -> TrialScout:
    """The contact trials on SQLite, and on PostgreSQL in the postgres tier."""
    backend_app.import_paths([write_studies(tmp_path)])
    return backend_app


def outbox(app: TrialScout) -> list[EmailMessage]:
    """Every queued message, oldest first, parsed."""
    with app.connect() as conn:
        rows = conn.execute(select(OutboxRow.message).order_by(OutboxRow.id)).scalars().all()
    return [message_from_bytes(raw, policy=default_policy) for raw in rows]


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())
