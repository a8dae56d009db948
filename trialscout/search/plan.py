"""From a parsed query to matching docs and BM25F scores over an :class:`IndexView`.

Compilation stems words, adds spelling variants ("covid-19" / "covid19") and synonym
alternatives; evaluation works on sorted arrays of global doc numbers. Scoring:

* a word scores BM25F (weighted field frequencies, one saturation, one length norm);
* a phrase scores the sum of its words' scores, in the docs where the words are adjacent;
* alternatives of one meaning (spellings, synonyms, prefix expansions) score their best;
* AND and OR add their children's scores; NOT removes docs and scores nothing.

Document frequencies ignore filters, so a trial's score never depends on the filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trialscout.search.analysis import Analyzer, spellings
from trialscout.search.query import (
    AnyOf,
    Node,
    Not,
    ParsedQuery,
    Phrase,
    Prefix,
    Sequence,
    Words,
)
from trialscout.search.rules import QueryRules
from trialscout.search.synonyms import SynonymIndex
from trialscout.search.view import IndexView, Postings


@dataclass(frozen=True)
class PTerm:
    stem: str
    weight: float = 1.0


@dataclass(frozen=True)
class PPhrase:
    """Words at fixed distances; ``offsets`` (default 0, 1, 2, ...) skip stopwords, which
    are not checked: "carcinoma of the breast" is carcinoma at p and breast at p + 3."""

    stems: tuple[str, ...]
    offsets: tuple[int, ...] | None = None


@dataclass(frozen=True)
class PPrefix:
    prefix: str


@dataclass(frozen=True)
class PAll:
    pass


@dataclass(frozen=True)
class PAnd:
    children: tuple[Plan, ...]
    negatives: tuple[Plan, ...] = ()


@dataclass(frozen=True)
class POr:
    children: tuple[Plan, ...]


@dataclass(frozen=True)
class PMax:
    children: tuple[Plan, ...]


Plan = PTerm | PPhrase | PPrefix | PAll | PAnd | POr | PMax


# --- compilation ------------------------------------------------------------------------

@dataclass
class Compiler:
    analyzer: Analyzer
    synonyms: SynonymIndex
    stopwords: frozenset[str]
    rules: QueryRules

    def compile(self, parsed: ParsedQuery) -> Plan:
        if parsed.mode == "any":
            return self._free_text(parsed.root)
        return self._sequence(parsed.root)

    # plain word sequences ---------------------------------------------------------------
    def _seq_tokens(self, tokens: list[str]) -> Plan:
        stems = self.analyzer.stems(tokens)
        if len(stems) == 1:
            return PTerm(stems[0])
        keep = [i for i, t in enumerate(tokens) if t not in self.stopwords] or \
            list(range(len(tokens)))
        if len(keep) == 1:
            return PTerm(stems[keep[0]])
        if len(keep) == len(stems):
            return PPhrase(tuple(stems))
        return PPhrase(tuple(stems[i] for i in keep), tuple(k - keep[0] for k in keep))

    def _alternatives(self, variants: list[list[str]]) -> Plan:
        plans: list[Plan] = []
        for variant in variants:
            plan = self._seq_tokens(variant)
            if plan not in plans:
                plans.append(plan)
        return plans[0] if len(plans) == 1 else PMax(tuple(plans))

    def _words(self, node: Words) -> Plan:
        return self._alternatives(spellings(list(node.tokens)))

    def _form(self, form: tuple[str, ...]) -> Plan:
        variants = [spellings(list(form))[0], list(form)]
        return self._alternatives(variants)

    def _key(self, tokens: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.analyzer.stems(spellings(list(tokens))[0]))

    def _concept_span(self, nodes: list[Words], start: int) -> tuple[int, set[str]]:
        """Longest run of words from ``start`` that names a concept: (length, concepts)."""
        if not self.synonyms.max_len:
            return 0, set()
        keys: list[tuple[str, ...]] = []
        for node in nodes[start:start + self.synonyms.max_len]:
            keys.append(self._key(node.tokens))
        for end in range(len(keys), 0, -1):
            key = tuple(s for k in keys[:end] for s in k)
            if len(key) > self.synonyms.max_len:
                continue
            raw = nodes[start].raw if end == 1 else None
            found = self.synonyms.concepts(key, raw)
            if found:
                return end, found
        return 0, set()

    def _expand(self, original: Plan, concepts: set[str]) -> Plan:
        """``original`` or any form of the concepts. A form holding every stem of the
        original matches only docs the original already matches (a phrase is the sum of its
        words), so it is left out: "breast cancer" keeps "breast carcinoma" and drops
        "metastatic breast cancer"."""
        options: list[Plan] = [original]
        covered = _plain_stems(original)
        for form in self.synonyms.expansions(concepts):
            plan = self._form(form)
            if covered and covered <= _all_stems(plan):
                continue
            if plan not in options:
                options.append(plan)
        return options[0] if len(options) == 1 else PMax(tuple(options))

    def _group(self, nodes: tuple[Node, ...]) -> list[Plan]:
        plans: list[Plan] = []
        i = 0
        while i < len(nodes):
            node = nodes[i]
            if isinstance(node, Words):
                run: list[Words] = []
                j = i
                while j < len(nodes) and isinstance(nodes[j], Words):
                    run.append(nodes[j])  # type: ignore[arg-type]
                    j += 1
                k = 0
                while k < len(run):
                    length, concepts = self._concept_span(run, k)
                    if length:
                        span = [self._words(w) for w in run[k:k + length]]
                        original = span[0] if len(span) == 1 else PAnd(tuple(span))
                        plans.append(self._expand(original, concepts))
                        k += length
                        continue
                    word = run[k]
                    if not (len(word.tokens) == 1 and word.tokens[0] in self.stopwords):
                        plans.append(self._words(word))
                    else:
                        plans.append(_STOP)
                    k += 1
                i = j
                continue
            plans.append(self._node(node))
            i += 1
        return plans

    def _node(self, node: Node) -> Plan:
        if isinstance(node, Words):
            plan = self._group((node,))[0]
            return self._words(node) if plan is _STOP else plan
        if isinstance(node, Phrase):
            plan = self._seq_tokens(list(node.tokens))
            key = self._key(node.tokens)
            found = self.synonyms.concepts(key)
            return self._expand(plan, found) if found else plan
        if isinstance(node, Prefix):
            last = PPrefix(node.tokens[-1])
            if len(node.tokens) == 1:
                return last
            return PAnd((*(PTerm(s) for s in self.analyzer.stems(list(node.tokens[:-1]))),
                         last))
        if isinstance(node, AnyOf):
            return POr(tuple(self._node(c) for c in node.children))
        if isinstance(node, Not):
            return PAnd((PAll(),), (self._node(node.child),))
        return self._sequence(node)

    def _sequence(self, seq: Sequence) -> Plan:
        positives: list[Plan] = []
        for group in seq.groups:
            positives.extend(self._group(group))
        content = [p for p in positives if p is not _STOP]
        if not content:
            content = [self._words_plan_of_stop(seq)] if positives else []
        negatives = tuple(self._node(n) for n in seq.negatives)
        if not content:
            return PAnd((PAll(),), negatives)
        if len(content) == 1 and not negatives:
            return content[0]
        return PAnd(tuple(content), negatives)

    def _words_plan_of_stop(self, seq: Sequence) -> Plan:
        """A query of stopwords only ("the who") searches them after all."""
        words = [w for g in seq.groups for w in g if isinstance(w, Words)]
        plans = [self._words(w) for w in words]
        return plans[0] if len(plans) == 1 else PAnd(tuple(plans))

    # free text --------------------------------------------------------------------------
    def _free_text(self, seq: Sequence) -> Plan:
        tokens = [Words(t, (t,)) for g in seq.groups for w in g if isinstance(w, Words)
                  for t in w.tokens]
        counts: dict[Plan, float] = {}
        k = 0
        expand = self.rules.expand_free_text
        while k < len(tokens):
            length, concepts = self._concept_span(tokens, k) if expand else (0, set())
            if length > 1 or (length == 1 and concepts):
                span = tokens[k:k + length]
                original_terms = [PTerm(s) for s in self.analyzer.stems(
                    [w.tokens[0] for w in span]) if s not in self.stopwords]
                if not original_terms:
                    original_terms = [PTerm(s) for s in self.analyzer.stems(
                        [w.tokens[0] for w in span])]
                original: Plan = (original_terms[0] if len(original_terms) == 1
                                  else POr(tuple(original_terms)))
                plan = self._expand(original, concepts)
                counts[plan] = counts.get(plan, 0.0) + 1.0
                k += length
                continue
            word = tokens[k].tokens[0]
            if word not in self.stopwords:
                plan = PTerm(self.analyzer.stem(word))
                counts[plan] = counts.get(plan, 0.0) + 1.0
            k += 1
        if not counts and tokens:
            for w in tokens:
                plan = PTerm(self.analyzer.stem(w.tokens[0]))
                counts[plan] = counts.get(plan, 0.0) + 1.0
        children = tuple(PTerm(p.stem, c) if isinstance(p, PTerm) else
                         (p if c == 1 else POr((p,) * int(c)))
                         for p, c in counts.items())
        if not children:
            return PAll()
        return children[0] if len(children) == 1 else POr(children)


_STOP = PAll()


def _plain_stems(plan: Plan) -> set[str]:
    """Stems a plan requires when it is a word or an AND of words (else the empty set)."""
    if isinstance(plan, PTerm):
        return {plan.stem}
    if isinstance(plan, PAnd) and not plan.negatives and all(
            isinstance(c, PTerm) for c in plan.children):
        return {c.stem for c in plan.children if isinstance(c, PTerm)}
    return set()


def _all_stems(plan: Plan) -> set[str]:
    """Stems every match of ``plan`` contains (for alternatives: those all of them share)."""
    if isinstance(plan, PTerm):
        return {plan.stem}
    if isinstance(plan, PPhrase):
        return set(plan.stems)
    if isinstance(plan, PAnd):
        return set().union(*(_all_stems(c) for c in plan.children))
    if isinstance(plan, POr | PMax) and plan.children:
        shared = _all_stems(plan.children[0])
        for child in plan.children[1:]:
            shared &= _all_stems(child)
        return shared
    return set()


# --- evaluation -------------------------------------------------------------------------

Result = tuple[np.ndarray, np.ndarray]
_EMPTY_DOCS = np.zeros(0, np.int64)


def _empty() -> Result:
    return _EMPTY_DOCS, np.zeros(0, np.float64)


@dataclass
class Executor:
    view: IndexView
    within: np.ndarray | None
    max_prefix_expansions: int
    _postings: dict[int, Postings] = field(default_factory=dict)
    _scores: dict[int, np.ndarray] = field(default_factory=dict)

    def run(self, plan: Plan) -> Result:
        return self._eval(plan, self.within)

    # postings, cached per query ---------------------------------------------------------
    def _term(self, stem: str) -> int | None:
        return self.view.term_id(stem)

    def _base(self, tid: int) -> tuple[Postings, np.ndarray]:
        p = self._postings.get(tid)
        if p is None:
            p = self.view.postings(tid, self.within)
            self._postings[tid] = p
            self._scores[tid] = self.view.bm25(p)
        return p, self._scores[tid]

    def _restricted(self, tid: int, mask: np.ndarray | None) -> tuple[Postings, np.ndarray]:
        p, s = self._base(tid)
        if mask is None or mask is self.within or len(p.docs) == 0:
            return p, s
        keep = np.flatnonzero(mask[p.docs])
        if len(keep) == len(p.docs):
            return p, s
        return Postings(p.docs[keep], p.tf[keep], p.df, p.seg[keep], p.k[keep]), s[keep]

    def _estimate(self, plan: Plan) -> int:
        if isinstance(plan, PTerm):
            tid = self._term(plan.stem)
            if tid is None:
                return 0
            return sum(seg.postings(tid)[1] - seg.postings(tid)[0]
                       for seg in self.view.segments)
        if isinstance(plan, PPhrase):
            return min((self._estimate(PTerm(s)) for s in plan.stems), default=0)
        if isinstance(plan, PAnd):
            return min((self._estimate(c) for c in plan.children), default=self.view.n)
        if isinstance(plan, POr | PMax):
            return sum(self._estimate(c) for c in plan.children)
        return self.view.n

    # nodes ------------------------------------------------------------------------------
    def _eval(self, plan: Plan, mask: np.ndarray | None) -> Result:
        if isinstance(plan, PTerm):
            tid = self._term(plan.stem)
            if tid is None:
                return _empty()
            p, s = self._restricted(tid, mask)
            return p.docs, s * plan.weight if plan.weight != 1.0 else s
        if isinstance(plan, PPhrase):
            return self._phrase(plan, mask)
        if isinstance(plan, PPrefix):
            tids = self.view.prefix_terms(plan.prefix, self.max_prefix_expansions)
            parts = [self._restricted(t, mask) for t in tids]
            return _combine_max([(p.docs, s) for p, s in parts], self.view.n)
        if isinstance(plan, PAll):
            alive = self.view.live if mask is None else (self.view.live & mask)
            docs = np.flatnonzero(alive)
            return docs, np.zeros(len(docs), np.float64)
        if isinstance(plan, POr):
            return _combine_sum([self._eval(c, mask) for c in plan.children], self.view.n)
        if isinstance(plan, PMax):
            return _combine_max([self._eval(c, mask) for c in plan.children], self.view.n)
        return self._and(plan, mask)

    def _and(self, plan: PAnd, mask: np.ndarray | None) -> Result:
        order = sorted(plan.children, key=self._estimate)
        docs, scores = self._eval(order[0], mask)
        for child in order[1:]:
            if len(docs) == 0:
                return _empty()
            narrowed = np.zeros(self.view.n, dtype=bool)
            narrowed[docs] = True
            c_docs, c_scores = self._eval(child, narrowed)
            idx = np.searchsorted(docs, c_docs)
            docs, scores = c_docs, scores[idx] + c_scores
        for negative in plan.negatives:
            if len(docs) == 0:
                break
            narrowed = np.zeros(self.view.n, dtype=bool)
            narrowed[docs] = True
            n_docs, _ = self._eval(negative, narrowed)
            if len(n_docs):
                narrowed[:] = False
                narrowed[n_docs] = True
                keep = ~narrowed[docs]
                docs, scores = docs[keep], scores[keep]
        return docs, scores

    def _phrase(self, plan: PPhrase, mask: np.ndarray | None) -> Result:
        tids = [self._term(s) for s in plan.stems]
        if any(t is None for t in tids):
            return _empty()
        parts = [self._restricted(t, mask) for t in tids if t is not None]
        if len(parts) == 1:
            p, s = parts[0]
            return p.docs, s
        order = sorted(range(len(parts)), key=lambda i: len(parts[i][0].docs))
        cand = parts[order[0]][0].docs
        for i in order[1:]:
            cand = cand[_member_docs(cand, parts[i][0].docs, self.view.n)]
            if len(cand) == 0:
                return _empty()
        offsets = plan.offsets or tuple(range(len(parts)))
        keys: np.ndarray | None = None
        for i in order:
            p = parts[i][0]
            shift = offsets[i]
            k = _position_keys(self.view, p, np.searchsorted(p.docs, cand), shift)
            keys = k if keys is None else keys[_member_sorted(keys, k)]
            if len(keys) == 0:
                return _empty()
            cand = _distinct_docs(keys)
        assert keys is not None
        docs = _distinct_docs(keys)
        scores = np.zeros(len(docs), np.float64)
        for p, s in parts:
            scores += s[np.searchsorted(p.docs, docs)]
        return docs, scores


def _position_keys(view: IndexView, p: Postings, rows: np.ndarray, shift: int
                   ) -> np.ndarray:
    """``doc << 32 | position - shift`` for every position (at least ``shift``) of the
    postings at ``rows`` of ``p``, sorted: what :meth:`IndexView.positions` gives, built in
    place with fewer temporary arrays (phrases over common words read many positions)."""
    parts = []
    for si, seg in enumerate(view.segments):
        sel = rows if len(view.segments) == 1 else rows[p.seg[rows] == si]
        if len(sel) == 0:
            continue
        ks = p.k[sel]
        starts = seg.p_ptr[ks].astype(np.int64)
        counts = seg.p_ptr[ks + 1].astype(np.int64) - starts
        gather = np.repeat(starts - (np.cumsum(counts) - counts), counts)
        gather += np.arange(len(gather), dtype=np.int64)
        keys = np.repeat(p.docs[sel] << 32, counts)
        pos = seg.p_pos[gather]
        if shift:
            ok = pos >= shift
            keys, pos = keys[ok], pos[ok].astype(np.int64) - shift
        keys |= pos
        parts.append(keys)
    if not parts:
        return np.zeros(0, np.int64)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _distinct_docs(keys: np.ndarray) -> np.ndarray:
    """The docs of sorted (doc << 32 | position) keys, once each, in order: the docs where
    the phrase's words so far stand at their distances (the only ones the next word's
    positions need to be read for)."""
    starts = keys >> 32
    return starts[np.r_[True, starts[1:] != starts[:-1]]]


def _member_docs(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """:func:`_member_sorted` for doc numbers below ``n``: long lists are marked in a
    mask over the docs (linear) instead of binary-searched one by one."""
    if (len(a) + len(b)) * 16 < n:
        return _member_sorted(a, b)
    marked = np.zeros(n, dtype=bool)
    marked[b] = True
    return marked[a]


def _member_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bool mask over sorted ``a``: which elements are in sorted ``b``."""
    if len(b) == 0:
        return np.zeros(len(a), dtype=bool)
    idx = np.searchsorted(b, a)
    idx[idx >= len(b)] = len(b) - 1
    return b[idx] == a


