"""The Atom feed validates; the matcher reads queries and filters as search does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest

from tests.alerts.helpers import BOSTON, store, trial
from trialscout.alerts.matcher import ChangedTrials, compile_search, origin_of, trial_mask
from trialscout.alerts.models import SavedSearchCreate
from trialscout.alerts.service import AlertService
from trialscout.app import TrialScout
from trialscout.registry.api_v2 import trial_from_api_v2
from trialscout.search.documents import search_doc
from trialscout.search.models import SearchRequest

ATOM = "{http://www.w3.org/2005/Atom}"


def test_feed_is_valid_atom_with_one_entry_per_alert(file_app: TrialScout,
                                                     tmp_path: Path) -> None:
    service = AlertService(file_app)
    saved = service.save("session:" + "c" * 64, SavedSearchCreate(
        request=SearchRequest(q="osteoporosis"), delivery="none"))
    store(file_app, tmp_path, [trial("NCT09000801", title="Bone <strong> & density"),
                               trial("NCT09000802")])
    service.run(deliver=False)
    token = saved.feed_path.rsplit("/", 1)[1]
    assert len(token) >= 40
    body = service.feed(token)
    assert body is not None
    root = ET.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for required in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{required}") is not None
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    titles = {e.title for e in parsed.entries}
    assert "New trial: Bone <strong> & density" in titles
    links = {e.link for e in parsed.entries}
    assert links == {"http://127.0.0.1:8000/trials/NCT09000801",
                     "http://127.0.0.1:8000/trials/NCT09000802"}
    assert service.feed("x" * 43) is None


def _docs(*records: dict) -> ChangedTrials:
    return ChangedTrials(search_doc(trial_from_api_v2(r).model_dump_json()) for r in records)


@pytest.mark.parametrize(("request_fields", "expected"), [
    ({"q": "osteoporosis"}, {"NCT1"}),
    ({"q": "denosumab OR salbutamol"}, {"NCT1", "NCT2"}),
    ({"q": "inhaled -steroid"}, set()),
    ({"q": "asthm*"}, {"NCT2"}),
    ({"q": "\"inhaled steroid\""}, {"NCT2"}),
    ({"status": ["RECRUITING"]}, {"NCT1"}),
    ({"condition": "asthma"}, {"NCT2"}),
    ({"sex": "MALE"}, {"NCT2"}),
    ({"age": 30}, {"NCT2"}),
    ({"lat": 42.3, "lon": -71.0, "radius": 50}, {"NCT1"}),
    ({"lat": 42.3, "lon": -71.0, "radius": 5}, set()),
    ({"country": "United States"}, {"NCT1"}),
])
def test_matcher_reads_queries_and_filters(request_fields: dict, expected: set[str]) -> None:
    bones = trial("NCT1", sites=[BOSTON])
    lungs = trial("NCT2", title="Inhaled steroid with salbutamol for asthma",
                  status="NOT_YET_RECRUITING", conditions=["Asthma"])
    lungs["protocolSection"]["eligibilityModule"].update(sex="ALL", minimumAge="18 Years")
    for record, nct in ((bones, "NCT09000001"), (lungs, "NCT09000002")):
        record["protocolSection"]["identificationModule"]["nctId"] = nct
    trials = _docs(bones, lungs)
    request = SearchRequest.model_validate(request_fields)
    mask = trial_mask(trials, compile_search(request, origin_of(request)))
    found = {"NCT" + trials.docs[i].nct_id[-1] for i in trials.bits(mask)}
    assert found == expected
