"""Which saved searches a set of changed trials belongs to, without running each search.

An import or a day's sync changes a few thousand trials while there may be a hundred
thousand saved searches; running each saved search through the full index would cost a
search per subscriber. Instead the changed trials become a tiny index of their own (each
term, filter value and site maps to a bit mask over the changed trials, Python ints), and
each saved search is evaluated against it with a few mask operations. Memory grows with the
number of changed trials, not with the number of saved searches, which are streamed.

The reading follows the search page: the query's words must all occur in the trial's text
(stemmed as the index stems them; a word or run of words naming a vocabulary concept also
matches any of the concept's forms), ``OR`` groups, ``NOT`` and ``prefix*`` work, a
"phrase" needs its words (not their order). A long pasted text is read the same way (all
words required), so an alert never fires on one common word. Filters (status, phase,
study type, age, sex, healthy volunteers, results, condition, intervention, sponsor,
country, state, city, site status, dates) and the place with its radius apply as in search.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from trialscout.registry.durations import years_to_days
from trialscout.search.analysis import Analyzer, fold, words
from trialscout.search.documents import SearchDoc, canonical_country, value_key
from trialscout.search.filters import normalize_phase, normalize_status, normalize_study_type
from trialscout.search.models import SearchRequest
from trialscout.search.query import AnyOf, Node, Not, Phrase, Prefix, Sequence, Words, parse
from trialscout.search.rules import search_rules
from trialscout.search.synonyms import SynonymIndex, default_synonyms

EARTH_RADIUS_KM = 6371.0088
CACHE_ENTRIES = 20_000


@functools.cache
def _synonyms() -> SynonymIndex:
    return default_synonyms()


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (lat1, lon1, lat2, lon2))
    a = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(
        (lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, a))))


@dataclass(frozen=True)
class Origin:
    lat: float
    lon: float
    radius_km: float | None


def origin_of(request: SearchRequest) -> Origin | None:
    """The request's place resolved offline (raises SearchQueryError for an unknown one)."""
    from trialscout.search.distance import resolve_origin

    place = resolve_origin(request)
    if place is None:
        return None
    radius = request.radius
    if radius is not None and request.unit == "mi":
        radius *= 1.609344
    return Origin(place.lat, place.lon, radius)