def _combine_sum(parts: list[Result], n: int) -> Result:
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return _empty()
    if len(parts) == 1:
        return parts[0]
    docs = np.concatenate([p[0] for p in parts])
    scores = np.concatenate([p[1] for p in parts])
    if len(docs) * 4 > n:
        total = np.bincount(docs, weights=scores, minlength=n)
        hit = np.bincount(docs, minlength=n) > 0
        out = np.flatnonzero(hit)
        return out, total[out]
    out, inverse = np.unique(docs, return_inverse=True)
    return out, np.bincount(inverse, weights=scores, minlength=len(out))


def _combine_max(parts: list[Result], n: int) -> Result:
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return _empty()
    if len(parts) == 1:
        return parts[0]
    if sum(len(p[0]) for p in parts) * 4 > n:
        # each part holds a doc once, so a part is one vectorized step over a dense array
        dense = np.full(n, -np.inf)
        for part_docs, part_scores in parts:
            dense[part_docs] = np.maximum(dense[part_docs], part_scores)
        out = np.flatnonzero(dense != -np.inf)
        return out, dense[out]
    docs = np.concatenate([p[0] for p in parts])
    scores = np.concatenate([p[1] for p in parts])
    out, inverse = np.unique(docs, return_inverse=True)
    best = np.zeros(len(out), np.float64)
    np.maximum.at(best, inverse, scores)
    return out, best
