"""Building the postings of a large segment in bounded memory: parts on disk, merged k-way.

:class:`~trialscout.search.segment.SegmentBuilder` with a spill directory writes its
postings as *parts* of a bounded number of words, each already term-major (for every term,
its postings in doc order, then their word positions). Parts cover increasing doc ranges
and share one term numbering, so the merged index is, term after term, part 0's postings
of the term, then part 1's, and so on: a k-way merge by term id. It reads every part
sequentially, a block of terms at a time, and appends to ``.npy`` files, so memory holds
one block of postings (plus the per-term counts), never the parts and the merged arrays
together. The output is byte-for-byte what the in-memory build makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

BLOCK_POSTINGS = 1 << 20
_STREAMS = (("tcount", np.int64), ("t_doc", np.int32), ("t_tf", np.float32),
            ("cnt", np.int32), ("pos", np.uint32))


@dataclass(frozen=True)
class Part:
    """One flushed part: its files and sizes."""

    stem: Path
    n_terms: int
    n_postings: int
    n_words: int

    def file(self, stream: str) -> Path:
        return self.stem.with_name(f"{self.stem.name}.{stream}.bin")


def write_part(stem: Path, n_terms: int, p_doc: np.ndarray, p_term: np.ndarray,
               p_tf: np.ndarray, p_cnt: np.ndarray, pos: np.ndarray) -> Part:
    """Write doc-major postings (with positions) as one term-major part."""
    perm = np.argsort(p_term, kind="stable")
    cnt = p_cnt[perm]
    arrays = {
        "tcount": np.bincount(p_term, minlength=n_terms).astype(np.int64),
        "t_doc": p_doc[perm].astype(np.int32),
        "t_tf": p_tf[perm].astype(np.float32),
        "cnt": cnt.astype(np.int32),
        "pos": _term_major_positions(pos, p_cnt, perm, cnt.astype(np.int64)),
    }
    part = Part(stem, n_terms, len(perm), int(cnt.sum(dtype=np.int64)))
    for stream, dtype in _STREAMS:
        np.ascontiguousarray(arrays[stream], dtype=dtype).tofile(part.file(stream))
    return part


class _PartReader:
    """Sequential reads of one part's streams (plain reads: nothing stays mapped)."""

    def __init__(self, part: Part) -> None:
        self.part = part
        self.files = {s: part.file(s).open("rb") for s, _ in _STREAMS}
        self.term = 0

    def counts(self, t1: int) -> np.ndarray:
        """This part's posting counts for terms [self.term, t1) (zero past its terms)."""
        t0 = self.term
        self.term = t1
        have = max(0, min(t1, self.part.n_terms) - t0)
        out = np.zeros(t1 - t0, dtype=np.int64)
        if have:
            out[:have] = _read(self.files["tcount"], np.int64, have)
        return out

    def read(self, stream: str, count: int) -> np.ndarray:
        return _read(self.files[stream], dict(_STREAMS)[stream], count)

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def _read(f: BinaryIO, dtype: type, count: int) -> np.ndarray:
    out: np.ndarray = np.fromfile(f, dtype=dtype, count=count)
    if len(out) != count:
        raise OSError(f"index part {getattr(f, 'name', '?')} is shorter than expected")
    return out


class _NpyWriter:
    """Appends to a 1-d ``.npy`` file whose length is known up front."""

    def __init__(self, path: Path, dtype: type, length: int) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self.length = length
        self.written = 0
        self.f = path.open("wb")
        np.lib.format.write_array_header_1_0(self.f, {
            "descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
            "shape": (length,)})

    def write(self, data: np.ndarray) -> None:
        np.ascontiguousarray(data, dtype=self.dtype).tofile(self.f)
        self.written += len(data)

    def close(self) -> None:
        self.f.close()
        if self.written != self.length:
            raise OSError(f"{self.path}: wrote {self.written} of {self.length} values")


def total_counts(parts: list[Part], n_terms: int) -> np.ndarray:
    total = np.zeros(n_terms, dtype=np.int64)
    for part in parts:
        with part.file("tcount").open("rb") as f:
            total[:part.n_terms] += _read(f, np.int64, part.n_terms)
    return total


