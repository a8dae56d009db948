"""An immutable slice of the search index: a positional inverted index plus filter columns.

The text part is a term-major (CSC-like) sparse layout: for term ``t`` the postings
``t_doc[t_ptr[t]:t_ptr[t+1]]`` are local doc numbers in increasing order, ``t_tf`` their
weighted term frequency (integer field weights summed), and the word positions of posting
``k`` are ``p_pos[p_ptr[k]:p_ptr[k+1]]``. Text chunks are separated by a position gap so a
phrase never spans two fields or two list items.

A store has one large *main* segment (built in one pass, saved as a snapshot) and at most
one small *delta* segment holding the trials changed since; the delta's vocabularies extend
the main ones, so term and value ids mean the same thing in both.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trialscout.search.analysis import Analyzer, words
from trialscout.search.documents import SearchDoc, value_key
from trialscout.search.merge import (
    Part,
    _term_major_positions,
    merge,
    remove_parts,
    write_part,
)
from trialscout.search.rules import SearchRules
from trialscout.search.vocab import MappedVocab, Vocab

GAP = 16
SEXES = ("ALL", "FEMALE", "MALE")
MULTI_FIELDS = ("phase", "condition", "condition_match", "intervention", "intervention_match",
                "sponsor", "country")
DICT_NAMES = ("status", "study_type", "phase", "condition", "condition_match", "intervention",
              "intervention_match", "sponsor", "country", "site_status", "state", "city")
SCALARS = ("status", "study_type", "sex", "min_age", "max_age", "hv", "has_results",
           "start_day", "update_day")
SITE_COLUMNS = ("site_doc", "site_pos", "site_status", "site_country", "site_state",
                "site_city", "site_lat", "site_lon")
NO_DAY = 0
SCALAR_TYPES: dict[str, type] = {
    "status": np.int32, "study_type": np.int32, "sex": np.int8, "min_age": np.float64,
    "max_age": np.float64, "hv": np.int8, "has_results": np.bool_, "start_day": np.int32,
    "update_day": np.int32}
SITE_TYPES: dict[str, type] = {"site_lat": np.float64, "site_lon": np.float64}
PART_WORDS = 4_000_000
WRITTEN_FILES = "written_files"


@dataclass
class Segment:
    n: int
    nct_ids: Sequence[str]
    nct_num: np.ndarray
    terms: Vocab | MappedVocab
    surface: Vocab | MappedVocab
    surface_term: np.ndarray
    surface_sorted: Sequence[str]
    surface_sorted_ids: np.ndarray
    t_ptr: np.ndarray
    t_doc: np.ndarray
    t_tf: np.ndarray
    p_ptr: np.ndarray
    p_pos: np.ndarray
    dl: np.ndarray
    scalars: dict[str, np.ndarray]
    multi: dict[str, tuple[np.ndarray, np.ndarray]]
    sites: dict[str, np.ndarray]
    dicts: dict[str, Vocab | MappedVocab]
    extra: dict[object, object] = field(default_factory=dict)

    def postings(self, term: int) -> tuple[int, int]:
        if term + 1 >= len(self.t_ptr):
            return 0, 0
        return int(self.t_ptr[term]), int(self.t_ptr[term + 1])

    def words_with_prefix(self, prefix: str) -> list[int]:
        """Surface-word ids (in this segment's own part of the vocabulary) starting with prefix."""
        lo = bisect.bisect_left(self.surface_sorted, prefix)
        hi = bisect.bisect_left(self.surface_sorted, prefix + "\uffff")
        return [int(i) for i in self.surface_sorted_ids[lo:hi]]


class SegmentBuilder:
    """Accumulates documents (in NCT id order) batch by batch and emits one Segment."""

    def __init__(self, analyzer: Analyzer, rules: SearchRules, base: Segment | None = None,
                 *, spill_dir: Path | None = None, part_words: int = PART_WORDS) -> None:
        self.analyzer = analyzer
        self.spill_dir = spill_dir
        self.part_words = part_words
        self._parts: list[Part] = []
        self._held_words = 0
        self.weights = rules.field_weights
        self.base = base
        self.terms = Vocab(base.terms if base else None)
        self.surface = Vocab(base.surface if base else None)
        self.surface_term: list[int] = []
        self.dicts = {name: Vocab(base.dicts[name] if base else None) for name in DICT_NAMES}
        self.n = 0
        self.nct_ids: list[str] = []
        self._posts: list[tuple[np.ndarray, ...]] = []
        self._dl: list[np.ndarray] = []
        self._scalars: dict[str, list[float]] = {name: [] for name in SCALARS}
        self._multi: dict[str, tuple[list[int], list[int]]] = {
            name: ([], []) for name in MULTI_FIELDS}
        self._sites: dict[str, list[float]] = {name: [] for name in SITE_COLUMNS}
        self._columns: dict[str, list[np.ndarray]] = {}

    # --- text ---------------------------------------------------------------------------
    def _word_ids(self, batch_words: list[str]) -> np.ndarray:
        local: dict[str, int] = {}
        unseen: list[str] = []
        for w in set(batch_words):
            sid = self.surface.get(w)
            if sid is None:
                unseen.append(w)
            else:
                local[w] = self._term_of_surface(sid)
        if unseen:
            unseen.sort()
            for w, stem in zip(unseen, self.analyzer.stems(unseen), strict=True):
                tid = self.terms.add(stem)
                self.surface.add(w)
                self.surface_term.append(tid)
                local[w] = tid
        return np.fromiter(map(local.__getitem__, batch_words), dtype=np.int64,
                           count=len(batch_words))

    def _term_of_surface(self, sid: int) -> int:
        if self.base is not None and sid < self.surface.offset:
            return int(self.base.surface_term[sid])
        return self.surface_term[sid - self.surface.offset]

    def add_batch(self, docs: Iterable[SearchDoc]) -> None:
        batch_words: list[str] = []
        c_len: list[int] = []
        c_weight: list[int] = []
        c_doc: list[int] = []
        c_start: list[int] = []
        first = self.n
        for doc in docs:
            local = self.n - first
            offset = 0
            for name, text in doc.chunks:
                found = words(text)
                if not found:
                    continue
                batch_words.extend(found)
                c_len.append(len(found))
                c_weight.append(self.weights[name])
                c_doc.append(local)
                c_start.append(offset)
                offset += len(found) + GAP
            self._add_attributes(doc)
            self.nct_ids.append(doc.nct_id)
            self.n += 1
        count = self.n - first
        self._pack_columns()
        if not batch_words:
            self._dl.append(np.zeros(count, dtype=np.float64))
            return
        tids = self._word_ids(batch_words)
        lens = np.asarray(c_len, dtype=np.int64)
        doc_idx = np.repeat(np.asarray(c_doc, dtype=np.int64), lens)
        weight = np.repeat(np.asarray(c_weight, dtype=np.float64), lens)
        chunk_first = np.repeat(np.cumsum(lens) - lens, lens)
        positions = np.repeat(np.asarray(c_start, dtype=np.int64), lens) + (
            np.arange(len(batch_words), dtype=np.int64) - chunk_first)
        self._dl.append(np.bincount(doc_idx, weights=weight, minlength=count))
        key = doc_idx * (1 << 32) + tids
        order = np.argsort(key, kind="stable")
        key = key[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ends = np.r_[starts[1:], len(key)]
        self._posts.append((
            (doc_idx[order][starts] + first).astype(np.int32),
            tids[order][starts].astype(np.int32),
            np.add.reduceat(weight[order], starts).astype(np.float32),
            (ends - starts).astype(np.int32),
            positions[order].astype(np.uint32),
        ))
        self._held_words += len(batch_words)
        if self.spill_dir is not None and self._held_words >= self.part_words:
            self._spill()

    def _spill(self) -> None:
        """Write the postings held so far as one term-major part (see :mod:`.merge`)."""
        assert self.spill_dir is not None
        if not self._posts:
            return
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        arrays = [np.concatenate(parts) for parts in zip(*self._posts, strict=True)]
        self._posts = []
        self._held_words = 0
        self._parts.append(write_part(self.spill_dir / f"part-{len(self._parts):05d}",
                                      len(self.terms), *arrays))

    def _pack_columns(self) -> None:
        """Move the batch's attribute lists into numpy chunks (8 bytes a value, not ~32)."""
        cols = self._columns
        for name, values in self._scalars.items():
            cols.setdefault(name, []).append(np.asarray(values, dtype=SCALAR_TYPES[name]))
            values.clear()
        for name, (docs, vals) in self._multi.items():
            cols.setdefault(f"{name}.docs", []).append(np.asarray(docs, dtype=np.int32))
            cols.setdefault(f"{name}.vals", []).append(np.asarray(vals, dtype=np.int32))
            docs.clear()
            vals.clear()
        for name, values in self._sites.items():
            cols.setdefault(name, []).append(
                np.asarray(values, dtype=SITE_TYPES.get(name, np.int32)))
            values.clear()

    def _column(self, name: str, dtype: type) -> np.ndarray:
        chunks = self._columns.get(name, [])
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)

    # --- attributes ---------------------------------------------------------------------
    def _value(self, name: str, text: str | None) -> int:
        if text is None or not text.strip():
            return -1
        return self.dicts[name].add(value_key(text), " ".join(text.split()))

    def _add_attributes(self, doc: SearchDoc) -> None:
        s = self._scalars
        s["status"].append(self._value("status", doc.status))
        s["study_type"].append(self._value("study_type", doc.study_type))
        s["sex"].append(SEXES.index(doc.sex) if doc.sex in SEXES else 0)
        s["min_age"].append(np.nan if doc.min_age_days is None else doc.min_age_days)
        s["max_age"].append(np.nan if doc.max_age_days is None else doc.max_age_days)
        s["hv"].append(-1 if doc.healthy_volunteers is None else int(doc.healthy_volunteers))
        s["has_results"].append(int(doc.has_results))
        s["start_day"].append(doc.start_day or NO_DAY)
        s["update_day"].append(doc.update_day or NO_DAY)
        lists = {"phase": doc.phases, "condition": doc.conditions,
                 "condition_match": doc.condition_match, "intervention": doc.interventions,
                 "intervention_match": doc.intervention_match, "sponsor": doc.sponsors,
                 "country": doc.countries}
        for name, values in lists.items():
            docs, vals = self._multi[name]
            seen: set[int] = set()
            for v in values:
                vid = self._value(name, v)
                if vid >= 0 and vid not in seen:
                    seen.add(vid)
                    docs.append(self.n)
                    vals.append(vid)
        site = self._sites
        for sd in doc.sites:
            site["site_doc"].append(self.n)
            site["site_pos"].append(sd.position)
            site["site_status"].append(self._value("site_status", sd.status))
            site["site_country"].append(self._value("country", sd.country))
            site["site_state"].append(self._value("state", sd.state))
            site["site_city"].append(self._value("city", sd.city))
            site["site_lat"].append(np.nan if sd.lat is None else sd.lat)
            site["site_lon"].append(np.nan if sd.lon is None else sd.lon)

    # --- output -------------------------------------------------------------------------
    def finish(self) -> Segment:
        self._pack_columns()
        n_terms = len(self.terms)
        if self._parts:
            assert self.spill_dir is not None
            self._spill()
            text = merge(self._parts, n_terms, self.spill_dir.parent)
            remove_parts(self._parts)
            self._parts = []
            t_ptr, t_doc, t_tf = text["t_ptr"], text["t_doc"], text["t_tf"]
            p_ptr, p_pos = text["p_ptr"], text["p_pos"]
            files = {"t_doc", "t_tf", "p_ptr", "p_pos"}
        else:
            t_ptr, t_doc, t_tf, p_ptr, p_pos = self._text_in_memory(n_terms)
            files = set()
        surface_keys = self.surface.keys
        order = sorted(range(len(surface_keys)), key=surface_keys.__getitem__)
        segment = Segment(
            n=self.n,
            nct_ids=self.nct_ids,
            nct_num=np.asarray([int(i[3:]) for i in self.nct_ids], dtype=np.int64),
            terms=self.terms,
            surface=self.surface,
            surface_term=np.asarray(self.surface_term, dtype=np.int64),
            surface_sorted=[surface_keys[i] for i in order],
            surface_sorted_ids=np.asarray(order, dtype=np.int64) + self.surface.offset,
            t_ptr=t_ptr,
            t_doc=t_doc,
            t_tf=t_tf,
            p_ptr=p_ptr,
            p_pos=p_pos,
            dl=np.concatenate(self._dl) if self._dl else np.zeros(0, np.float64),
            scalars={k: self._column(k, SCALAR_TYPES[k]) for k in SCALARS},
            multi={k: (self._column(f"{k}.docs", np.int32), self._column(f"{k}.vals", np.int32))
                   for k in MULTI_FIELDS},
            sites={k: self._column(k, SITE_TYPES.get(k, np.int32)) for k in SITE_COLUMNS},
            dicts=dict(self.dicts),
        )
        self._columns = {}
        if files:
            segment.extra[WRITTEN_FILES] = (str(self.spill_dir.parent) if self.spill_dir
                                            else "", frozenset(files))
        return segment

    def _text_in_memory(self, n_terms: int) -> tuple[np.ndarray, ...]:
        if self._posts:
            p_doc, p_term, p_tf, p_cnt, pos = (np.concatenate(parts)
                                               for parts in zip(*self._posts, strict=True))
        else:
            p_doc = np.zeros(0, np.int32)
            p_term = np.zeros(0, np.int32)
            p_tf = np.zeros(0, np.float32)
            p_cnt = np.zeros(0, np.int32)
            pos = np.zeros(0, np.uint32)
        self._posts = []
        perm = np.argsort(p_term, kind="stable")
        t_ptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(p_term, minlength=n_terms), out=t_ptr[1:])
        cnt = p_cnt[perm].astype(np.int64)
        total = int(cnt.sum())
        p_pos = _term_major_positions(pos, p_cnt, perm, cnt)
        del pos
        ptr_type = np.uint32 if total < 2**32 - 1 else np.int64
        p_ptr = np.zeros(len(cnt) + 1, dtype=ptr_type)
        np.cumsum(cnt, out=p_ptr[1:])
        return t_ptr, p_doc[perm], p_tf[perm], p_ptr, p_pos


def build_segment(docs: Iterable[SearchDoc], analyzer: Analyzer, rules: SearchRules,
                  base: Segment | None = None, batch: int = 2000, *,
                  spill_dir: Path | None = None, part_words: int = PART_WORDS) -> Segment:
    """One segment from ``docs`` (in NCT id order). With ``spill_dir`` the postings go to
    disk in parts of ``part_words`` words and are merged into ``spill_dir``'s parent, whose
    ``.npy`` files the returned segment maps (see :mod:`trialscout.search.merge`)."""
    builder = SegmentBuilder(analyzer, rules, base, spill_dir=spill_dir,
                             part_words=part_words)
    chunk: list[SearchDoc] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) >= batch:
            builder.add_batch(chunk)
            chunk = []
    if chunk:
        builder.add_batch(chunk)
    return builder.finish()
