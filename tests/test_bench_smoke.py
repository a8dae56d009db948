"""The benchmarks run end to end on tiny inputs, and the scale-up makes valid, unique studies.

The benchmarks print numbers rather than assert speeds; these tests only check that they
work, so CI notices when one breaks.
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import scaleup
from tests.conftest import REPO
from trialscout.app import TrialScout

words = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")), min_size=1,
                max_size=8)


def _chars(text: str) -> list[str]:
    return sorted("".join(text.split()))


@given(st.lists(words, min_size=0, max_size=12), st.sampled_from(["", ".", "!", "?"]),
       st.integers(0, 2**32))
def test_shuffle_keeps_the_characters_and_the_end_mark(parts: list[str], mark: str, seed: int
                                                       ) -> None:
    sentence = " ".join(parts) + mark
    shuffled = scaleup.shuffle_words(sentence, random.Random(seed))
    assert _chars(shuffled) == _chars(sentence)
    assert len(shuffled.split()) == len(sentence.split())
    if len(sentence.split()) >= 3 and sentence.rstrip()[-1:] in {".", "!", "?"}:
        assert shuffled.endswith(sentence.rstrip()[-1])


@given(st.lists(st.lists(words, min_size=1, max_size=6), min_size=1, max_size=6),
       st.integers(0, 2**32))
def test_vary_text_keeps_every_character(sentences: list[list[str]], seed: int) -> None:
    text = " ".join(" ".join(s) + "." for s in sentences)
    varied = scaleup.vary_text(text, random.Random(seed), 0.5)
    assert _chars(varied) == _chars(text)


@pytest.mark.parametrize(("minimum", "maximum", "expected"), [
    ("18 Years", None, ["ADULT", "OLDER_ADULT"]),
    ("18 Years", "64 Years", ["ADULT"]),
    (None, "17 Years", ["CHILD"]),
    ("6 Months", "18 Years", ["CHILD", "ADULT"]),
    ("65 Years", None, ["OLDER_ADULT"]),
    (None, None, ["CHILD", "ADULT", "OLDER_ADULT"]),
])
def test_std_ages_follow_the_bounds(minimum: str | None, maximum: str | None,
                                    expected: list[str]) -> None:
    assert scaleup.std_ages(minimum, maximum) == expected


def test_scaleup_refuses_to_write_into_the_repository(tmp_path: Path) -> None:
    with pytest.raises(scaleup.ScaleupError, match="inside the repository"):
        scaleup.generate(REPO / "bench" / "scaleup.jsonl.gz", 10)
    assert not (REPO / "bench" / "scaleup.jsonl.gz").exists()


def test_scaleup_rejects_a_bad_size(tmp_path: Path) -> None:
    with pytest.raises(scaleup.ScaleupError, match="n must be"):
        scaleup.generate(tmp_path / "none.jsonl.gz", 0)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=900, check=False)


@pytest.mark.slow
def test_scaleup_cli_makes_unique_valid_studies(shared_data: Path, tmp_path: Path,
                                                app: TrialScout) -> None:
    out = tmp_path / "scaled.jsonl.gz"
    done = _run("bench/scaleup.py", "--n", "120", "--out", str(out), "--seed", "7")
    assert done.returncode == 0, done.stderr
    assert "120 studies" in done.stdout and "generated" in done.stdout

    with gzip.open(out, "rb") as stream:
        studies = [orjson.loads(line) for line in stream]
    ids = [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]
    assert len(ids) == 120 == len(set(ids))
    assert all(i.startswith("NCT5") for i in ids)
    assert any("contactsLocationsModule" in s["protocolSection"] for s in studies)

    report = app.import_paths([out])
    assert (report.imported, report.rejected) == (120, [])
    assert app.trial_count() == 120
    with_sites = [t for t in map(app.trial, ids[:40]) if t and t.sites]
    assert with_sites and all(s.geo is not None for t in with_sites for s in t.sites)

    again = _run("bench/scaleup.py", "--n", "120", "--out", str(out), "--seed", "7")
    assert again.returncode == 0 and "reused" in again.stdout

    shorter = tmp_path / "shorter.jsonl.gz"
    scaleup.generate(shorter, 60, seed=7)
    with gzip.open(out, "rb") as longer, gzip.open(shorter, "rb") as stream:
        assert stream.read().splitlines() == longer.read().splitlines()[:60]


@pytest.mark.slow
def test_import_benchmark_smoke_run(shared_data: Path, tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    done = _run("bench/bench_import.py", "--smoke", "--skip-postgres", "--workdir",
                str(tmp_path), "--json-out", str(report))
    assert done.returncode == 0, done.stderr + done.stdout
    assert "studies/s" in done.stdout and "registry-sized import" in done.stdout

    result = json.loads(report.read_text())
    names = [r["name"] for r in result["runs"]]
    assert "real/sqlite base" in names and any(n.startswith("scaleup-") for n in names)
    for run in result["runs"]:
        assert run["error"] is None
        assert run["studies"] == 300 and run["rejected"] == 0
        assert run["rate"] > 0 and run["peak_rss_mb"] > 0 and run["db_size_mb"] > 0
    assert not list(tmp_path.glob("bench-*.db"))


@pytest.mark.slow
def test_criteria_benchmark_smoke_run(shared_data: Path) -> None:
    done = _run("bench/bench_criteria.py", "--limit", "200", "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    result = json.loads(done.stdout)
    assert result["trials_with_criteria"] == 200 and result["items"] > 200
    assert result["build"] == "pure Python"
    assert result["trials_per_s_cpu"] > 0 and 0 <= result["other_share"] < 1
    assert sum(result["kinds"].values()) == result["items"]
