"""A file that starts like JSON is JSON: cut short, it is refused with the parse error
instead of being read as a note (whose facts would then be wrong)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialscout.cli import _load_commands, cli
from trialscout.patients.loader import (
    PatientFileError,
    load_patient_bytes,
    load_patient_text,
    looks_like_json,
)

BUNDLE = (Path(__file__).parent / "data" / "bundle_valid.json").read_text()


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_a_truncated_bundle_is_refused_with_the_parse_error(cut: float) -> None:
    truncated = BUNDLE[: int(len(BUNDLE) * cut)]
    with pytest.raises(PatientFileError, match=r"starts like JSON but does not parse.*line"):
        load_patient_text(truncated)
    with pytest.raises(PatientFileError):
        load_patient_bytes(("\ufeff" + truncated).encode())


def test_the_complete_bundle_still_reads_as_fhir() -> None:
    assert load_patient_text(BUNDLE).kind == "fhir"


@pytest.mark.parametrize("text,expected", [
    ('{"resourceType": "Bundle"', True),
    ('  [ {"a": 1}', True),
    ("[[1, 2]", True),
    ("[Visit 2024-03-01] Seen for asthma.", False),
    ("Seen today. {no known allergies}", False),
    ("", False),
])
def test_what_counts_as_starting_like_json(text: str, expected: bool) -> None:
    assert looks_like_json(text) is expected


def test_a_bracketed_note_is_still_a_note() -> None:
    loaded = load_patient_text("[Clinic visit] She has asthma and takes salbutamol.")
    assert loaded.kind == "note"


def test_the_cli_says_why_a_truncated_bundle_is_refused(tmp_path: Path) -> None:
    _load_commands()
    path = tmp_path / "cut.json"
    path.write_text(BUNDLE[: len(BUNDLE) // 2])
    result = CliRunner().invoke(cli, ["--database", f"sqlite:///{tmp_path / 's.db'}",
                                      "match", str(path)])
    assert result.exit_code != 0
    assert "does not parse" in result.output
