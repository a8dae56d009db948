"""Parsed criteria are stored packed (zlib, base85 text) and read back exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from trialscout.app import TrialScout
from trialscout.criteria.parser import parse_criteria
from trialscout.criteria.store import PACKED, load_many, load_parsed_criteria, pack, unpack
from trialscout.criteria.tables import TrialCriteriaRow
from trialscout.sample import sample_path


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_unpack_gives_back_exactly_what_was_packed(document: str) -> None:
    assert unpack(pack(document)) == document


def test_stored_rows_are_packed_smaller_and_load_as_parsed(app: TrialScout) -> None:
    app.import_paths([sample_path()])
    with app.connect() as conn:
        rows = conn.execute(select(TrialCriteriaRow.nct_id, TrialCriteriaRow.document)).all()
        assert rows and all(r.document.startswith(PACKED) for r in rows)
        plain = sum(len(unpack(r.document)) for r in rows)
        packed = sum(len(r.document) for r in rows)
        assert packed * 3 < plain, (packed, plain)
        nct_id = rows[0].nct_id
        trial = app.trial(nct_id)
        assert trial is not None
        fresh = parse_criteria(trial.eligibility.criteria)
        assert load_parsed_criteria(conn, nct_id) == fresh
        assert load_many(conn, [nct_id])[nct_id] == fresh


def test_rows_written_before_packing_still_load(app: TrialScout) -> None:
    app.import_paths([sample_path()])
    with app.engine.begin() as conn:
        nct_id, stored = conn.execute(select(TrialCriteriaRow.nct_id,
                                             TrialCriteriaRow.document)).first()  # type: ignore[misc]
        conn.execute(update(TrialCriteriaRow).where(TrialCriteriaRow.nct_id == nct_id)
                     .values(document=unpack(stored)))
    with app.connect() as conn:
        loaded = load_parsed_criteria(conn, nct_id)
    assert loaded is not None and loaded.model_dump_json() == \
        type(loaded).model_validate_json(unpack(stored)).model_dump_json()
