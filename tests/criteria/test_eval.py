"""Entity-level scoring of criteria parsing on brat and TSV corpora written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialscout.evaluation.criteria_eval import (
    Entity,
    TypeScore,
    _score_document,
    detect_brat_corpus,
    evaluate_brat,
    evaluate_tsv,
    predict,
    read_brat_file,
    read_facebook_tsv,
)


def test_scoring_exact_and_relaxed() -> None:
    gold = [Entity(0, 10, "Condition"), Entity(20, 25, "Condition"), Entity(30, 35, "Drug")]
    pred = [Entity(0, 10, "Condition"), Entity(18, 23, "Condition"), Entity(40, 45, "Drug")]
    scores: dict[str, TypeScore] = {}
    _score_document(gold, pred, scores)
    cond = scores["Condition"].as_dict()
    assert cond["exact"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert cond["relaxed"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert scores["Drug"].as_dict()["relaxed"]["f1"] == 0.0


def test_relaxed_matching_is_one_to_one() -> None:
    scores: dict[str, TypeScore] = {}
    _score_document([Entity(0, 20, "Value")], [Entity(0, 5, "Value"), Entity(6, 10, "Value")],
                    scores)
    assert (scores["Value"].relaxed_gold, scores["Value"].relaxed_predicted) == (1, 1)


def test_brat_reader_maps_labels_and_realigns_crlf_offsets(tmp_path: Path) -> None:
    txt = tmp_path / "NCT2_exc.txt"
    txt.write_text("Pregnancy\nHistory of stroke\n")
    # offsets as if the file had CRLF line ends (one extra character per line)
    (tmp_path / "NCT2_exc.ann").write_text(
        "T1\tCondition 0 9\tPregnancy\nT2\tCondition 22 28\tstroke\nT3\tScope 0 9\tPregnancy\n"
        "T4\tCondition 11;13 14\tHi\n")
    unmapped: dict[str, int] = {}
    doc = read_brat_file(txt, {"Condition": "Condition"}, unmapped)
    assert [(doc.text[e.start:e.end], e.type) for e in doc.gold] == [
        ("Pregnancy", "Condition"), ("stroke", "Condition")]
    assert unmapped == {"Scope": 1}


def test_facebook_reader(tmp_path: Path) -> None:
    tsv = tmp_path / "ner.tsv"
    tsv.write_text("11:19:chronic_disease\tdiagnosed epilepsy\n"
                   "1:13:pregnancy,16:25:lower_bound\tnon-pregnant ≥ @NUMBER %\nbroken line\n")
    docs = list(read_facebook_tsv(tsv, {"chronic_disease": "Condition", "pregnancy": "Pregnancy",
                                        "lower_bound": "Value"}))
    assert len(docs) == 2
    assert [(docs[0].text[e.start:e.end], e.type) for e in docs[0].gold] == [
        ("epilepsy", "Condition")]
    assert [docs[1].text[e.start:e.end] for e in docs[1].gold] == ["non-pregnant", "1000000 %"]
    report = evaluate_tsv(tsv)
    assert report.documents == 2
    assert report.types["Condition"].exact == 1
    assert report.types["Value"].relaxed_gold == 1


def test_detect_corpus(tmp_path: Path) -> None:
    (tmp_path / "a.ann").write_text("T1\tCondition-Name 0 4\tdiab\n")
    (tmp_path / "a.txt").write_text("diab")
    assert detect_brat_corpus(tmp_path) == "lct"
    (tmp_path / "a.ann").write_text("T1\tCondition 0 4\tdiab\n")
    assert detect_brat_corpus(tmp_path) == "chia"


def test_predict_finds_the_kinds_the_corpora_annotate() -> None:
    text = "No history of type 2 diabetes; HbA1c ≥ 7% within the past 6 months; aged 18 or older"
    found = {(text[e.start:e.end], e.type) for e in predict(text, "chia")}
    assert {("type 2 diabetes", "Condition"), ("HbA1c", "Measurement"), ("≥ 7%", "Value"),
            ("No", "Negation"), ("within the past 6 months", "Temporal")} <= found
    numbers = {text[e.start:e.end] for e in predict(text, "lct") if e.type == "Value"}
    assert {"7", "6", "18"} <= numbers


def test_evaluate_brat_on_a_small_corpus(tmp_path: Path) -> None:
    (tmp_path / "NCT3_inc.txt").write_text("Prior denosumab\n")
    (tmp_path / "NCT3_inc.ann").write_text("T1\tDrug 6 15\tdenosumab\nT2\tTemporal 0 5\tPrior\n")
    report = evaluate_brat(tmp_path)
    assert report.as_dict()["overall"]["exact"]["recall"] == pytest.approx(1.0)
