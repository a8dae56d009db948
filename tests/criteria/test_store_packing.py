"""Parsed criteria are stored packed (zlib, binary) and read back exactly; rows written
before (plain JSON, or the older base85 ``z1:`` text) still load."""

from __future__ import annotations

import base64
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

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
        stored = conn.execute(text("SELECT nct_id, document FROM trial_criteria")).all()
        assert stored and all(isinstance(r.document, bytes) for r in stored)
        rows = conn.execute(select(TrialCriteriaRow.nct_id, TrialCriteriaRow.document)).all()
        assert all(r.document.startswith("{") for r in rows)
        plain = sum(len(r.document) for r in rows)
        packed = sum(len(r.document) for r in stored)
        assert packed * 3 < plain, (packed, plain)
        nct_id = rows[0].nct_id
        trial = app.trial(nct_id)
        assert trial is not None
        fresh = parse_criteria(trial.eligibility.criteria)
        assert load_parsed_criteria(conn, nct_id) == fresh
        assert load_many(conn, [nct_id])[nct_id] == fresh


def _older_forms(document: str) -> list[str]:
    """The JSON as rows written before binary packing hold it: plain, and base85 text."""
    older = PACKED + base64.b85encode(zlib.compress(document.encode("utf-8"), 6)).decode()
    return [document, older]


def test_rows_written_before_packing_still_load(app: TrialScout) -> None:
    app.import_paths([sample_path()])
    with app.connect() as conn:
        nct_id, document = conn.execute(select(TrialCriteriaRow.nct_id,
                                               TrialCriteriaRow.document)).first()  # type: ignore[misc]
        expected = load_parsed_criteria(conn, nct_id)
    assert expected is not None
    for older in _older_forms(document):
        with app.engine.begin() as conn:
            conn.execute(text("UPDATE trial_criteria SET document = :d WHERE nct_id = :n"),
                         {"d": older, "n": nct_id})
        with app.connect() as conn:
            assert load_parsed_criteria(conn, nct_id) == expected
            assert load_many(conn, [nct_id])[nct_id] == expected
        assert unpack(older) == document
