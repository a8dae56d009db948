"""The authorization matrix of the contact and coordinator routes: every route (page and
API) for anonymous, patient A, patient B, the coordinator of trial X, the coordinator of
trial Y and an admin. Every cell is checked; refusals are 404."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.contact.accounts import make_account, sign_in
from tests.contact.conftest import body, outbox
from tests.contact.helpers import key_of
from tests.contact.studies import TRIAL_X, TRIAL_Y, X_SITE_A, write_studies
from trialscout.app import TrialScout, create_app
from trialscout.web import create_web_app

ROLES = ("anonymous", "patient_a", "patient_b", "coord_x", "coord_y", "admin")
COORDS = {"coord_x", "coord_y", "admin"}
EVERYONE = set(ROLES)


@dataclass
class World:
    core: TrialScout
    web: FastAPI
    clients: dict[str, TestClient]
    csrf: dict[str, str]
    inquiry_a: str
    inquiry_b: str
    access_token: str


def _contact(name: str) -> dict[str, Any]:
    return {"name": name, "email": f"{name.lower()}@example.org", "preferred_way": "email"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    core = create_app(database_url=f"sqlite:///{tmp_path / 'm.db'}", secret_key="matrix",
                      public_url="http://ts.test")
    core.import_paths([write_studies(tmp_path)])
    web = create_web_app(core)
    clients, csrf = {}, {}
    for n, role in enumerate(ROLES):
        clients[role] = TestClient(web, base_url="http://127.0.0.1", client=(f"10.9.0.{n}", 1))
        clients[role].__enter__()
    accounts = {"patient_a": make_account(web, "a@example.org"),
                "coord_x": make_account(web, "cx@example.org", "coordinator"),
                "coord_y": make_account(web, "cy@example.org", "coordinator"),
                "admin": make_account(web, "admin@example.org", "admin")}
    for role, ident in accounts.items():
        csrf[role] = sign_in(web, clients[role], ident)
    for role in ("anonymous", "patient_b"):
        csrf[role] = clients[role].get("/api/v1/session").json()["csrf_token"]
    x, y = core.trial(TRIAL_X), core.trial(TRIAL_Y)
    assert x is not None and y is not None
    core.contact.grant(x, accounts["coord_x"], "*", admin_id=accounts["admin"])
    core.contact.grant(y, accounts["coord_y"], "*", admin_id=accounts["admin"])

    def send(role: str, nct_id: str) -> str:
        answer = clients[role].post(f"/api/v1/trials/{nct_id}/inquiries", headers={
            "X-CSRF-Token": csrf[role]}, json={
            "site_key": key_of(core, nct_id), "contact": _contact(role.title()),
            "message": f"Message from {role}", "agree": True})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    inquiry_a, inquiry_b = send("patient_a", TRIAL_X), send("patient_b", TRIAL_Y)
    with core.engine.begin() as conn:
        from trialscout.contact import inquiries, recipient

        row = inquiries.row_id(conn, inquiry_b)
        assert row is not None
        access = recipient.create(conn, row, "y-lyon@example.org")
    yield World(core, web, clients, csrf, inquiry_a, inquiry_b, access)
    for client in clients.values():
        client.__exit__(None, None, None)
    core.close()


def _call(world: World, role: str, method: str, path: str, json: Any = None,
          form: dict[str, str] | None = None) -> Any:
    client = world.clients[role]
    if method == "GET":
        return client.get(path, follow_redirects=False)
    if form is not None:
        return client.post(path, data={**form, "csrf_token": world.csrf[role]},
                           follow_redirects=False)
    return client.post(path, json=json, headers={"X-CSRF-Token": world.csrf[role]},
                       follow_redirects=False)


def test_every_route_for_every_role(world: World) -> None:
    a, b, token = world.inquiry_a, world.inquiry_b, world.access_token
    routes: list[tuple[str, str, Any, dict[str, str] | None, set[str], int]] = [
        # method, path, json, form, allowed roles, status when allowed
        ("GET", "/api/v1/inquiries", None, None, EVERYONE, 200),
        ("GET", "/inquiries", None, None, EVERYONE, 200),
        ("GET", f"/api/v1/trials/{TRIAL_X}/contact", None, None, EVERYONE, 200),
        ("GET", f"/trials/{TRIAL_X}/contact", None, None, EVERYONE, 200),
        ("POST", f"/api/v1/trials/{TRIAL_Y}/inquiries", {
            "site_key": key_of(world.core, TRIAL_Y), "contact": _contact("Someone"),
            "agree": True}, None, EVERYONE, 201),
        ("POST", f"/trials/{TRIAL_Y}/contact", None, {
            "site_key": key_of(world.core, TRIAL_Y), "name": "Someone",
            "email": "someone@example.org", "agree": "on"}, EVERYONE, 303),
        ("GET", f"/api/v1/inquiries/access/{token}", None, None, EVERYONE, 200),
        ("GET", f"/inquiries/access/{token}", None, None, EVERYONE, 200),
        ("POST", f"/api/v1/inquiries/access/{token}/status", {"status": "seen"}, None,
         set(), 404),
        ("POST", f"/inquiries/access/{token}/status", None, {"status": "seen"}, set(), 404),
        ("POST", "/api/v1/coordinator/claims/confirm", {"token": "c" * 43}, None, set(), 404),
        ("POST", "/coordinator/claim/" + "c" * 43, None, {}, set(), 404),
        ("GET", f"/api/v1/inquiries/{a}", None, None, {"patient_a"}, 200),
        ("GET", f"/inquiries/{a}", None, None, {"patient_a"}, 200),
        ("GET", f"/api/v1/inquiries/{b}", None, None, {"patient_b"}, 200),
        ("GET", f"/inquiries/{b}", None, None, {"patient_b"}, 200),
        ("GET", "/api/v1/coordinator/inquiries", None, None, COORDS, 200),
        ("GET", "/coordinator", None, None, COORDS, 200),
        ("GET", "/api/v1/coordinator/inquiries.csv", None, None, COORDS, 200),
        ("GET", "/coordinator/inquiries.csv", None, None, COORDS, 200),
        ("GET", f"/api/v1/coordinator/inquiries/{a}", None, None, {"coord_x"}, 200),
        ("GET", f"/coordinator/inquiries/{a}", None, None, {"coord_x"}, 200),
        ("GET", f"/api/v1/coordinator/inquiries/{b}", None, None, {"coord_y"}, 200),
        ("GET", f"/coordinator/inquiries/{b}", None, None, {"coord_y"}, 200),
        ("GET", f"/api/v1/coordinator/trials/{TRIAL_X}/claim", None, None, COORDS, 200),
        ("GET", f"/coordinator/trials/{TRIAL_X}/claim", None, None, COORDS, 200),
        ("GET", "/coordinator/claim/" + "t" * 43, None, None, COORDS, 200),
        ("GET", "/api/v1/admin/audit", None, None, {"admin"}, 200),
        ("GET", "/admin/audit", None, None, {"admin"}, 200),
        ("POST", f"/api/v1/coordinator/inquiries/{a}/status",
         {"status": "contacted", "note": "n"}, None, {"coord_x"}, 200),
        ("POST", f"/coordinator/inquiries/{b}/status", None,
         {"status": "screening", "note": "n"}, {"coord_y"}, 303),
        ("POST", f"/api/v1/coordinator/trials/{TRIAL_X}/claims",
         {"site_key": key_of(world.core, TRIAL_X), "email": X_SITE_A}, None, COORDS, 202),
        ("POST", f"/coordinator/trials/{TRIAL_Y}/claims", None,
         {"pick": f"{key_of(world.core, TRIAL_Y)}|y-lyon@example.org"}, COORDS, 303),
        ("POST", "/api/v1/admin/grants", {"account_email": "cy@example.org",
                                          "nct_id": TRIAL_X, "site_key": "*"},
         None, {"admin"}, 201),
        ("POST", f"/api/v1/inquiries/{a}/withdraw", {"note": None}, None, {"patient_a"}, 200),
        ("POST", f"/inquiries/{b}/withdraw", None, {"note": ""}, {"patient_b"}, 303),
    ]
    failures = []
    for method, path, json, form, allowed, ok in routes:
        for role in sorted(ROLES, key=lambda r: r in allowed):  # refusals first
            got = _call(world, role, method, path, json, form).status_code
            want = ok if role in allowed else 404
            if got != want:
                failures.append(f"{role} {method} {path}: {got}, expected {want}")
    assert failures == []


def test_lists_and_exports_hold_only_what_the_role_may_see(world: World) -> None:
    def ids(role: str, path: str) -> set[str]:
        answer = _call(world, role, "GET", path)
        assert answer.status_code == 200
        return {i["id"] for i in answer.json()["items"]}

    seen = {role: ids(role, "/api/v1/inquiries") for role in ROLES}
    assert seen == {"anonymous": set(), "patient_a": {world.inquiry_a},
                    "patient_b": {world.inquiry_b}, "coord_x": set(), "coord_y": set(),
                    "admin": set()}
    team = {role: ids(role, "/api/v1/coordinator/inquiries") for role in sorted(COORDS)}
    assert team == {"coord_x": {world.inquiry_a}, "coord_y": {world.inquiry_b},
                    "admin": set()}
    for role, own in (("coord_x", world.inquiry_a), ("coord_y", world.inquiry_b)):
        csv = _call(world, role, "GET", "/api/v1/coordinator/inquiries.csv").text
        other = world.inquiry_b if own == world.inquiry_a else world.inquiry_a
        assert own in csv and other not in csv
        page = _call(world, role, "GET", "/coordinator").text
        assert "Patient_A" in page if role == "coord_x" else "Patient_B" in page
        assert ("Patient_B" not in page) if role == "coord_x" else ("Patient_A" not in page)


def test_emailed_link_shows_nothing_until_unlocked_for_everyone(world: World) -> None:
    for role in ROLES:
        answer = _call(world, role, "GET", f"/api/v1/inquiries/access/{world.access_token}")
        assert answer.status_code == 200 and answer.json() == {
            "unlocked": False, "code_sent": False, "inquiry": None,
            "statuses": ["seen", "contacted", "screening", "enrolled", "not_eligible"]}
        page = _call(world, role, "GET", f"/inquiries/access/{world.access_token}")
        assert page.status_code == 200 and "Patient_B" not in page.text
        assert _call(world, role, "GET", "/api/v1/inquiries/access/" + "z" * 43
                     ).status_code == 404


def test_audit_log_records_every_read_through_the_web(world: World) -> None:
    for _ in range(3):
        assert _call(world, "coord_x", "GET",
                     f"/coordinator/inquiries/{world.inquiry_a}").status_code == 200
    _call(world, "coord_x", "GET", "/api/v1/coordinator/inquiries")
    _call(world, "coord_y", "GET", "/coordinator/inquiries.csv")
    _call(world, "coord_y", "GET", f"/api/v1/coordinator/inquiries/{world.inquiry_a}")
    _call(world, "patient_a", "GET", f"/api/v1/inquiries/{world.inquiry_a}")
    log = _call(world, "admin", "GET", "/api/v1/admin/audit").json()
    reads = sorted((e["actor"], e["action"], e["inquiry_id"]) for e in log["items"]
                   if e["action"] in ("read", "list", "export"))
    x = f"account:{_account(world, 'cx@example.org')}"
    y = f"account:{_account(world, 'cy@example.org')}"
    assert reads == sorted([(x, "read", world.inquiry_a)] * 3
                           + [(x, "list", world.inquiry_a), (y, "export", world.inquiry_b)])
    page = _call(world, "admin", "GET", "/admin/audit").text
    assert world.inquiry_a in page


def _account(world: World, email: str) -> int:
    from sqlalchemy import select

    from trialscout.accounts.tables import AccountRow

    with world.core.connect() as conn:
        return int(conn.execute(select(AccountRow.id).where(AccountRow.email == email)
                                ).scalar_one())


def test_patient_sees_status_changes_and_gets_email(world: World) -> None:
    changed = _call(world, "coord_x", "POST",
                    f"/api/v1/coordinator/inquiries/{world.inquiry_a}/status",
                    {"status": "contacted", "note": "We called you"})
    assert changed.status_code == 200
    mine = _call(world, "patient_a", "GET", f"/api/v1/inquiries/{world.inquiry_a}").json()
    assert mine["status"] == "contacted" and mine["history"][-1]["note"] == "We called you"
    assert "Contacted" in _call(world, "patient_a", "GET", f"/inquiries/{world.inquiry_a}").text
    mails = [m for m in outbox(world.core) if m["To"] == "patient_a@example.org"]
    assert str(mails[-1]["Subject"]).endswith(": Contacted")
    assert f"/inquiries/{world.inquiry_a}" in body(mails[-1])


def test_claim_brute_force_over_the_api(world: World) -> None:
    answers = [_call(world, "coord_y", "POST", "/api/v1/coordinator/claims/confirm",
                     {"token": f"{n:0>43}"}).status_code for n in range(7)]
    assert answers == [404] * 5 + [429] * 2
    locked = _call(world, "coord_y", "POST", "/api/v1/coordinator/claims/confirm",
                   {"token": "0" * 43})
    assert int(locked.headers["Retry-After"]) > 0


def test_claim_link_from_the_email_works_for_the_asker_only(world: World) -> None:
    site = key_of(world.core, TRIAL_X)
    sent = _call(world, "coord_y", "POST", f"/api/v1/coordinator/trials/{TRIAL_X}/claims",
                 {"site_key": site, "email": X_SITE_A})
    assert sent.status_code == 202
    link = re.search(r"/coordinator/claim/(\S+)", body(
        next(m for m in outbox(world.core) if m["To"] == X_SITE_A)))
    assert link is not None
    assert _call(world, "coord_x", "POST", f"/coordinator/claim/{link.group(1)}",
                 form={}).status_code == 404
    assert _call(world, "coord_y", "POST", f"/coordinator/claim/{link.group(1)}",
                 form={}).status_code == 303
    assert {i["id"] for i in _call(world, "coord_y", "GET", "/api/v1/coordinator/inquiries"
                                   ).json()["items"]} == {world.inquiry_a, world.inquiry_b}
    assert _call(world, "coord_y", "POST", "/api/v1/coordinator/trials/NCT09994001/claims",
                 {"site_key": site, "email": "not-listed@example.org"}).status_code == 422


def test_workspace_offers_the_claimed_sites_as_filters(world: World) -> None:
    sites = _call(world, "coord_x", "GET", "/api/v1/coordinator/inquiries").json()["sites"]
    assert {s["key"] for s in sites} == {key_of(world.core, TRIAL_X, 0),
                                         key_of(world.core, TRIAL_X, 1)}
    page = _call(world, "coord_x", "GET",
                 f"/coordinator?site_key={key_of(world.core, TRIAL_X, 1)}").text
    assert "Denver Bone Centre" in page and "0 inquiries" in page
