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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from trialscout.search.columns import FACET_FIELDS, latitude_columns, pointer_columns
from trialscout.search.segment import (
    DICT_NAMES,
    MULTI_FIELDS,
    SCALARS,
    SITE_COLUMNS,
    WRITTEN_FILES,
    Segment,
)
from trialscout.search.vocab import MappedVocab, NctIds, Vocab

FORMAT = 2
_ARRAYS = ("nct_num", "surface_term", "surface_sorted_ids", "t_ptr", "t_doc", "t_tf",
           "p_ptr", "p_pos", "dl")


@dataclass(frozen=True)
class SnapshotMeta:
    format: int
    index_id: str
    generation: int
    rules_digest: str
    n_docs: int


def work_dir(directory: Path) -> Path:
    """A fresh directory for a build inside the index directory: a bounded-memory build
    merges its postings straight into it, and :func:`save` publishes it by renaming."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".tmp-build-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    return tmp


def save(directory: Path, segment: Segment, meta: SnapshotMeta) -> Path:
    """Publish ``segment`` as the current snapshot (main only)."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"snapshot-{meta.generation}-{uuid.uuid4().hex[:8]}"
    written = segment.extra.get(WRITTEN_FILES)
    done: frozenset[str] = frozenset()
    if isinstance(written, tuple) and written[0] and Path(written[0]).parent == directory:
        tmp, done = Path(written[0]), written[1]
    else:
        tmp = directory / f".tmp-{name}"
        tmp.mkdir()
    _write_segment(tmp, segment, done)
    _write_columns(tmp, {**latitude_columns(segment.sites),
                         **pointer_columns(segment.multi, segment.n)})
    (tmp / "meta.json").write_text(json.dumps(meta.__dict__))
    final = directory / name
    os.replace(tmp, final)
    if done:
        segment.extra[WRITTEN_FILES] = (str(final), done)
    _point_to(directory, name)
    return final


def save_delta(directory: Path, main_path: Path, delta: Segment, dead: np.ndarray,
               meta: SnapshotMeta, columns: dict[str, np.ndarray] | None = None) -> Path:
    """Publish the main segment at ``main_path`` (hard-linked, not copied) plus a small
    delta segment of the trials changed since, and the mask of main docs they replace.
    ``columns`` are the view's merged filter columns (:mod:`.columns`), saved so that
    workers map them instead of each merging its own copy."""
    name = f"snapshot-{meta.generation}-{uuid.uuid4().hex[:8]}"
    tmp = directory / f".tmp-{name}"
    tmp.mkdir()
    for entry in main_path.iterdir():
        if entry.is_file() and entry.name != "meta.json":
            try:
                os.link(entry, tmp / entry.name)
            except OSError:
                shutil.copyfile(entry, tmp / entry.name)
    main_meta = json.loads((main_path / "meta.json").read_text())
    (tmp / "delta").mkdir()
    _write_segment(tmp / "delta", delta, frozenset())
    np.save(tmp / "delta" / "dead.npy", dead)
    if columns is not None:
        sites = {k.removeprefix("site."): v for k, v in columns.items()
                 if k.startswith("site.")}
        multi = {name: (columns[f"multi.{name}.docs"], columns[f"multi.{name}.vals"])
                 for name in FACET_FIELDS}
        _write_columns(tmp / "delta", {**columns, **latitude_columns(sites),
                                       **pointer_columns(multi, len(columns["nct_num"]))})
    (tmp / "meta.json").write_text(json.dumps(
        {**meta.__dict__, "n_docs": main_meta["n_docs"],
         "main_generation": main_meta["generation"]}))
    final = directory / name
    os.replace(tmp, final)
    _point_to(directory, name)
    return final


def _write_segment(tmp: Path, segment: Segment, done: frozenset[str]) -> None:
    for attr in _ARRAYS:
        if attr not in done:
            np.save(tmp / f"{attr}.npy", getattr(segment, attr))
    for key in SCALARS:
        np.save(tmp / f"scalar.{key}.npy", segment.scalars[key])
    for key in MULTI_FIELDS:
        docs, vals = segment.multi[key]
        np.save(tmp / f"multi.{key}.docs.npy", docs)
        np.save(tmp / f"multi.{key}.vals.npy", vals)
    for key in SITE_COLUMNS:
        np.save(tmp / f"site.{key}.npy", segment.sites[key])
    lists: dict[str, object] = {}
    if segment.terms.base is None and isinstance(segment.terms, Vocab):
        _write_vocab(tmp, "terms", segment.terms.keys, None)
        _write_vocab(tmp, "surface", segment.surface.keys,
                     np.asarray(segment.surface_sorted_ids) - segment.surface.offset)
        for k in DICT_NAMES:
            _write_vocab(tmp, f"dict.{k}", segment.dicts[k].keys, None)
            blob, offsets, _ = MappedVocab.arrays(segment.dicts[k].display)
            np.save(tmp / f"dict.{k}.label_blob.npy", blob)
            np.save(tmp / f"dict.{k}.label_offsets.npy", offsets)
    else:
        lists["dicts"] = {k: [segment.dicts[k].keys, segment.dicts[k].display]
                          for k in DICT_NAMES}
        lists["terms"] = list(segment.terms.keys)
        lists["surface"] = list(segment.surface.keys)
    if not NctIds.fits(segment.nct_ids, np.asarray(segment.nct_num)):
        lists["nct_ids"] = list(segment.nct_ids)
    (tmp / "lists.json").write_bytes(orjson.dumps(lists))


def _write_columns(directory: Path, columns: dict[str, np.ndarray]) -> None:
    for key, array in columns.items():
        np.save(directory / f"view.{key}.npy", array)


