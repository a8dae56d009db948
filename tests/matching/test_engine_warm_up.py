"""Matching's warm-up loads what a process's first match would, so that a web worker does
it before its first visitor (the clinical knowledge base alone is a few CPU-seconds)."""

from __future__ import annotations

import gc

from trialscout.app import TrialScout
from trialscout.knowledge import knowledge
from trialscout.matching.engine import warm_up


def test_warm_up_builds_the_knowledge_base() -> None:
    knowledge.cache_clear()
    assert knowledge.cache_info().currsize == 0
    warm_up()
    assert knowledge.cache_info().currsize == 1


def test_the_web_warm_up_runs_matchings_warm_up(file_app: TrialScout) -> None:
    from trialscout.web import factory

    knowledge.cache_clear()
    try:
        factory._warm_up(file_app)
    finally:
        gc.unfreeze()
    assert knowledge.cache_info().currsize == 1