class ChangedTrials:
    """The changed trials as bit masks: bit ``i`` is ``trials[i]``."""

    def __init__(self, docs: Iterable[SearchDoc]) -> None:
        self.docs = list(docs)
        self.index = {d.nct_id: i for i, d in enumerate(self.docs)}
        self.all = (1 << len(self.docs)) - 1
        self.analyzer = Analyzer()
        self.stopwords = search_rules().stopwords
        self.terms: dict[str, int] = {}
        self.raw: dict[str, int] = {}
        for i, doc in enumerate(self.docs):
            bit = 1 << i
            for _field, text in doc.chunks:
                found = words(text)
                for w in found:
                    self.raw[w] = self.raw.get(w, 0) | bit
                for stem in self.analyzer.stems(found):
                    self.terms[stem] = self.terms.get(stem, 0) | bit
        self._cache: dict[tuple[Any, ...], int] = {}

    def bits(self, mask: int) -> Iterable[int]:
        while mask:
            low = mask & -mask
            yield low.bit_length() - 1
            mask ^= low

    # ---------------------------------------------------------------- text
    def _stems_mask(self, tokens: Iterable[str]) -> int:
        mask = self.all
        for stem in self.analyzer.stems([t for t in tokens if t not in self.stopwords]):
            mask &= self.terms.get(stem, 0)
            if not mask:
                return 0
        return mask

    def _concept_mask(self, tokens: tuple[str, ...], raw: str | None) -> int:
        syn = _synonyms()
        key = tuple(self.analyzer.stems(list(tokens)))
        mask = 0
        for form in syn.expansions(syn.concepts(key, raw)):
            mask |= self._stems_mask(form)
        return mask

    def _words(self, node: Words) -> int:
        key = ("w", node.raw, node.tokens)
        found = self._cache.get(key)
        if found is None:
            found = self._stems_mask(node.tokens) | self._concept_mask(node.tokens, node.raw)
            self._remember(key, found)
        return found

    def _prefix(self, node: Prefix) -> int:
        *head, last = node.tokens
        mask = 0
        for word, word_mask in self.raw.items():
            if word.startswith(last):
                mask |= word_mask
        return mask & self._stems_mask(head)

    def node(self, node: Node) -> int:
        if isinstance(node, Words):
            return self._words(node)
        if isinstance(node, Phrase):
            return self._stems_mask(node.tokens) | self._concept_mask(node.tokens, None)
        if isinstance(node, Prefix):
            return self._prefix(node)
        if isinstance(node, AnyOf):
            mask = 0
            for child in node.children:
                mask |= self.node(child)
            return mask
        if isinstance(node, Not):
            return self.all & ~self.node(node.child)
        return self.sequence(node)

    def sequence(self, seq: Sequence) -> int:
        mask = self.all
        for group in seq.groups:
            mask &= self._group(group)
        for negative in seq.negatives:
            mask &= ~self.node(negative)
        return mask & self.all

    def _group(self, group: tuple[Node, ...]) -> int:
        mask = self.all
        for node in group:
            mask &= self.node(node)
        plain = [n for n in group if isinstance(n, Words)]
        if len(plain) > 1 and len(plain) == len(group):
            tokens = tuple(t for n in plain for t in n.tokens)
            mask |= self._concept_mask(tokens, " ".join(n.raw for n in plain))
        return mask

    # ---------------------------------------------------------------- filters
    def where(self, key: tuple[Any, ...], test: Any) -> int:
        found = self._cache.get(key)
        if found is None:
            found = 0
            for i, doc in enumerate(self.docs):
                if test(doc):
                    found |= 1 << i
            self._remember(key, found)
        return found

    def _remember(self, key: tuple[Any, ...], mask: int) -> None:
        """Cache a mask; the cache is emptied when full, so memory stays bounded however
        many different saved searches stream past."""
        if len(self._cache) >= CACHE_ENTRIES:
            self._cache.clear()
        self._cache[key] = mask


@dataclass(frozen=True)
class CompiledSearch:
    """A saved search, read once, ready to evaluate against any ChangedTrials."""

    query: Sequence | None
    statuses: frozenset[str]
    site_statuses: frozenset[str]
    phases: frozenset[str]
    study_types: frozenset[str]
    age_days: float | None
    sex: str | None
    healthy: bool | None
    has_results: bool | None
    condition: str | None
    intervention: str | None
    sponsor: str | None
    country: str | None
    state: str | None
    city: str | None
    started_after: int | None
    updated_after: int | None
    origin: Origin | None


def compile_search(request: SearchRequest, origin: Origin | None = None) -> CompiledSearch:
    """Read a request (raises SearchQueryError for a bad one, as search does)."""
    query = None
    if request.q.strip():
        parsed = parse(request.q, search_rules().query, "all")
        query = None if parsed.is_empty else parsed.root
    return CompiledSearch(
        query=query,
        statuses=frozenset(normalize_status(s) for s in request.status),
        site_statuses=frozenset(normalize_status(s) for s in request.site_status),
        phases=frozenset(normalize_phase(p) for p in request.phase),
        study_types=frozenset(normalize_study_type(t) for t in request.study_type),
        age_days=years_to_days(request.age) if request.age is not None else None,
        sex=request.sex, healthy=request.healthy_volunteers, has_results=request.has_results,
        condition=_words_key(request.condition), intervention=_words_key(request.intervention),
        sponsor=_words_key(request.sponsor),
        country=(canonical_country(request.country) if request.country else None),
        state=fold(request.state).strip() if request.state and request.state.strip() else None,
        city=fold(request.city).strip() if request.city and request.city.strip() else None,
        started_after=request.started_after.toordinal() if request.started_after else None,
        updated_after=request.updated_after.toordinal() if request.updated_after else None,
        origin=origin)


