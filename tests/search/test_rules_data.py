"""The search rules shipped as data are well formed."""

from __future__ import annotations

from importlib import resources

import yaml

from trialscout.search.documents import search_doc
from trialscout.search.places import place_names
from trialscout.search.rules import search_rules


def test_ranking_rules_cover_every_indexed_field() -> None:
    rules = search_rules()
    assert rules.k1 > 0 and 0 <= rules.b <= 1
    doc = search_doc({"nct_id": "NCT00000001", "brief_title": "t", "official_title": "o",
                      "acronym": "A", "conditions": ["c"], "keywords": ["k"],
                      "condition_mesh_terms": ["m"], "intervention_mesh_terms": ["i"],
                      "interventions": [{"name": "n", "other_names": ["o"]}],
                      "brief_summary": "s", "detailed_description": "d",
                      "eligibility": {"criteria": "e"},
                      "organizations": [{"name": "x", "role": "LEAD_SPONSOR"}]})
    assert {name for name, _ in doc.chunks} == set(rules.field_weights)
    assert all(isinstance(w, int) and w > 0 for w in rules.field_weights.values())


def test_stopwords_are_folded_single_words() -> None:
    stop = search_rules().stopwords
    assert "the" in stop and "cancer" not in stop
    assert all(w == w.casefold() and w.isalpha() for w in stop)


def test_every_country_alias_names_a_known_country() -> None:
    data = yaml.safe_load(resources.files("trialscout.search").joinpath(
        "rules", "places.yaml").read_text("utf-8"))
    names = place_names()
    for alias, code in data["country_aliases"].items():
        assert code in names.country_names, alias
        assert names.country_code(alias) == code
