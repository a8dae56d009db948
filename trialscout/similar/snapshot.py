"""The similar-trials index saved once and memory-mapped by every web worker.

``trialscout index`` (the one builder) saves the built matrices and per-trial columns of
:class:`~trialscout.similar.index.SimilarIndex` under ``<search index dir>/similar``;
workers open them with ``mmap`` (the pages are shared by every process on the machine)
instead of building the index at start. The per-trial :class:`TrialFeatures` (names for
the reasons, sites for distances) are not saved: a request derives them from the stored
documents of the trial and its few neighbours.

Like the search snapshots, ``CURRENT`` names the live one and is replaced atomically, and
``meta.json`` says which store (``index_id``), history mark, backend and rules it is from.
NCT ids are saved as their numbers (``ids.nums.npy``, with their sorted order), so a
worker maps them too instead of holding a list and a dict of every id.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from scipy import sparse

from trialscout.search.vocab import NctIds
from trialscout.similar.index import SimilarIndex

FORMAT = 1
_MATRICES = ("text", "text_t", "cond", "cond_t", "drug", "drug_t")
_COLUMNS = ("cond_n", "drug_n", "min_age", "max_age", "sex", "recruiting")


@dataclass(frozen=True)
class SimilarMeta:
    format: int
    index_id: str
    mark: int
    backend: str
    rules_digest: str
    n: int


def save(directory: Path, index: SimilarIndex, meta: SimilarMeta) -> Path:
    """Publish a built index (``index.ready()`` first) as the current snapshot."""
    index.ready()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"similar-{meta.mark}-{uuid.uuid4().hex[:8]}"
    tmp = directory / f".tmp-{name}"
    tmp.mkdir()
    for attr in _MATRICES:
        matrix: sparse.csr_matrix = getattr(index, attr)
        for part in ("data", "indices", "indptr"):
            np.save(tmp / f"{attr}.{part}.npy", getattr(matrix, part))
    for attr in _COLUMNS:
        np.save(tmp / f"{attr}.npy", getattr(index, attr))
    if index.embeddings is not None:
        np.save(tmp / "embeddings.npy", index.embeddings)
    shapes = {attr: list(getattr(index, attr).shape) for attr in _MATRICES}
    listed: dict[str, Any] = {"shapes": shapes}
    nums = np.asarray([int(i[3:]) if i[3:].isdigit() else -1 for i in index.ids],
                      dtype=np.int64)
    if NctIds.fits(index.ids, nums):
        np.save(tmp / "ids.nums.npy", nums)
        np.save(tmp / "ids.order.npy", np.argsort(nums, kind="stable"))
    else:
        listed["ids"] = list(index.ids)
    (tmp / "ids.json").write_bytes(orjson.dumps(listed))
    (tmp / "meta.json").write_text(json.dumps(meta.__dict__))
    os.replace(tmp, directory / name)
    pointer = directory / f".CURRENT-{uuid.uuid4().hex[:8]}"
    pointer.write_text(name)
    os.replace(pointer, directory / "CURRENT")
    for entry in directory.iterdir():
        if entry.name.startswith(("similar-", ".tmp-")) and entry.name != name:
            shutil.rmtree(entry, ignore_errors=True)
    return directory / name


class Positions(Mapping[str, int]):
    """NCT id -> row, over the mapped id numbers and their sorted order (a binary search):
    a worker keeps no per-trial Python strings or dict for it."""

    def __init__(self, nums: np.ndarray, order: np.ndarray) -> None:
        self.nums = nums
        self.order = order

    def _row(self, nct_id: str) -> int | None:
        digits = nct_id[3:]
        if not (nct_id.startswith("NCT") and len(digits) == 8 and digits.isdigit()):
            return None
        num = int(digits)
        at = int(np.searchsorted(self.nums, num, sorter=self.order))
        if at < len(self.order) and int(self.nums[self.order[at]]) == num:
            return int(self.order[at])
        return None

    def __getitem__(self, nct_id: str) -> int:
        row = self._row(nct_id)
        if row is None:
            raise KeyError(nct_id)
        return row

    def get(self, nct_id: str, default: Any = None) -> Any:
        row = self._row(nct_id)
        return default if row is None else row

    def __iter__(self) -> Iterator[str]:
        return (f"NCT{int(n):08d}" for n in self.nums)

    def __len__(self) -> int:
        return len(self.nums)


def current_name(directory: Path) -> str | None:
    try:
        return (directory / "CURRENT").read_text().strip() or None
    except OSError:
        return None


@dataclass
class Opened:
    name: str
    meta: SimilarMeta
    index: SimilarIndex


def load(directory: Path) -> Opened | None:
    """The published snapshot as a ready, read-only index (features not loaded), or None."""
    try:
        name = current_name(directory)
        if name is None:
            return None
        path = directory / name
        meta = SimilarMeta(**json.loads((path / "meta.json").read_text()))
        if meta.format != FORMAT:
            return None
        listed: dict[str, Any] = orjson.loads((path / "ids.json").read_bytes())

        def arr(file: str) -> np.ndarray:
            return np.load(path / file, mmap_mode="r").view(np.ndarray)

        index = SimilarIndex()
        if "ids" in listed:
            index.ids = listed["ids"]
            index.pos = {nct: i for i, nct in enumerate(index.ids)}
        else:
            nums = arr("ids.nums.npy")
            index.ids = NctIds(nums)
            index.pos = Positions(nums, arr("ids.order.npy"))
        for attr in _MATRICES:
            shape = tuple(listed["shapes"][attr])
            matrix = sparse.csr_matrix((arr(f"{attr}.data.npy"), arr(f"{attr}.indices.npy"),
                                        arr(f"{attr}.indptr.npy")), shape=shape, copy=False)
            setattr(index, attr, matrix)
        for attr in _COLUMNS:
            setattr(index, attr, arr(f"{attr}.npy"))
        index.embeddings = arr("embeddings.npy") if (path / "embeddings.npy").is_file() \
            else None
        index._dirty = False
        if len(index.ids) != meta.n:
            return None
        return Opened(name, meta, index)
    except (OSError, ValueError, KeyError, TypeError):
        return None