def _read_columns(directory: Path) -> dict[str, np.ndarray]:
    return {entry.name[len("view."):-len(".npy")]:
            np.load(entry, mmap_mode="r").view(np.ndarray)
            for entry in directory.glob("view.*.npy")}


def _write_vocab(tmp: Path, name: str, keys: Sequence[str], order: np.ndarray | None
                 ) -> None:
    """A main segment's word list as arrays that :class:`MappedVocab` maps."""
    blob, offsets, sorted_ids = MappedVocab.arrays(keys)
    np.save(tmp / f"{name}.blob.npy", blob)
    np.save(tmp / f"{name}.offsets.npy", offsets)
    np.save(tmp / f"{name}.order.npy", sorted_ids if order is None else order)


def _point_to(directory: Path, name: str) -> None:
    pointer = directory / f".CURRENT-{uuid.uuid4().hex[:8]}"
    pointer.write_text(name)
    os.replace(pointer, directory / "CURRENT")
    _prune(directory, keep=name)


def current_name(directory: Path) -> str | None:
    """The name of the published snapshot (one small read: workers poll it)."""
    try:
        return (directory / "CURRENT").read_text().strip() or None
    except OSError:
        return None


def _prune(directory: Path, keep: str) -> None:
    for entry in directory.iterdir():
        if entry.name.startswith(("snapshot-", ".tmp-")) and entry.name != keep:
            shutil.rmtree(entry, ignore_errors=True)


@dataclass
class Loaded:
    """A published snapshot: its main segment and, when published, its delta."""

    name: str
    meta: SnapshotMeta
    main: Segment
    main_generation: int
    delta: Segment | None = None
    dead: np.ndarray | None = None
    #: Saved view columns (:mod:`.columns`): the latitude order of a main snapshot's
    #: sites, or the whole merge of a delta snapshot (empty when it predates them).
    columns: dict[str, np.ndarray] = field(default_factory=dict)


def load(directory: Path) -> tuple[SnapshotMeta, Segment] | None:
    """The current snapshot's main segment, or None when there is none or it cannot be
    read (kept for callers that only need the main part)."""
    loaded = load_published(directory)
    return None if loaded is None else (loaded.meta, loaded.main)


def load_published(directory: Path) -> Loaded | None:
    """The current snapshot (main and delta), or None when there is none or it is damaged."""
    try:
        name = current_name(directory)
        if name is None:
            return None
        path = directory / name
        raw = json.loads((path / "meta.json").read_text())
        main_generation = int(raw.pop("main_generation", raw["generation"]))
        meta = SnapshotMeta(**raw)
        if meta.format != FORMAT:
            return None
        main = _read_segment(path, None)
        if main.n != meta.n_docs:
            return None
        loaded = Loaded(name, meta, main, main_generation)
        if (path / "delta").is_dir():
            loaded.delta = _read_segment(path / "delta", main)
            loaded.dead = np.load(path / "delta" / "dead.npy")
            if loaded.dead is None or len(loaded.dead) != main.n:
                return None
            loaded.columns = _read_columns(path / "delta")
            if len(loaded.columns.get("nct_num", ())) != main.n + loaded.delta.n:
                loaded.columns = {}
        else:
            loaded.columns = _read_columns(path)
        return loaded
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_segment(path: Path, base: Segment | None) -> Segment:
    lists = orjson.loads((path / "lists.json").read_bytes())

    def arr(file: str) -> np.ndarray:
        return np.load(path / file, mmap_mode="r").view(np.ndarray)

    sorted_ids = arr("surface_sorted_ids.npy")
    terms: Vocab | MappedVocab
    surface: Vocab | MappedVocab
    surface_sorted: Sequence[str]
    if base is None and (path / "terms.blob.npy").is_file():
        terms = _mapped(arr, "terms")
        surface = _mapped(arr, "surface")
        surface_sorted = surface.sorted_keys
    else:
        terms = Vocab.from_lists(lists["terms"], base=base.terms if base else None)
        surface = Vocab.from_lists(lists["surface"], base=base.surface if base else None)
        surface_sorted = [surface.keys[int(i) - surface.offset] for i in sorted_ids]
    nct_num = arr("nct_num.npy")
    nct_ids = lists["nct_ids"] if "nct_ids" in lists else NctIds(nct_num)
    return Segment(
        n=len(nct_ids),
        nct_ids=nct_ids,
        nct_num=nct_num,
        terms=terms,
        surface=surface,
        surface_term=arr("surface_term.npy"),
        surface_sorted=surface_sorted,
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
        dicts=_read_dicts(path, lists, base, arr),
    )


def _mapped(arr: Callable[[str], np.ndarray], name: str, *, labelled: bool = False
            ) -> MappedVocab:
    display = (arr(f"{name}.label_blob.npy"), arr(f"{name}.label_offsets.npy")) \
        if labelled else None
    return MappedVocab(arr(f"{name}.blob.npy"), arr(f"{name}.offsets.npy"),
                       arr(f"{name}.order.npy"), display)


def _read_dicts(path: Path, lists: dict[str, Any], base: Segment | None,
                arr: Callable[[str], np.ndarray]) -> dict[str, Vocab | MappedVocab]:
    """A main segment's facet vocabularies mapped (keys and labels), or, for a delta or
    a snapshot that predates that, read from its JSON lists."""
    if base is None and "dicts" not in lists:
        return {k: _mapped(arr, f"dict.{k}", labelled=True) for k in DICT_NAMES}
    return {k: Vocab.from_lists(*lists["dicts"][k], base=base.dicts[k] if base else None)
            for k in DICT_NAMES}


def clear(directory: Path) -> None:
    """Remove every snapshot (used by tests and by a forced rebuild)."""
    with contextlib.suppress(FileNotFoundError):
        (directory / "CURRENT").unlink()
    if directory.is_dir():
        _prune(directory, keep="")
