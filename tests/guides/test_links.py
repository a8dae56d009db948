"""Guide pages list their trials through the synonym vocabulary; trial pages link guides."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import study
from trialscout.app import TrialScout, create_app
from trialscout.guides.links import guide_concepts
from trialscout.sample import sample_path


@pytest.fixture(scope="module")
def linked_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialScout]:
    extra = [
        study("NCT09990001", title="Prolia Injections After Hip Surgery",
              conditionsModule={"conditions": ["Hip Fractures"]},
              armsInterventionsModule={"interventions": [{"name": "Prolia 60 mg"}]}),
        study("NCT09990002", title="Weekly Fosamax in Older Men",
              conditionsModule={"conditions": ["Bone Loss"]}),
        study("NCT09990003", title="Denosumabx Is Not a Word Here",
              conditionsModule={"conditions": ["Anemia"]},
              armsInterventionsModule={"interventions": [{"name": "Denosumabx"}]}),
        study("NCT09990004", title="Exercise in T2DM",
              conditionsModule={"conditions": ["T2DM"]}),
    ]
    path: Path = tmp_path_factory.mktemp("guides") / "extra.jsonl"
    path.write_text("\n".join(json.dumps(s) for s in extra) + "\n")
    app = create_app(database_url="sqlite://")
    app.import_paths([sample_path(), path])
    yield app
    app.close()


def _ids(app: TrialScout, slug: str, **kwargs: object) -> set[str]:
    found = app.guides.trials(slug, limit=1000, **kwargs)  # type: ignore[arg-type]
    assert found is not None
    return {t.nct_id for t in found.trials}


def test_brand_names_link_to_the_generic_guide(linked_app: TrialScout) -> None:
    denosumab = _ids(linked_app, "denosumab")
    assert {"NCT09000001", "NCT09000012", "NCT09000014", "NCT09990001"} <= denosumab
    assert "NCT09990003" not in denosumab
    found = linked_app.guides.trials("denosumab", limit=1000)
    assert found is not None
    only_prolia = next(t for t in found.trials if t.nct_id == "NCT09000014")
    assert any("Prolia" in m for m in only_prolia.matched)


def test_titles_link_trials_that_list_no_intervention(linked_app: TrialScout) -> None:
    assert "NCT09990002" in _ids(linked_app, "alendronate")
    found = linked_app.guides.trials("alendronate", limit=1000)
    assert found is not None
    match = next(t for t in found.trials if t.nct_id == "NCT09990002")
    assert match.matched == ["title: Weekly Fosamax in Older Men"]


def test_condition_guides_include_narrower_conditions(linked_app: TrialScout) -> None:
    osteoporosis = _ids(linked_app, "osteoporosis")
    assert "NCT09000008" in osteoporosis
    assert "glucocorticoid_induced_osteoporosis" in guide_concepts(
        linked_app.guides.get("osteoporosis"))  # type: ignore[arg-type]
    assert "NCT09000006" in _ids(linked_app, "vertebral-compression-fracture")
    assert {"NCT09000015", "NCT09990004"} <= _ids(linked_app, "type-2-diabetes")
    assert "NCT09000028" not in _ids(linked_app, "type-2-diabetes")


def test_open_trials_come_first_and_can_be_filtered(linked_app: TrialScout) -> None:
    found = linked_app.guides.trials("denosumab", limit=1000)
    assert found is not None
    open_flags = [t.status in {"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION"}
                  for t in found.trials]
    assert open_flags == sorted(open_flags, reverse=True)
    only_open = linked_app.guides.trials("denosumab", limit=1000, open_only=True)
    assert only_open is not None and 0 < only_open.total < found.total
    page = linked_app.guides.trials("denosumab", limit=2, offset=2)
    assert page is not None and page.total == found.total
    assert [t.nct_id for t in page.trials] == [t.nct_id for t in found.trials[2:4]]
    assert linked_app.guides.trials("no-such-guide") is None


def test_trial_pages_link_their_guides(linked_app: TrialScout) -> None:
    trial = linked_app.trial("NCT09000001")
    assert trial is not None
    slugs = {g.slug for g in linked_app.guides.for_trial(trial)}
    assert {"denosumab", "alendronate", "osteoporosis"} <= slugs
    assert "type-2-diabetes" not in slugs
