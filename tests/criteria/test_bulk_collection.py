"""Bulk parsing's garbage-collector thresholds: raised while parsing, restored after."""

from __future__ import annotations

import gc

import pytest

from trialscout.criteria.parallel import BULK_GC_THRESHOLD, bulk_collection, parse_chunk


def test_thresholds_are_raised_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    with bulk_collection():
        assert gc.get_threshold() == BULK_GC_THRESHOLD
    assert gc.get_threshold() == before


def test_thresholds_are_restored_when_parsing_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), bulk_collection():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before


def test_parse_chunk_parses_under_bulk_thresholds_and_restores_them() -> None:
    before = gc.get_threshold()
    rows = parse_chunk([("NCT00000001", "Inclusion Criteria:\n* Age 18 years or older")])
    assert gc.get_threshold() == before
    assert rows[0][1].nct_id == "NCT00000001" and rows[0][1].item_count == 1
