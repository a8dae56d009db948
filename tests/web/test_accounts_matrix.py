"""Authorization matrix: every account and volunteer route x (anonymous, member A, member B,
coordinator, admin). A person reaches only their own account and registration; anyone
else, and anonymous visitors, get 404; the admin counts are for admins only."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.web.test_accounts import Site, csrf, sign_in, site  # noqa: F401 - fixture
from trialscout.volunteers.consent import CURRENT_CONSENT

ROLES = ("anonymous", "member_a", "member_b", "coordinator", "admin")
EMAILS = {"member_a": "a@example.org", "member_b": "b@example.org",
          "coordinator": "c@example.org", "admin": "d@example.org"}
JOIN = {"conditions": [], "terms": ["asthma"], "place": "Boston", "radius_km": 50,
        "healthy": True, "consent_version": CURRENT_CONSENT}

Call = Callable[[TestClient], Response]


def _h(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": csrf(client)}


ROUTES: dict[str, Call] = {
    "GET /api/v1/account": lambda c: c.get("/api/v1/account"),
    "GET /account": lambda c: c.get("/account"),
    "GET /api/v1/account/export": lambda c: c.get("/api/v1/account/export"),
    "GET /account/export": lambda c: c.get("/account/export"),
    "GET /api/v1/volunteer": lambda c: c.get("/api/v1/volunteer"),
    "GET /api/v1/volunteer/consents": lambda c: c.get("/api/v1/volunteer/consents"),
    "PUT /api/v1/volunteer": lambda c: c.put("/api/v1/volunteer", json=JOIN, headers=_h(c)),
    "DELETE /api/v1/volunteer": lambda c: c.delete("/api/v1/volunteer", headers=_h(c)),
    "POST /volunteer/withdraw": lambda c: c.post(
        "/volunteer/withdraw", data={"csrf_token": csrf(c)}, follow_redirects=False),
    "GET /api/v1/admin/volunteers": lambda c: c.get("/api/v1/admin/volunteers"),
    "GET /admin/volunteers": lambda c: c.get("/admin/volunteers"),
    "POST /api/v1/account/signout-everywhere": lambda c: c.post(
        "/api/v1/account/signout-everywhere", headers=_h(c)),
    "DELETE /api/v1/account": lambda c: c.request(
        "DELETE", "/api/v1/account", json={"confirm": True}, headers=_h(c)),
}
OWN_OK = {"GET /api/v1/account": 200, "GET /account": 200, "GET /api/v1/account/export": 200,
          "GET /account/export": 200, "GET /api/v1/volunteer": 200,
          "GET /api/v1/volunteer/consents": 200, "PUT /api/v1/volunteer": 200,
          "DELETE /api/v1/volunteer": 204, "POST /volunteer/withdraw": 303,
          "POST /api/v1/account/signout-everywhere": 204, "DELETE /api/v1/account": 204}
ADMIN_ONLY = {"GET /api/v1/admin/volunteers", "GET /admin/volunteers"}


def expected(route: str, role: str) -> int:
    if route in ADMIN_ONLY:
        return 200 if role == "admin" else 404
    return 404 if role == "anonymous" else OWN_OK[route]


@pytest.fixture
def browsers(site: Site) -> Iterator[dict[str, TestClient]]:  # noqa: F811 - the fixture
    made: dict[str, TestClient] = {}
    for n, role in enumerate(ROLES):
        client = TestClient(site.web, base_url="http://127.0.0.1",  # type: ignore[arg-type]
                            client=(f"10.2.0.{n + 1}", 50000))
        client.__enter__()
        if role != "anonymous":
            site.member(EMAILS[role], role=role.split("_")[0])
            sign_in(client, EMAILS[role])
            assert client.put("/api/v1/volunteer", json=JOIN,
                              headers=_h(client)).status_code == 200
        made[role] = client
    yield made
    for client in made.values():
        client.__exit__(None, None, None)


@pytest.mark.parametrize("route", list(ROUTES))
def test_route_by_role(route: str, browsers: dict[str, TestClient]) -> None:
    for role in ROLES:
        client = browsers[role]
        response = ROUTES[route](client)
        assert response.status_code == expected(route, role), (route, role, response.text)
        if role == "anonymous" or response.status_code != 200:
            continue
        body = response.text
        for other, email in EMAILS.items():  # nobody's data but one's own
            if other != role and route not in ADMIN_ONLY:
                assert email not in body, (route, role, other)
        if "export" in route or route.endswith("/account"):
            assert EMAILS[role] in body
        if route in ADMIN_ONLY:
            assert not any(email in body for email in EMAILS.values())
