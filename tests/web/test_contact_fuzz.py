"""Whatever JSON reaches the inquiry API, the answer is 201 or a clear 4xx, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contact.studies import TRIAL_X, write_studies
from trialscout.app import create_app
from trialscout.contact.inquiries import Limits
from trialscout.web import create_web_app

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=50),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, str]]:
    folder = tmp_path_factory.mktemp("contact-fuzz")
    core = create_app(database_url=f"sqlite:///{folder / 'f.db'}", secret_key="fuzz")
    core.import_paths([write_studies(folder)])
    core.contact.limits = Limits(per_owner=10**6, per_address=10**6, daily_total=10**6)
    trial = core.trial(TRIAL_X)
    assert trial is not None
    from trialscout.contact.sites import site_key

    with TestClient(create_web_app(core), base_url="http://127.0.0.1") as test_client:
        csrf = str(test_client.get("/api/v1/session").json()["csrf_token"])
        yield test_client, csrf, site_key(trial.sites[0])
    core.close()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contact=JSON | st.fixed_dictionaries({"name": st.text(max_size=130),
                                             "email": st.text(max_size=60) | st.none(),
                                             "phone": st.text(max_size=45) | st.none()}),
       message=JSON, agree=JSON, extra=st.dictionaries(st.text(max_size=8), JSON, max_size=2))
def test_inquiry_api_never_fails_on_bad_input(client: tuple[TestClient, str, str],
                                              contact: Any, message: Any, agree: Any,
                                              extra: dict[str, Any]) -> None:
    test_client, csrf, key = client
    body = {"site_key": key, "contact": contact, "message": message, "agree": agree, **extra}
    answer = test_client.post(f"/api/v1/trials/{TRIAL_X}/inquiries", json=body,
                              headers={"X-CSRF-Token": csrf})
    assert answer.status_code in (201, 422), answer.text
    if answer.status_code == 422:
        assert answer.headers["content-type"].startswith("application/problem+json")
