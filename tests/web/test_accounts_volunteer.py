"""The volunteer registry on the web: the form with a condition from the browse list and a
free term, the consent it needs, clear refusals, withdrawal in one click."""

from __future__ import annotations

import json
from pathlib import Path

from tests.factories import study
from tests.web.test_accounts import Site, csrf, sign_in, site  # noqa: F401 - fixture
from trialscout.volunteers.consent import CURRENT_CONSENT


def test_join_by_form_then_withdraw(site: Site, tmp_path: Path) -> None:  # noqa: F811
    studies = tmp_path / "s.jsonl"
    studies.write_text(json.dumps(study("NCT09990901", conditionsModule={
        "conditions": ["Asthma"]})) + "\n")
    site.app.import_paths([studies])
    site.member("vol@example.org")
    with site.browser() as browser:
        anonymous = browser.get("/volunteer")
        assert anonymous.status_code == 200 and "Sign in" in anonymous.text
        assert CURRENT_CONSENT in anonymous.text
        sign_in(browser, "vol@example.org")
        browser.put("/api/v1/profile", json={"age": 37, "sex": "MALE"},
                    headers={"X-CSRF-Token": csrf(browser)})
        page = browser.get("/volunteer")
        assert '<option value="Asthma"' in page.text
        no_consent = browser.post("/volunteer", data={
            "conditions": "Asthma", "place": "Boston", "radius_km": "40",
            "consent_version": CURRENT_CONSENT, "csrf_token": csrf(browser)})
        assert no_consent.status_code == 422 and "consent" in no_consent.text
        joined = browser.post("/volunteer", data={
            "conditions": "Asthma", "terms": "wheeze, night cough", "place": "Boston",
            "radius_km": "40", "consent": "yes", "consent_version": CURRENT_CONSENT,
            "csrf_token": csrf(browser)}, follow_redirects=False)
        assert joined.status_code == 303, joined.text
        mine = browser.get("/api/v1/volunteer").json()
        assert (mine["conditions"], mine["terms"], mine["age"], mine["sex"]) == \
            (["Asthma"], ["night cough", "wheeze"], 37, "MALE")
        assert [c["action"] for c in browser.get("/api/v1/volunteer/consents").json()] == \
            ["given"]
        bad_place = browser.put("/api/v1/volunteer", json={
            "terms": ["x"], "place": "Nowhereville Qqq", "consent_version": CURRENT_CONSENT},
            headers={"X-CSRF-Token": csrf(browser)})
        assert bad_place.status_code == 422
        unlisted = browser.put("/api/v1/volunteer", json={
            "conditions": ["Not listed"], "place": "Boston", "consent_version": CURRENT_CONSENT},
            headers={"X-CSRF-Token": csrf(browser)})
        assert unlisted.status_code == 422 and "free term" in unlisted.json()["detail"]
        assert browser.post("/volunteer/withdraw", data={"csrf_token": csrf(browser)},
                            follow_redirects=False).status_code == 303
        assert browser.get("/api/v1/volunteer").status_code == 404
        assert [c["action"] for c in browser.get("/api/v1/volunteer/consents").json()] == \
            ["given", "withdrawn"]
