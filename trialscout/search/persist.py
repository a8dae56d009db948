"""Index snapshots on disk, so a process starts searching without re-reading every trial.

A snapshot is one directory of ``.npy`` arrays (memory-mapped on load, so several processes
share the pages) plus JSON word lists, and a ``meta.json`` saying which store
(``index_id``), which generation and which rules it was built from. ``CURRENT`` names the
live snapshot and is replaced atomically; a snapshot that does not match the store is
ignored and rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from trialscout.search.segment import DICT_NAMES, MULTI_FIELDS, SCALARS, SITE_COLUMNS, Segment
from trialscout.search.vocab import Vocab

FORMAT = 1
_ARRAYS = ("nct_num", "surface_term", "surface_sorted_ids", "t_ptr", "t_doc", "t_tf",
           "p_ptr", "p_pos", "dl")


@dataclass(frozen=True)
class SnapshotMeta:
    format: int
    index_id: str
    generation: int
    rules_digest: str
    n_docs: int


def save(directory: Path, segment: Segment, meta: SnapshotMeta) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"snapshot-{meta.generation}-{uuid.uuid4().hex[:8]}"
    tmp = directory / f".tmp-{name}"
    tmp.mkdir()
    for attr in _ARRAYS:
        np.save(tmp / f"{attr}.npy", getattr(segment, attr))
    for key in SCALARS:
        np.save(tmp / f"scalar.{key}.npy", segment.scalars[key])
    for key in MULTI_FIELDS:
        docs, vals = segment.multi[key]
        np.save(tmp / f"multi.{key}.docs.npy", docs)
        np.save(tmp / f"multi.{key}.vals.npy", vals)
    for key in SITE_COLUMNS:
        np.save(tmp / f"site.{key}.npy", segment.sites[key])
    lists = {
        "nct_ids": segment.nct_ids,
        "terms": segment.terms.keys,
        "surface": segment.surface.keys,
        "dicts": {k: [segment.dicts[k].keys, segment.dicts[k].display] for k in DICT_NAMES},
    }
    (tmp / "lists.json").write_bytes(orjson.dumps(lists))
    (tmp / "meta.json").write_text(json.dumps(meta.__dict__))
    final = directory / name
    os.replace(tmp, final)
    pointer = directory / f".CURRENT-{uuid.uuid4().hex[:8]}"
    pointer.write_text(name)
    os.replace(pointer, directory / "CURRENT")
    _prune(directory, keep=name)
    return final


def _prune(directory: Path, keep: str) -> None:
    for entry in directory.iterdir():
        if entry.name.startswith(("snapshot-", ".tmp-")) and entry.name != keep:
            shutil.rmtree(entry, ignore_errors=True)


def load(directory: Path) -> tuple[SnapshotMeta, Segment] | None:
    """The current snapshot, or None when there is none or it cannot be read."""
    try:
        name = (directory / "CURRENT").read_text().strip()
        path = directory / name
        meta = SnapshotMeta(**json.loads((path / "meta.json").read_text()))
        if meta.format != FORMAT:
            return None
        lists = orjson.loads((path / "lists.json").read_bytes())

        def arr(file: str) -> np.ndarray:
            return np.load(path / file, mmap_mode="r").view(np.ndarray)

        terms = Vocab.from_lists(lists["terms"])
        surface = Vocab.from_lists(lists["surface"])
        sorted_ids = arr("surface_sorted_ids.npy")
        segment = Segment(
            n=len(lists["nct_ids"]),
            nct_ids=lists["nct_ids"],
            nct_num=arr("nct_num.npy"),
            terms=terms,
            surface=surface,
            surface_term=arr("surface_term.npy"),
            surface_sorted=[surface.keys[int(i)] for i in sorted_ids],
            surface_sorted_ids=sorted_ids,
            t_ptr=arr("t_ptr.npy"),
            t_doc=arr("t_doc.npy"),
            t_tf=arr("t_tf.npy"),
            p_ptr=arr("p_ptr.npy"),
            p_pos=arr("p_pos.npy"),
            dl=arr("dl.npy"),
            scalars={k: arr(f"scalar.{k}.npy") for k in SCALARS},
            multi={k: (arr(f"multi.{k}.docs.npy"), arr(f"multi.{k}.vals.npy"))
                   for k in MULTI_FIELDS},
            sites={k: arr(f"site.{k}.npy") for k in SITE_COLUMNS},
            dicts={k: Vocab.from_lists(*lists["dicts"][k]) for k in DICT_NAMES},
        )
        if segment.n != meta.n_docs:
            return None
        return meta, segment
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear(directory: Path) -> None:
    """Remove every snapshot (used by tests and by a forced rebuild)."""
    with contextlib.suppress(FileNotFoundError):
        (directory / "CURRENT").unlink()
    if directory.is_dir():
        _prune(directory, keep="")
