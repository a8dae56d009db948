"""Property tests at the alert boundaries: any query text or form value is either read or
refused with a clear error, never a crash; any subject or address is composed or refused."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.alerts.helpers import BOSTON, trial
from trialscout.alerts.matcher import ChangedTrials, compile_search, trial_mask
from trialscout.app import TrialScout, create_app
from trialscout.mail.outbox import MailError, compose, message_id_for, normalize_address
from trialscout.registry.api_v2 import trial_from_api_v2
from trialscout.search.documents import search_doc
from trialscout.search.errors import SearchQueryError
from trialscout.search.models import SearchRequest
from trialscout.web import create_web_app

TRIALS = ChangedTrials([search_doc(trial_from_api_v2(trial(
    "NCT09003001", sites=[BOSTON])).model_dump_json())])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
QUERY = st.one_of(TEXT, st.lists(st.sampled_from(
    ["osteoporosis", "OR", "AND", "NOT", "-", "(", ")", "\"", "deno*", "bone", "*", "||"]),
    max_size=12).map(" ".join))


@settings(deadline=None)  # the first query loads the vocabulary
@given(QUERY)
def test_any_query_is_read_or_refused(q: str) -> None:
    try:
        search = compile_search(SearchRequest(q=q))
    except SearchQueryError:
        return
    assert 0 <= trial_mask(TRIALS, search) <= TRIALS.all


@settings(deadline=None)
@given(TEXT, TEXT)
def test_any_subject_and_address_compose_or_refuse(subject: str, address: str) -> None:
    try:
        to = normalize_address(address)
        data = compose(sender="a@b.org", to=to, subject=subject, text="t", html="<p>h</p>",
                       headers=None, message_id=message_id_for(subject or "k", "a@b.org"))
    except MailError:
        return
    msg = message_from_bytes(data, policy=default)
    assert str(msg["Subject"]) == subject.strip() and msg["To"] == to


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("alerts-fuzz")
    core: TrialScout = create_app(database_url=f"sqlite:///{folder / 'f.db'}",
                                  secret_key="fuzz-secret")
    with TestClient(create_web_app(core), base_url="http://127.0.0.1") as test_client:
        yield test_client
    core.close()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(search=st.one_of(TEXT, st.builds(lambda k, v: f"{k}={v}", st.sampled_from(
    ["q", "status", "phase", "age", "radius", "near", "lat", "lon", "sex", "nope"]), TEXT)),
       delivery=st.sampled_from(["immediate", "daily", "weekly", "none", "hourly", ""]))
def test_the_save_form_answers_303_or_422(client: TestClient, search: str,
                                          delivery: str) -> None:
    token = client.get("/api/v1/session").json()["csrf_token"]
    response = client.post("/alerts", data={"csrf_token": token, "search": search,
                                            "delivery": delivery}, follow_redirects=False)
    assert response.status_code in {303, 422}, (search, delivery, response.text[:200])
