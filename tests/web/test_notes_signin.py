"""Signing in moves a visitor's notes, share links and shortlist into their account: the
account then reaches them from any browser, and the old anonymous cookie reaches nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.test_accounts import Site, csrf, sign_in, site  # noqa: F401 - the fixture
from trialscout.sample import sample_path

TRIAL = "NCT09000001"


def test_sign_in_moves_the_workspace_into_the_account(site: Site) -> None:  # noqa: F811
    site.app.import_paths([sample_path()])
    site.member("reader@example.org")
    with site.browser("10.7.0.1") as first, site.browser("10.7.0.2") as second:
        token = csrf(first)
        note = first.post(f"/api/v1/trials/{TRIAL}/notes", headers={"X-CSRF-Token": token},
                          json={"body": "written before signing in"})
        assert note.status_code == 201, note.text
        assert first.put(f"/api/v1/shortlist/{TRIAL}",
                         headers={"X-CSRF-Token": token}).status_code == 200
        share = first.post(f"/api/v1/trials/{TRIAL}/shares", headers={"X-CSRF-Token": token},
                           json={"passcode": "passcode-1"})
        assert share.status_code == 201
        anonymous_cookie = first.cookies.get("ts_session")

        sign_in(first, "reader@example.org")
        assert first.cookies.get("ts_session") != anonymous_cookie
        assert first.get(f"/api/v1/notes/{note.json()['id']}").json()["body"] == \
            "written before signing in"

        sign_in(second, "reader@example.org")
        assert [n["body"] for n in second.get("/api/v1/notes").json()["items"]] == [
            "written before signing in"]
        assert [i["nct_id"] for i in second.get("/api/v1/shortlist").json()["items"]] == [TRIAL]
        assert [s["id"] for s in second.get("/api/v1/shares").json()["items"]] == [
            share.json()["id"]]

    with TestClient(site.web, base_url="http://127.0.0.1",  # type: ignore[arg-type]
                    cookies={"ts_session": anonymous_cookie}) as stale:
        assert stale.get(f"/api/v1/notes/{note.json()['id']}").status_code == 404
        assert stale.get("/api/v1/shortlist").json()["items"] == []
