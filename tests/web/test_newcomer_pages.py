"""The pages a newcomer sees first: the demo's fictional trials are marked as such, a typo
gets a "did you mean", filters without options are not shown, /docs leads back."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.factories import study
from trialscout.app import create_app
from trialscout.web import create_web_app
from trialscout.web.rendering import fictional_ids

STATIC = Path(__file__).resolve().parents[2] / "trialscout" / "web" / "static"


def test_every_page_says_the_demo_data_is_fictional(client: TestClient) -> None:
    for path in ("/", "/search?q=osteoporosis", "/conditions", "/guides", "/profile"):
        assert "Demonstration data" in client.get(path).text, path


def test_a_store_without_the_sample_shows_no_banner(tmp_path: Path) -> None:
    app = create_app(database_url=f"sqlite:///{tmp_path / 'real.db'}")
    try:
        with TestClient(create_web_app(app), base_url="http://127.0.0.1") as fresh:
            assert "Demonstration data" not in fresh.get("/").text
    finally:
        app.close()


def test_fictional_trials_are_not_linked_to_the_registry(client: TestClient) -> None:
    nct_id = sorted(fictional_ids())[0]
    html = client.get(f"/trials/{nct_id}").text
    assert f"https://clinicaltrials.gov/study/{nct_id}" not in html
    assert "fictional demonstration trial" in html
    assert client.get(f"/api/v1/trials/{nct_id}").json()["registry_url"] is None


def test_real_trials_link_to_the_registry_page_and_api(tmp_path: Path) -> None:
    nct_id = "NCT09990777"
    source = tmp_path / "real.jsonl"
    source.write_text(json.dumps(study(nct_id)) + "\n")
    app = create_app(database_url=f"sqlite:///{tmp_path / 'real.db'}")
    try:
        app.import_paths([source])
        with TestClient(create_web_app(app), base_url="http://127.0.0.1") as fresh:
            url = f"https://clinicaltrials.gov/study/{nct_id}"
            assert fresh.get(f"/api/v1/trials/{nct_id}").json()["registry_url"] == url
            assert f'href="{url}"' in fresh.get(f"/trials/{nct_id}").text
    finally:
        app.close()


def test_a_typo_gets_a_did_you_mean_link(client: TestClient) -> None:
    html = client.get("/search", params={"q": "osteoporsis"}).text
    assert "Did you mean" in html and "q=osteoporosis" in html
    api = client.get("/api/v1/search", params={"q": "osteoporsis"}).json()
    assert api["total"] == 0 and api["suggestion"] == "osteoporosis"


def test_no_empty_filter_boxes_without_results(client: TestClient) -> None:
    html = client.get("/search", params={"q": "qwertyuiopasdf"}).text
    assert "No trials match" in html
    for box in html.split('<fieldset class="facet">')[1:]:
        assert 'type="checkbox"' in box.split("</fieldset>", 1)[0], "an empty filter box"


def test_the_docs_page_leads_back_to_the_site(client: TestClient) -> None:
    html = client.get("/docs").text
    assert 'href="/"' in html


def test_sort_and_filters_apply_on_change_and_keep_their_buttons(client: TestClient) -> None:
    html = client.get("/search", params={"q": "osteoporosis"}).text
    assert 'class="button apply-button"' in html, "the no-JavaScript form keeps its button"
    script = (STATIC / "app.js").read_text()
    assert "applyOnChange" in script and "form.submit()" in script
    assert ".auto-apply .apply-button" in (STATIC / "site.css").read_text()
