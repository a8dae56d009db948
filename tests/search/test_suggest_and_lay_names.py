"""Misspelled words get a "did you mean" from the index's own words, and everyday names
("brittle bones") find the trials of the concept they name."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from trialscout.app import TrialScout
from trialscout.cli import _load_commands, cli
from trialscout.sample import sample_path
from trialscout.search.models import SearchRequest
from trialscout.search.rules import lay_names
from trialscout.search.synonyms import everyday_names
from trialscout.vocabulary.synonyms import vocabulary


@pytest.fixture
def sample(app: TrialScout) -> TrialScout:
    app.import_paths([sample_path()])
    return app


def _ids(app: TrialScout, q: str) -> set[str]:
    return {h.nct_id for h in app.search(SearchRequest(q=q, page_size=100)).hits}


@pytest.mark.parametrize("typo,fixed", [("osteoporsis", "osteoporosis"),
                                        ("denosumb", "denosumab")])
def test_a_misspelled_word_gets_a_suggestion_that_finds_trials(sample: TrialScout, typo: str,
                                                               fixed: str) -> None:
    response = sample.search(SearchRequest(q=typo))
    assert response.total == 0
    assert response.suggestion == fixed
    assert sample.search(SearchRequest(q=response.suggestion)).total > 0


def test_no_suggestion_for_nonsense_or_when_results_exist(sample: TrialScout) -> None:
    assert sample.search(SearchRequest(q="qwertyuiop")).suggestion is None
    found = sample.search(SearchRequest(q="osteoporosis"))
    assert found.total > 0 and found.suggestion is None


def test_only_unknown_words_are_replaced(sample: TrialScout) -> None:
    response = sample.search(SearchRequest(q="denosumb fracture"))
    assert response.suggestion == "denosumab fracture"


@pytest.mark.parametrize("lay", ["brittle bones", "thin bones"])
def test_everyday_names_find_the_concepts_trials(sample: TrialScout, lay: str) -> None:
    assert _ids(sample, lay) == _ids(sample, "osteoporosis") != set()


def test_every_lay_name_points_at_a_known_concept() -> None:
    vocab = vocabulary()
    assert lay_names()
    for form, concept in everyday_names():
        assert form.strip()
        assert vocab.concept(concept) is not None, (form, concept)




def test_cli_search_suggestion(file_app: TrialScout) -> None:
    _load_commands()
    file_app.import_paths([sample_path()])
    url = file_app.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["--database", url, "search", "osteoporsis"])
    assert result.exit_code == 0, result.output
    assert "did you mean: osteoporosis" in result.output
    one = CliRunner().invoke(cli, ["--database", url, "search", "NCT09000001"])
    assert "1 trials" not in one.output
