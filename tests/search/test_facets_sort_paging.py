"""Facets agree with the filters; sorting is total; pages neither repeat nor skip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.search.helpers import ids
from trialscout.app import TrialScout
from trialscout.search.models import SearchRequest

FACET_FILTER = {"status": "status", "phase": "phase", "study_type": "study_type",
                "countries": "country"}


def test_facet_counts_match_the_filtered_totals(sample_app: TrialScout) -> None:
    base = {"q": "osteoporosis OR diabetes", "age": 60}
    response = sample_app.search(SearchRequest(**base))
    assert set(response.facets) == {"status", "phase", "study_type", "conditions",
                                    "interventions", "countries"}
    assert sum(f.count for f in response.facets["status"]) == response.total
    for facet, field in FACET_FILTER.items():
        for item in response.facets[facet]:
            value = [item.value] if field != "country" else item.value
            narrowed = sample_app.search(SearchRequest(**base, **{field: value},
                                                       facets=False))
            assert narrowed.total == item.count, (facet, item)


def test_country_facet_follows_site_filters(sample_app: TrialScout) -> None:
    response = sample_app.search(SearchRequest(site_status=["NOT_YET_RECRUITING"]))
    for item in response.facets["countries"]:
        narrowed = sample_app.search(SearchRequest(site_status=["NOT_YET_RECRUITING"],
                                                   country=item.value, facets=False))
        assert narrowed.total == item.count


def test_condition_facet_counts_trials_listing_the_value(sample_app: TrialScout) -> None:
    response = sample_app.search(SearchRequest(q="fracture"))
    top = response.facets["conditions"][0]
    listed = [h for h in sample_app.search(SearchRequest(q="fracture", page_size=100)).hits
              if top.value in h.conditions]
    assert len(listed) == top.count


def test_facets_can_be_skipped(sample_app: TrialScout) -> None:
    assert sample_app.search(SearchRequest(facets=False)).facets == {}


def test_sort_orders(sample_app: TrialScout) -> None:
    hits = sample_app.search(SearchRequest(sort="last_update", page_size=100)).hits
    dates = [h.last_update or "" for h in hits]
    known = [d for d in dates if d]
    assert known == sorted(known, reverse=True)
    assert dates[:len(known)] == known
    starts = [h.start_date for h in sample_app.search(
        SearchRequest(sort="start_date", page_size=100)).hits if h.start_date]
    assert starts == sorted(starts, reverse=True)


def test_ties_break_by_nct_id(world: TrialScout) -> None:
    order = ids(world, q="cancer OR osteoporosis", sort="last_update")
    assert order.index("NCT00000106") < order.index("NCT00000107")


def _all_pages(app: TrialScout, size: int, **request: object) -> list[str]:
    out: list[str] = []
    page = 1
    while True:
        response = app.search(SearchRequest(page=page, page_size=size, facets=False,
                                            **request))  # type: ignore[arg-type]
        out += [h.nct_id for h in response.hits]
        if page * size >= response.total:
            assert len(out) == response.total
            return out
        page += 1


@settings(max_examples=25, deadline=None)
@given(size=st.integers(1, 12),
       sort=st.sampled_from(["relevance", "last_update", "start_date", "distance"]),
       q=st.sampled_from(["", "osteoporosis", "breast cancer OR asthma", "trial", "denosumab"]))
def test_pages_have_no_duplicates_or_gaps(sample_app: TrialScout, size: int, sort: str,
                                          q: str) -> None:
    extra = {"near": "Boston"} if sort == "distance" else {}
    paged = _all_pages(sample_app, size, q=q, sort=sort, **extra)
    whole = _all_pages(sample_app, 100, q=q, sort=sort, **extra)
    assert paged == whole
    assert len(set(paged)) == len(paged)


def test_a_page_past_the_end_is_empty(sample_app: TrialScout) -> None:
    response = sample_app.search(SearchRequest(page=50, page_size=10))
    assert response.hits == [] and response.total == sample_app.trial_count()
