"""Similar trials: canonical features, ranking, explanations, freshness, optional embeddings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import study
from trialscout.app import TrialScout, create_app
from trialscout.sample import sample_path
from trialscout.search.places import haversine_km
from trialscout.similar import embeddings
from trialscout.similar.features import (
    condition_keys,
    features_from_document,
    intervention_keys,
)
from trialscout.similar.index import SimilarIndex
from trialscout.similar.service import SimilarService, build_index, make_encoder


@pytest.fixture(scope="module")
def sample_app() -> Iterator[TrialScout]:
    app = create_app(database_url="sqlite://")
    app.import_paths([sample_path()])
    yield app
    app.close()


def _doc(nct_id: str, **fields: object) -> dict[str, object]:
    return {"nct_id": nct_id, **fields}


def test_brand_and_generic_names_share_a_key() -> None:
    assert {k for k, _, _ in intervention_keys("Prolia 60 mg")} == {"c:denosumab"}
    assert {k for k, _, _ in intervention_keys("Drug: Denosumab")} == {"c:denosumab"}
    assert intervention_keys("Placebo tablet") == []
    assert intervention_keys("Standard of care") == []
    assert condition_keys("Postmenopausal Osteoporosis") == [("c:osteoporosis", "osteoporosis")]
    assert condition_keys("Rare Thing Syndrome")[0][0] == "t:rare thing syndrome"


def test_titles_stand_in_for_missing_conditions_and_interventions() -> None:
    f = features_from_document(_doc("NCT00000001",
                                    brief_title="Alendronate in Men With Osteoporosis"))
    assert "c:osteoporosis" in f.conditions and "c:alendronate" in f.interventions
    assert not f.structured_conditions and not f.structured_interventions


def test_similar_trials_share_conditions_or_drugs_and_say_so(sample_app: TrialScout) -> None:
    results = sample_app.similar.similar("NCT09000001", 5)
    assert results is not None and len(results) == 5
    assert "NCT09000001" not in {r.nct_id for r in results}
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    index = sample_app.similar.index()
    query = index.features[index.pos["NCT09000001"]]
    for r in results:
        other = index.features[index.pos[r.nct_id]]
        shared_drugs = query.interventions.keys() & other.interventions.keys()
        shared_conditions = query.conditions.keys() & other.conditions.keys()
        assert shared_drugs or shared_conditions, r
        if shared_conditions:
            assert "same condition" in r.explanation
        if "c:denosumab" in shared_drugs:
            assert "same drug" in r.explanation and "denosumab" in r.explanation


def test_unknown_trial_and_k(sample_app: TrialScout) -> None:
    assert sample_app.similar.similar("NCT00000000") is None
    assert len(sample_app.similar.similar("NCT09000001", 2) or []) == 2


def test_distance_from_an_origin_is_to_the_nearest_site(sample_app: TrialScout) -> None:
    boston = (42.3601, -71.0589)
    results = sample_app.similar.similar("NCT09000001", 5, origin=boston)
    assert results
    for r in results:
        trial = sample_app.trial(r.nct_id)
        assert trial is not None
        sites = [s.geo for s in trial.sites if s.geo]
        if not sites:
            assert r.distance_km is None
            continue
        nearest = min(float(haversine_km(*boston, g.lat, g.lon)) for g in sites)
        assert r.distance_km == pytest.approx(nearest, abs=0.1)
        assert "km away" in r.explanation


def test_status_is_explained(sample_app: TrialScout) -> None:
    for r in sample_app.similar.similar("NCT09000006", 5) or []:
        if r.status == "RECRUITING":
            assert "recruiting" in r.explanation


def _index(docs: list[dict[str, object]]) -> SimilarIndex:
    return build_index(docs)


def test_population_that_cannot_overlap_lowers_the_score() -> None:
    base = {"conditions": ["Osteoporosis"], "interventions": [{"name": "Denosumab"}]}
    docs = [
        _doc("NCT00000001", brief_title="Denosumab for women", **base,
             eligibility={"sex": "FEMALE", "minimum_age_days": 18250.0}),
        _doc("NCT00000002", brief_title="Denosumab for women", **base,
             eligibility={"sex": "FEMALE", "minimum_age_days": 18250.0}),
        _doc("NCT00000003", brief_title="Denosumab for women", **base,
             eligibility={"sex": "MALE", "minimum_age_days": 18250.0}),
        _doc("NCT00000004", brief_title="Denosumab for women", **base,
             eligibility={"sex": "ALL", "maximum_age_days": 6000.0}),
    ]
    ranked = _index(docs).neighbors("NCT00000001", 3)
    scores = {nct: parts.score for nct, parts in ranked}
    assert scores["NCT00000002"] > scores["NCT00000003"]
    assert scores["NCT00000002"] > scores["NCT00000004"]
    assert dict(ranked)["NCT00000003"].population == 0.0


def test_all_neighbors_agrees_with_single_queries(sample_app: TrialScout) -> None:
    index = sample_app.similar.index()
    top, scores = index.all_neighbors(4, block=7)
    for row, nct_id in enumerate(index.ids):
        single = [other for other, _ in index.neighbors(nct_id, 4)]
        assert [index.ids[j] for j in top[row] if j >= 0] == single
        assert all(np.diff(scores[row][top[row] >= 0]) <= 1e-6)


def test_index_follows_imports_without_a_rebuild(tmp_path: Path) -> None:
    app = create_app(database_url=f"sqlite:///{tmp_path / 's.db'}")
    app.import_paths([sample_path()])
    before = app.similar.similar("NCT09000001", 30) or []
    assert "NCT09990001" not in {r.nct_id for r in before}
    built = app.similar.index()
    new = study("NCT09990001", title="Denosumab Versus Alendronate in Postmenopausal Osteoporosis",
                conditionsModule={"conditions": ["Postmenopausal Osteoporosis"]},
                armsInterventionsModule={"interventions": [{"name": "Denosumab"},
                                                           {"name": "Alendronate"}]})
    path = tmp_path / "new.jsonl"
    path.write_text(json.dumps(new) + "\n")
    other_process = SimilarService(app.engine)
    importer = create_app(database_url=f"sqlite:///{tmp_path / 's.db'}")
    importer.import_paths([path])
    importer.close()
    after = app.similar.similar("NCT09000001", 3) or []
    assert app.similar.index() is built
    assert after[0].nct_id == "NCT09990001"
    assert "same drugs (denosumab, alendronate)" in after[0].explanation
    assert other_process.similar("NCT09990001", 1)
    app.close()


def test_a_fake_encoder_drives_the_dense_text_path() -> None:
    words = ["bone", "heart", "lung"]

    def encode(texts: list[str]) -> np.ndarray:
        rows = np.array([[t.lower().count(w) + 0.01 for w in words] for t in texts],
                        dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    docs = [_doc("NCT00000001", brief_title="bone bone"),
            _doc("NCT00000002", brief_title="heart heart"),
            _doc("NCT00000003", brief_title="bone density")]
    index = build_index(docs, encoder=encode)
    assert index.neighbors("NCT00000001", 1)[0][0] == "NCT00000003"


def test_embeddings_degrade_cleanly_when_the_extra_is_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "available", lambda: False)
    with pytest.raises(embeddings.EmbeddingsUnavailable, match="embeddings"):
        make_encoder("embeddings")
    assert make_encoder("lexical") is None
    with pytest.raises(ValueError):
        make_encoder("magic")
    from trialscout.evaluation.similar_eval import evaluate_similar

    report = evaluate_similar(sample_path(), backends=["lexical", "embeddings"])
    assert "embeddings" in report.skipped
    assert [r.backend for r in report.results] == ["lexical", "lexical"]


def test_evaluation_measures_shares_against_a_random_floor() -> None:
    from trialscout.evaluation.similar_eval import evaluate_similar

    report = evaluate_similar(sample_path(), k=3, backends=["lexical"])
    combined = next(r for r in report.results if r.mode == "combined")
    assert report.studies == 30 and combined.condition_queries == 30
    assert 0 <= report.random_condition_share < combined.condition_share <= 1
    assert combined.condition_hit >= combined.condition_share


_NAMES = st.text(max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries({
    "nct_id": st.just("NCT00000001"),
    "brief_title": st.one_of(st.none(), _NAMES),
    "conditions": st.lists(_NAMES, max_size=4),
    "interventions": st.lists(st.fixed_dictionaries(
        {"name": _NAMES, "other_names": st.lists(_NAMES, max_size=2)}), max_size=4),
    "eligibility": st.fixed_dictionaries({"sex": st.sampled_from(["ALL", "FEMALE", "MALE"])}),
    "sites": st.lists(st.fixed_dictionaries({"geo": st.fixed_dictionaries(
        {"lat": st.floats(-90, 90), "lon": st.floats(-180, 180)})}), max_size=3),
}))
def test_features_and_index_accept_any_document(doc: dict[str, object]) -> None:
    other = {"nct_id": "NCT00000002", "brief_title": "Osteoporosis"}
    index = build_index([doc, other])
    for nct_id in ("NCT00000001", "NCT00000002"):
        for _, parts in index.neighbors(nct_id, 3):
            assert 0 < parts.score <= 2


@pytest.mark.slow
def test_the_bundled_model_embeds_offline() -> None:
    if not embeddings.available():
        pytest.skip("the embeddings extra is not installed")
    vectors = embeddings.encode(["denosumab for osteoporosis",
                                 "a bone-strengthening injection for weak bones",
                                 "a vaccine trial for influenza"])
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
