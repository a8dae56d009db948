"""Trial documents are stored compressed and read back as the same JSON text, raw records
are compressed against their document; rows written before either (plain JSON, a plain
zlib raw record) still read."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from trialscout.app import TrialScout
from trialscout.sample import sample_path
from trialscout.store import trials
from trialscout.store.packing import pack_document, unpack_document
from trialscout.store.tables import TrialRow


@settings(max_examples=200, deadline=None)
@given(st.text(), st.booleans())
def test_unpack_gives_back_exactly_what_was_packed(document: str, dense: bool) -> None:
    packed = pack_document(document, dense=dense)
    assert unpack_document(packed) == document
    assert unpack_document(document) == document
    if not document.startswith("x"):  # JSON and the older text forms never do
        assert unpack_document(document.encode("utf-8")) == document


def test_documents_are_stored_packed_and_read_back(backend_app: TrialScout) -> None:
    backend_app.import_paths([sample_path()])
    with backend_app.connect() as conn:
        stored: dict[str, bytes] = {
            row[0]: row[1]
            for row in conn.execute(text("SELECT nct_id, document FROM trials"))}
        read = dict(conn.execute(select(TrialRow.nct_id, TrialRow.document)).all())
    assert stored and set(stored) == set(read)
    for nct_id, document in read.items():
        raw = bytes(stored[nct_id])
        assert raw[:1] == b"x" and len(raw) < len(document.encode("utf-8"))
        trial = backend_app.trial(nct_id)
        assert trial is not None and trial.nct_id == nct_id
        assert document.startswith("{") and f'"{nct_id}"' in document


def test_plain_json_rows_written_before_packing_still_read(app: TrialScout) -> None:
    app.import_paths([sample_path()])
    with app.connect() as conn:
        nct_id, document = conn.execute(select(TrialRow.nct_id, TrialRow.document)).first()  # type: ignore[misc]
    before = app.trial(nct_id)
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE trials SET document = :d WHERE nct_id = :n"),
                     {"d": document, "n": nct_id})
        assert isinstance(conn.execute(text("SELECT document FROM trials WHERE nct_id = :n"),
                                       {"n": nct_id}).scalar(), str)
    with app.connect() as conn:
        assert conn.execute(select(TrialRow.document)
                            .where(TrialRow.nct_id == nct_id)).scalar() == document
    assert app.trial(nct_id) == before


def test_raw_records_are_compressed_against_their_document(backend_app: TrialScout) -> None:
    backend_app.import_paths([sample_path()])
    with backend_app.connect() as conn:
        rows = conn.execute(select(TrialRow.nct_id, TrialRow.raw, TrialRow.document)).all()
        for nct_id, raw, document in rows:
            raw = bytes(raw)
            assert raw[:1] == trials.RAW_AGAINST_DOCUMENT
            source = trials.decompress_raw(raw, document)
            assert len(raw) * 2 < len(trials.compress_raw(source))
            loaded = trials.load_raw(conn, nct_id)
            assert loaded == orjson.loads(source)
            assert loaded["protocolSection"]["identificationModule"]["nctId"] == nct_id


def test_raw_needs_its_document_and_plain_raw_rows_still_read(app: TrialScout) -> None:
    app.import_paths([sample_path()])
    with app.connect() as conn:
        nct_id, raw, document = conn.execute(
            select(TrialRow.nct_id, TrialRow.raw, TrialRow.document)).first()  # type: ignore[misc]
    source = trials.decompress_raw(raw, document)
    with pytest.raises(ValueError):
        trials.decompress_raw(raw, None)
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE trials SET raw = :r WHERE nct_id = :n"),
                     {"r": trials.compress_raw(source), "n": nct_id})
    with app.connect() as conn:
        assert trials.load_raw(conn, nct_id) == orjson.loads(source)
