"""The parser on real data from ../shared/data (skipped when that folder is absent)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.criteria.test_properties import _check_coverage, _check_spans
from trialscout.criteria import parse_criteria
from trialscout.evaluation.criteria_eval import evaluate_documents, read_brat_file

pytestmark = pytest.mark.shared_data
CHIA_SAMPLE = ["NCT00050349_inc", "NCT00050349_exc", "NCT00061308_inc", "NCT00061308_exc",
               "NCT00094861_inc", "NCT00094861_exc", "NCT00122070_inc", "NCT00122070_exc"]


def test_real_chia_files_parse_and_score(shared_data: Path) -> None:
    from trialscout.criteria import rules

    labels = rules.eval_labels().corpora["chia"].gold
    docs = [read_brat_file(shared_data / "criteria" / "chia" / f"{name}.txt", labels)
            for name in CHIA_SAMPLE]
    for doc in docs:
        parsed = parse_criteria(doc.text)
        _check_spans(doc.text, parsed)
        _check_coverage(doc.text, parsed)
        assert parsed.items
    report = evaluate_documents(docs, "chia").as_dict()
    assert report["documents"] == len(CHIA_SAMPLE)
    assert report["types"]["Condition"]["relaxed"]["recall"] > 0.5
    assert report["overall"]["relaxed"]["f1"] > 0.5


def _criteria_texts(shared_data: Path) -> list[tuple[str, str]]:
    out = []
    with gzip.open(shared_data / "ctgov" / "studies.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            study = json.loads(line)["protocolSection"]
            text = study.get("eligibilityModule", {}).get("eligibilityCriteria")
            if text:
                out.append((study["identificationModule"]["nctId"], text))
    return out


@pytest.mark.slow
def test_every_registry_criteria_text_parses(shared_data: Path) -> None:
    texts = _criteria_texts(shared_data)
    assert len(texts) > 1000
    items = other = 0
    for nct_id, text in texts:
        parsed = parse_criteria(text)
        try:
            _check_spans(text, parsed)
            _check_coverage(text, parsed)
        except AssertionError as exc:
            raise AssertionError(f"{nct_id}: {exc}") from exc
        items += len(parsed.items)
        other += sum(item.kind == "other" for item in parsed.items)
    assert items > 10 * len(texts) // 2
    assert other / items < 0.25
