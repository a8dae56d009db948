"""The bundled sample is valid, varied and messy in the ways real records are."""

from __future__ import annotations

from collections import Counter

from trialscout.app import TrialScout
from trialscout.sample import sample_path


def test_sample_imports_cleanly(app: TrialScout) -> None:
    report = app.import_paths([sample_path()])
    assert report.rejected == []
    assert 25 <= report.imported <= 40


def test_sample_covers_what_the_demo_needs(app: TrialScout) -> None:
    app.import_paths([sample_path()])
    from sqlalchemy import select

    from trialscout.store.tables import TrialRow
    from trialscout.store.trials import load_trials

    with app.connect() as conn:
        ids = conn.execute(select(TrialRow.nct_id)).scalars().all()
        trials = list(load_trials(conn, ids).values())
    conditions = Counter(c.lower() for t in trials for c in t.conditions)
    interventions = " ".join(i.name.lower() for t in trials for i in t.interventions)
    assert any("osteoporosis" in c for c in conditions)
    assert interventions.count("denosumab") >= 3
    assert len({c for t in trials for c in t.conditions}) >= 15
    assert all(t.sites and any(s.geo for s in t.sites) for t in trials)
    assert len({s.country for t in trials for s in t.sites}) >= 5
    assert any(t.eligibility.maximum_age_days is None for t in trials)
    assert {t.overall_status for t in trials} >= {"RECRUITING", "NOT_YET_RECRUITING",
                                                  "COMPLETED"}
    texts = [t.eligibility.criteria or "" for t in trials]
    assert any("\\>" in x or "\\<" in x for x in texts)
    assert any("≥" in x for x in texts)
    assert any("•" in x for x in texts)
    assert any(x.lstrip().lower().startswith("exclusion") for x in texts)
