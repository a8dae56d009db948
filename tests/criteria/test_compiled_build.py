"""The mypyc-compiled criteria parser (regular installs and wheels) against the sources.

Editable installs must stay pure Python, or an edited module would be shadowed by a stale
compiled one. A wheel must compile every listed module and parse exactly as the sources
do: every real criteria text in ../shared/data when present, and the bundled sample.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from trialscout.criteria import parse_criteria
from trialscout.criteria.build import compiled_modules, parser_build

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "trialscout" / "sample"


def _listed_modules() -> list[str]:
    with open(REPO / "pyproject.toml", "rb") as handle:
        paths = tomllib.load(handle)["tool"]["trialscout"]["compiled-modules"]
    return [Path(p).stem for p in paths]


def test_listed_modules_exist_and_are_criteria_modules() -> None:
    listed = _listed_modules()
    assert listed and len(set(listed)) == len(listed)
    for name in listed:
        assert (REPO / "trialscout" / "criteria" / f"{name}.py").is_file(), name


def test_the_development_install_runs_the_sources() -> None:
    assert compiled_modules() == ()
    assert parser_build() == "pure Python"


def _texts(shared: Path | None) -> list[str]:
    texts = []
    for path in sorted(SAMPLE.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                module = json.loads(line)["protocolSection"].get("eligibilityModule", {})
                if module.get("eligibilityCriteria"):
                    texts.append(module["eligibilityCriteria"])
    if shared is not None:
        with gzip.open(shared / "ctgov" / "studies.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in fh:
                module = json.loads(line)["protocolSection"].get("eligibilityModule", {})
                if module.get("eligibilityCriteria"):
                    texts.append(module["eligibilityCriteria"])
    texts.append("Inclusion: \\>= 18 years; HbA1c ≥ 7 %\n\nExclusion:\n- İstanbul ß K")
    return texts


_CHILD = """
import json, sys
from trialscout.criteria import parse_criteria
from trialscout.criteria.build import compiled_modules
print(json.dumps(list(compiled_modules())))
with open(sys.argv[1], encoding="utf-8") as fh, open(sys.argv[2], "w", encoding="utf-8") as out:
    for text in json.load(fh):
        out.write(parse_criteria(text).model_dump_json() + "\\n")
"""


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("TRIALSCOUT_COMPILE") != "1",
                    reason="the compiled build is an opt-in: set TRIALSCOUT_COMPILE=1 "
                    "(with mypy installed) to build and compare it")
def test_a_wheel_compiles_the_listed_modules_and_parses_identically(tmp_path: Path) -> None:
    shared = REPO.parent / "shared" / "data"
    texts = _texts(shared if shared.is_dir() else None)
    env = {**os.environ, "TRIALSCOUT_COMPILE": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "-w", str(tmp_path / "dist"), str(REPO)],
        env=env, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob("trialscout-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    (tmp_path / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path / "texts.json"), str(tmp_path / "out")],
        env={**os.environ, "PYTHONPATH": str(site)}, cwd=tmp_path,
        capture_output=True, text=True, timeout=900)
    assert child.returncode == 0, child.stderr[-3000:]
    assert sorted(json.loads(child.stdout.splitlines()[0])) == sorted(_listed_modules())
    compiled = (tmp_path / "out").read_text(encoding="utf-8").splitlines()
    assert len(compiled) == len(texts)
    for text, line in zip(texts, compiled, strict=True):
        assert line == parse_criteria(text).model_dump_json(), text[:200]