def _words_key(text: str | None) -> str | None:
    return value_key(text) if text and text.strip() else None


def _contains(values: list[str], key: str) -> bool:
    """A value filter: some value holds the filter's words in order (as a facet search)."""
    padded = f" {key} "
    return any(padded in f" {' '.join(words(v))} " for v in values)


def _age_ok(doc: SearchDoc, days: float) -> bool:
    low, high = doc.min_age_days, doc.max_age_days
    return (low is None or low <= days + 1e-6) and (high is None or high >= days - 1e-6)


def trial_mask(trials: ChangedTrials, search: CompiledSearch) -> int:
    """The changed trials this search would list (its place's radius included)."""
    mask = trials.all if search.query is None else trials.sequence(search.query)
    checks: list[tuple[tuple[Any, ...], Any]] = []
    if search.statuses:
        checks.append((("status", search.statuses), lambda d: d.status in search.statuses))
    if search.phases:
        checks.append((("phase", search.phases),
                       lambda d: bool(search.phases & set(d.phases))))
    if search.study_types:
        checks.append((("type", search.study_types),
                       lambda d: d.study_type in search.study_types))
    if search.age_days is not None:
        days = search.age_days
        checks.append((("age", days), lambda d: _age_ok(d, days)))
    if search.sex is not None:
        checks.append((("sex", search.sex), lambda d: d.sex in ("ALL", search.sex)))
    if search.healthy is not None:
        checks.append((("hv", search.healthy),
                       lambda d: d.healthy_volunteers is search.healthy))
    if search.has_results is not None:
        checks.append((("res", search.has_results),
                       lambda d: d.has_results is search.has_results))
    if search.condition:
        checks.append((("cond", search.condition),
                       lambda d: _contains(d.condition_match, search.condition)))
    if search.intervention:
        checks.append((("int", search.intervention),
                       lambda d: _contains(d.intervention_match, search.intervention)))
    if search.sponsor:
        checks.append((("spon", search.sponsor), lambda d: _contains(d.sponsors,
                                                                      search.sponsor)))
    if search.started_after is not None:
        checks.append((("start", search.started_after),
                       lambda d: d.start_day is not None and d.start_day >= search.started_after))
    if search.updated_after is not None:
        checks.append((("upd", search.updated_after),
                       lambda d: d.update_day is not None and d.update_day >= search.updated_after))
    if search.site_statuses or search.country or search.state or search.city:
        key = ("site", search.site_statuses, search.country, search.state, search.city)
        checks.append((key, lambda d: any(site_ok(search, s) for s in d.sites)))
    for key, test in checks:
        if not mask:
            return 0
        mask &= trials.where(key, test)
    origin = search.origin
    if mask and origin is not None and origin.radius_km is not None:
        inside = 0
        for i in trials.bits(mask):
            if any(site_ok(search, s) and site_inside(origin, s.lat, s.lon)
                   for s in trials.docs[i].sites):
                inside |= 1 << i
        mask = inside
    return mask


def site_ok(search: CompiledSearch, site: Any) -> bool:
    if search.site_statuses and site.status not in search.site_statuses:
        return False
    if search.country and site.country != search.country:
        return False
    if search.state and fold(site.state or "").strip() != search.state:
        return False
    return not (search.city and fold(site.city or "").strip() != search.city)


def site_inside(origin: Origin, lat: float | None, lon: float | None) -> bool:
    if origin.radius_km is None:
        return True
    if lat is None or lon is None:
        return False
    return distance_km(origin.lat, origin.lon, float(lat), float(lon)) <= origin.radius_km
