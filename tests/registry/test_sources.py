"""Every supported source shape yields the same records; unreadable ones yield errors."""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from pathlib import Path

from tests.factories import study
from trialscout.registry.importer import parse_item
from trialscout.registry.sources import iter_path

IDS = ["NCT09990001", "NCT09990002", "NCT09990003"]


def _studies() -> list[dict]:
    return [study(i, title=f"Study {i}") for i in IDS]


def _ids(path: Path) -> list[str]:
    return [parse_item(item).nct_id for item in iter_path(path)]


def test_single_study_page_and_list(tmp_path: Path) -> None:
    single = tmp_path / "one.json"
    single.write_text(json.dumps(_studies()[0]))
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"studies": _studies(), "nextPageToken": "abc"}))
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps(_studies()))
    assert _ids(single) == IDS[:1]
    assert _ids(page) == IDS
    assert _ids(listing) == IDS


def test_json_lines_plain_and_gzipped(tmp_path: Path) -> None:
    lines = "\n".join(json.dumps(s) for s in _studies()) + "\n\n"
    (tmp_path / "a.jsonl").write_text(lines)
    with gzip.open(tmp_path / "a.jsonl.gz", "wt") as handle:
        handle.write(lines)
    assert _ids(tmp_path / "a.jsonl") == IDS
    assert _ids(tmp_path / "a.jsonl.gz") == IDS


def test_bulk_zip_of_one_json_per_study(tmp_path: Path) -> None:
    archive = tmp_path / "ctg-studies.json.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for s in _studies():
            z.writestr(f"{s['protocolSection']['identificationModule']['nctId']}.json",
                       json.dumps(s))
        z.writestr("README.txt", "ignored")
    assert _ids(archive) == IDS


def test_legacy_xml_file_directory_and_zip(tmp_path: Path, shared_data: Path) -> None:
    source = shared_data / "ctgov/samples/legacy_xml"
    folder = tmp_path / "xml"
    shutil.copytree(source, folder)
    expected = sorted(p.stem for p in source.glob("*.xml"))
    assert _ids(folder) == expected
    assert _ids(folder / f"{expected[0]}.xml") == expected[:1]
    archive = tmp_path / "xml.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(folder.glob("*.xml")):
            z.write(p, f"trials/{p.name}")
    assert _ids(archive) == expected


def test_bad_lines_carry_their_line_number_and_id(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    good = json.dumps(_studies()[0])
    path.write_text(good + '\n{"protocolSection": {"identificationModule": {"nctId": '
                    '"NCT09990009"\n' + good.replace(IDS[0], IDS[1]) + "\n")
    items = list(iter_path(path))
    assert [i.line for i in items] == [1, 2, 3]
    bad = items[1]
    assert bad.error is not None and "malformed JSON" in bad.error.reason
    assert bad.error.nct_id == "NCT09990009"


def test_truncated_gzip_keeps_the_records_before_the_cut(tmp_path: Path) -> None:
    lines = "\n".join(json.dumps(study(f"NCT0999{i:04d}")) for i in range(300)) + "\n"
    data = gzip.compress(lines.encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    items = list(iter_path(path))
    assert items[-1].error is not None and "unreadable" in items[-1].error.reason
    assert all(i.error is None for i in items[:-1]) and len(items) > 1


def test_unsupported_and_broken_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.zip").write_bytes(b"PK not really")
    (tmp_path / "broken.xml").write_text("<clinical_study><id_info>")
    (tmp_path / "other.xml").write_text("<html/>")
    reasons = {}
    for name in ("notes.txt", "broken.zip", "broken.xml", "other.xml"):
        item = next(iter(iter_path(tmp_path / name)))
        try:
            parse_item(item)
        except ValueError as exc:
            reasons[name] = str(exc)
    assert "unsupported file type" in reasons["notes.txt"]
    assert "ZIP" in reasons["broken.zip"]
    assert "malformed XML" in reasons["broken.xml"]
    assert "clinical_study" in reasons["other.xml"]