def merge(parts: list[Part], n_terms: int, out_dir: Path) -> dict[str, np.ndarray]:
    """Merge ``parts`` into ``t_doc``, ``t_tf``, ``p_ptr`` and ``p_pos`` files in ``out_dir``
    (memory-mapped in the result) and ``t_ptr`` (in memory)."""
    totals = total_counts(parts, n_terms)
    t_ptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(totals, out=t_ptr[1:])
    n_postings = int(t_ptr[-1])
    n_words = sum(p.n_words for p in parts)
    ptr_type = np.uint32 if n_words < 2**32 - 1 else np.int64
    writers = {"t_doc": _NpyWriter(out_dir / "t_doc.npy", np.int32, n_postings),
               "t_tf": _NpyWriter(out_dir / "t_tf.npy", np.float32, n_postings),
               "p_ptr": _NpyWriter(out_dir / "p_ptr.npy", ptr_type, n_postings + 1),
               "p_pos": _NpyWriter(out_dir / "p_pos.npy", np.uint32, n_words)}
    readers = [_PartReader(p) for p in parts]
    try:
        writers["p_ptr"].write(np.zeros(1, dtype=np.int64))
        word_offset = 0
        t0 = 0
        while t0 < n_terms:
            t1 = int(np.searchsorted(t_ptr, t_ptr[t0] + BLOCK_POSTINGS, side="right")) - 1
            t1 = min(max(t1, t0 + 1), n_terms)
            terms, docs, tfs, cnts, poss = [], [], [], [], []
            for reader in readers:
                counts = reader.counts(t1)
                n = int(counts.sum())
                if not n:
                    continue
                cnt = reader.read("cnt", n)
                terms.append(np.repeat(np.arange(t0, t1, dtype=np.int64), counts))
                docs.append(reader.read("t_doc", n))
                tfs.append(reader.read("t_tf", n))
                cnts.append(cnt)
                poss.append(reader.read("pos", int(cnt.sum(dtype=np.int64))))
            if terms:
                perm = np.argsort(np.concatenate(terms), kind="stable")
                cnt_all = np.concatenate(cnts)
                new_cnt = cnt_all[perm].astype(np.int64)
                writers["t_doc"].write(np.concatenate(docs)[perm])
                writers["t_tf"].write(np.concatenate(tfs)[perm])
                writers["p_pos"].write(_term_major_positions(np.concatenate(poss), cnt_all,
                                                             perm, new_cnt))
                writers["p_ptr"].write(np.cumsum(new_cnt) + word_offset)
                word_offset += int(new_cnt.sum())
            t0 = t1
    finally:
        for reader in readers:
            reader.close()
        for w in writers.values():
            w.f.close()
    for w in writers.values():
        w.close()
    out: dict[str, np.ndarray] = {"t_ptr": t_ptr}
    for name in writers:
        out[name] = np.load(out_dir / f"{name}.npy", mmap_mode="r").view(np.ndarray)
    return out


def remove_parts(parts: list[Part]) -> None:
    for part in parts:
        for stream, _ in _STREAMS:
            part.file(stream).unlink(missing_ok=True)


POSITION_BLOCK = 1 << 20


def _term_major_positions(pos: np.ndarray, counts: np.ndarray, perm: np.ndarray,
                          new_counts: np.ndarray) -> np.ndarray:
    """Reorder the word positions from doc-major posting order to term-major (``perm``).

    Done a block of postings at a time: gathering all at once needs two int64 index
    arrays as long as the positions themselves (16 bytes a word), which at registry size
    is most of the build's peak memory.
    """
    old_start = np.cumsum(counts, dtype=np.int64) - counts
    new_start = np.cumsum(new_counts) - new_counts
    out = np.empty(int(new_counts.sum()), dtype=pos.dtype)
    for block in range(0, len(perm), POSITION_BLOCK):
        sel = perm[block:block + POSITION_BLOCK]
        n_words = new_counts[block:block + POSITION_BLOCK]
        if not len(sel):
            continue
        first = int(new_start[block])
        size = int(n_words.sum())
        local_start = new_start[block:block + POSITION_BLOCK] - first
        index = np.repeat(old_start[sel] - local_start, n_words) + np.arange(size,
                                                                             dtype=np.int64)
        out[first:first + size] = pos[index]
    return out
