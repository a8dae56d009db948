"""Helpers for the workspace web tests: a visitor with a CSRF token, and signing a browser
in to a member account directly in the store (the sign-in pages belong to the accounts
helper; the ownership rule only needs ``web_sessions.account_id``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from trialscout.accounts.tables import AccountRow
from trialscout.app import TrialScout
from trialscout.sessions.tables import WebSessionRow
from trialscout.sessions.tokens import hash_session_token

_accounts = itertools.count(1)


@dataclass
class Actor:
    name: str
    client: TestClient
    csrf: str

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    def form(self, **fields: str) -> dict[str, str]:
        return {"csrf_token": self.csrf, **fields}


def visitor(name: str, client: TestClient) -> Actor:
    response = client.get("/api/v1/session")
    assert response.status_code == 200
    return Actor(name, client, response.json()["csrf_token"])


def sign_in(core: TrialScout, actor: Actor, role: str = "member") -> int:
    """Make the actor's session signed in to a fresh account of ``role``; returns its id."""
    token = actor.client.cookies.get("ts_session")
    assert token
    now = datetime.now(UTC).replace(tzinfo=None)
    n = next(_accounts)
    id_hash = hash_session_token(token)
    with core.engine.begin() as conn:
        key = conn.execute(insert(AccountRow).values(
            email=f"member{n}-{id_hash[:8]}@example.org", password_hash="x", role=role,
            disabled=False, verified_at=now, created_at=now, updated_at=now,
            home_hash=f"{n:04d}" + id_hash[4:])).inserted_primary_key
        assert key is not None
        account_id = key[0]
        if conn.execute(select(WebSessionRow.id_hash).where(
                WebSessionRow.id_hash == id_hash)).first() is None:
            conn.execute(insert(WebSessionRow).values(id_hash=id_hash, created_at=now,
                                                      last_seen=now, profile=None))
        conn.execute(update(WebSessionRow).where(WebSessionRow.id_hash == id_hash)
                     .values(account_id=account_id))
    return int(account_id)
