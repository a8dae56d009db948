"""Clinical knowledge as data: drug classes and their members, a condition hierarchy, and
conditions that a measurement defines, each entry with its public source.

:func:`knowledge` returns the knowledge base (built once per process, from the curated
YAML files beside this module, the shared vocabulary and the MeSH data of the installed
lexicon packages; nothing is downloaded). See :mod:`trialscout.knowledge.base`.
"""

from __future__ import annotations

from functools import lru_cache

from trialscout.knowledge.base import KnowledgeBase, Node, build, load_files
from trialscout.knowledge.schema import Band, Definition

__all__ = ["Band", "Definition", "KnowledgeBase", "Node", "build", "knowledge", "load_files"]


@lru_cache(maxsize=1)
def knowledge() -> KnowledgeBase:
    """The process-wide knowledge base."""
    return build()
