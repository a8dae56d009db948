"""Reading sources in bounded memory, and saying what was not read (files, lines, members)."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import study
from trialscout.registry import sources
from trialscout.registry.errors import RecordError
from trialscout.registry.importer import parse_item
from trialscout.registry.sources import iter_path


def _line(nct_id: str) -> bytes:
    return (json.dumps(study(nct_id)) + "\n").encode()


def _outcomes(path: Path) -> list[str]:
    out = []
    for item in iter_path(path):
        try:
            out.append(parse_item(item).nct_id)
        except RecordError as exc:
            out.append(f"error: {exc.reason}")
    return out


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sources, "MAX_RECORD_BYTES", 4096)
    return 4096


def test_an_oversized_line_is_rejected_and_the_next_record_kept(tmp_path: Path,
                                                                small_limit: int) -> None:
    bomb = b'{"protocolSection": {"x": "' + b"a" * (small_limit * 50) + b'"}}\n'
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(_line("NCT09990001") + bomb + _line("NCT09990002")))
    assert _outcomes(path) == ["NCT09990001", "error: larger than 4096 bytes: not read",
                               "NCT09990002"]


def test_an_oversized_zip_member_is_rejected_unread(tmp_path: Path, small_limit: int) -> None:
    path = tmp_path / "bulk.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("NCT09990001.json", json.dumps(study("NCT09990001")))
        archive.writestr("big.json", b" " * (small_limit * 100))
        archive.writestr("inner.zip", b"PK")
    outcomes = _outcomes(path)
    assert outcomes[0] == "NCT09990001"
    assert outcomes[1] == "error: larger than 4096 bytes: not read"
    assert outcomes[2].startswith("error: a ZIP inside a ZIP is not read")


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    lines = tmp_path / "bom.jsonl"
    lines.write_bytes(b"\xef\xbb\xbf" + _line("NCT09990001") + _line("NCT09990002"))
    document = tmp_path / "bom.json"
    document.write_bytes(b"\xef\xbb\xbf" + _line("NCT09990003"))
    assert _outcomes(lines) == ["NCT09990001", "NCT09990002"]
    assert _outcomes(document) == ["NCT09990003"]


@pytest.mark.parametrize("name, data", [("empty.jsonl", b""), ("blank.jsonl", b"\n \n"),
                                        ("empty.jsonl.gz", gzip.compress(b"")),
                                        ("empty.json", b"  ")])
def test_an_empty_file_is_said_to_hold_no_records(tmp_path: Path, name: str,
                                                  data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert _outcomes(path) == ["error: the file holds no records"]


def test_a_record_nested_too_deeply_is_rejected_with_its_id(tmp_path: Path) -> None:
    record = study("NCT09990004")
    nested: dict = {}
    cursor = nested
    for _ in range(300):
        cursor["a"] = {}
        cursor = cursor["a"]
    record["protocolSection"]["descriptionModule"] = {"briefSummary": "x", "extra": nested}
    path = tmp_path / "deep.jsonl"
    path.write_text(json.dumps(record) + "\n")
    items = list(iter_path(path))
    with pytest.raises(RecordError) as caught:
        parse_item(items[0])
    assert caught.value.nct_id == "NCT09990004"
    assert "nested too deeply" in caught.value.reason


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["good", "blank", "junk", "big"]), min_size=1, max_size=12))
def test_line_outcomes_follow_the_lines_in_order(kinds: list[str]) -> None:
    """Whatever the mix of lines, each good one yields its record, in order, and each bad
    or oversized one an error; blank lines yield nothing (but an all-blank file says so)."""
    import tempfile

    limit = 2048
    original = sources.MAX_RECORD_BYTES
    sources.MAX_RECORD_BYTES = limit
    try:
        data, expected = b"", []
        for n, kind in enumerate(kinds):
            if kind == "good":
                data += _line(f"NCT0999{n:04d}")
                expected.append(f"NCT0999{n:04d}")
            elif kind == "blank":
                data += b"\n"
            elif kind == "junk":
                data += b"{not json\n"
                expected.append("junk")
            else:
                data += b"[" + b"1," * limit + b"1]\n"
                expected.append("big")
        if not expected:
            expected = ["empty"]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "mix.jsonl"
            path.write_bytes(data)
            got = _outcomes(path)
    finally:
        sources.MAX_RECORD_BYTES = original
    simplified = ["big" if g.startswith("error: larger") else
                  "junk" if g.startswith("error: malformed") else
                  "empty" if g == "error: the file holds no records" else g for g in got]
    assert simplified == expected
