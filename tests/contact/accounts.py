"""Accounts for the contact web tests, made through the accounts tables (the accounts
contract: ``web_sessions.account_id`` says which account a session is signed in to)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, update

from trialscout.accounts.tables import AccountRow
from trialscout.sessions.tables import WebSessionRow
from trialscout.sessions.tokens import hash_session_token
from trialscout.web.visitor import SESSION_COOKIE


def make_account(web: FastAPI, email: str, role: str = "member") -> int:
    now = datetime.now(UTC).replace(tzinfo=None)
    core = web.state.trialscout.core
    with core.engine.begin() as conn:
        made = conn.execute(insert(AccountRow).values(
            email=email, password_hash="unused-in-these-tests", verified_at=now, role=role,
            disabled=False, created_at=now, updated_at=now,
            home_hash=hashlib.sha256(f"home:{email}".encode()).hexdigest())
        ).inserted_primary_key
    assert made is not None
    return int(made[0])


def sign_in(web: FastAPI, client: TestClient, account_id: int) -> str:
    """Sign the client's session in to the account; returns its CSRF token."""
    csrf: str = client.get("/api/v1/session").json()["csrf_token"]
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    context = web.state.trialscout
    context.sessions.put_answers(token, {})
    with context.core.engine.begin() as conn:
        conn.execute(update(WebSessionRow).where(
            WebSessionRow.id_hash == hash_session_token(token)).values(account_id=account_id))
    return csrf
