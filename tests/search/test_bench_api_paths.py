"""bench_web's API paths ask the server exactly the requests of the query mix."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bench.bench_web import api_path
from trialscout.search.models import SearchRequest
from trialscout.web.params import SearchQuery


def test_an_api_path_reads_back_as_the_same_request() -> None:
    requests = [SearchRequest(q='"breast cancer" -male', status=["RECRUITING"], age=62,
                              sex="FEMALE", phase=["PHASE2", "PHASE3"], near="Boston, MA",
                              radius=200, sort="distance"),
                SearchRequest(q="diab*"), SearchRequest(q="", study_type=["INTERVENTIONAL"]),
                SearchRequest(q="a OR b", country="France", facets=False, page=3)]
    for request in requests:
        url = urlsplit(api_path(request))
        assert url.path == "/api/v1/search"
        params = {k: v if k in ("status", "phase", "study_type", "site_status") else v[0]
                  for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        assert SearchQuery.model_validate(params).to_request() == request
