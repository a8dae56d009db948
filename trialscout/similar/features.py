"""What two trials are compared on: canonical conditions and interventions, population, text.

Features are read from the stored JSON document (the ``Trial`` dump), not from a parsed
``Trial``, because building the index reads every trial and skipping model validation makes
that several times faster. Conditions and interventions become keys: a vocabulary concept
id when the name resolves (so "Prolia" and "denosumab" are the same key), else the
normalized name. A trial that lists none (most older records) gets keys from the concepts
its title names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from trialscout.rulefiles import RuleFile, Strict, load_mapping
from trialscout.summaries.mentions import matcher
from trialscout.vocabulary import normalize_term, vocabulary

_TYPE_PREFIX = re.compile(r"^[A-Za-z ]+:\s*")
_DOSE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|µg|ug|g|ml|iu|units?|%)\b.*$", re.I)


class _Weights(Strict):
    text: float
    conditions: float
    interventions: float


class SimilarRules(RuleFile):
    """The schema of ``rules/similar.yaml``."""

    weights: _Weights
    population: float
    recruiting_boost: float
    text_fields: dict[str, int]
    summary_chars: int
    max_df: float
    min_df: int
    ignored_interventions: list[str]
    broad_conditions: list[str]
    min_score: float
    similar_text_min: float


def rules() -> dict[str, Any]:
    return load_mapping(Path(__file__).with_name("rules") / "similar.yaml", SimilarRules)


@lru_cache(maxsize=1)
def _ignored() -> frozenset[str]:
    return frozenset(normalize_term(x) for x in rules()["ignored_interventions"])


@lru_cache(maxsize=1)
def broad_conditions() -> frozenset[str]:
    """Condition concepts too general to make two trials "related"."""
    vocab = vocabulary()
    broad = set(rules()["broad_conditions"])
    for concept in vocab.concepts("condition"):
        if len(vocab.members(concept.id)) >= 15:
            broad.add(concept.id)
    return frozenset(broad)


@dataclass
class TrialFeatures:
    nct_id: str
    title: str
    status: str | None
    conditions: dict[str, str] = field(default_factory=dict)
    primary_condition: str | None = None
    structured_conditions: bool = False
    condition_family: set[str] = field(default_factory=set)
    interventions: dict[str, str] = field(default_factory=dict)
    intervention_kinds: dict[str, str] = field(default_factory=dict)
    structured_interventions: bool = False
    min_age_days: float | None = None
    max_age_days: float | None = None
    sex: str = "ALL"
    sites: list[tuple[float, float]] = field(default_factory=list)
    text: str = ""
    embed_text: str = ""


def condition_keys(name: str) -> list[tuple[str, str]]:
    """(key, display name) for one condition name."""
    found = matcher().find(name, kinds=("condition",))
    vocab = vocabulary()
    whole = vocab.canonical(name)
    if whole is not None and whole.kind == "condition":
        return [(f"c:{whole.id}", whole.name)]
    if found:
        return [(f"c:{m.concept_id}", vocab.by_id[m.concept_id].name) for m in found]
    key = normalize_term(name)
    return [(f"t:{key}", " ".join(name.split()))] if key else []


def intervention_keys(name: str, other_names: list[str] | None = None
                      ) -> list[tuple[str, str, str]]:
    """(key, display name, kind) for one intervention; placebo and the like give none."""
    name = _TYPE_PREFIX.sub("", name)
    key = normalize_term(name)
    if not key or key in _ignored() or "placebo" in key.split() or "sham" in key.split():
        return []
    vocab = vocabulary()
    out: list[tuple[str, str, str]] = []
    for text in [name, *(other_names or [])]:
        for m in matcher().find(text, kinds=("drug", "procedure")):
            concept = vocab.by_id[m.concept_id]
            out.append((f"c:{concept.id}", concept.name, concept.kind))
    if out:
        return list({k: (k, n, kind) for k, n, kind in out}.values())
    short = normalize_term(_DOSE.sub("", name)) or key
    return [(f"t:{short}", " ".join(name.split()), "other")]


def _strings(values: Any) -> list[str]:
    return [v for v in values or [] if isinstance(v, str)]


def features_from_document(doc: dict[str, Any], summary_chars: int | None = None
                           ) -> TrialFeatures:
    """Features of one trial from its stored JSON document (a ``Trial`` dump)."""
    limit = summary_chars if summary_chars is not None else int(rules()["summary_chars"])
    title = doc.get("brief_title") or doc.get("official_title") or doc["nct_id"]
    eligibility = doc.get("eligibility") or {}
    f = TrialFeatures(nct_id=doc["nct_id"], title=title, status=doc.get("overall_status"),
                      min_age_days=eligibility.get("minimum_age_days"),
                      max_age_days=eligibility.get("maximum_age_days"),
                      sex=eligibility.get("sex") or "ALL")
    conditions = _strings(doc.get("conditions"))
    f.structured_conditions = bool(conditions)
    for name in conditions or [title]:
        keys = condition_keys(name) if conditions else [
            (f"c:{m.concept_id}", vocabulary().by_id[m.concept_id].name)
            for m in matcher().find(name, kinds=("condition",))]
        for key, shown in keys:
            f.conditions.setdefault(key, shown)
            if f.primary_condition is None:
                f.primary_condition = key
    vocab = vocabulary()
    for key in f.conditions:
        if key.startswith("c:"):
            cid = key[2:]
            f.condition_family |= {a for a in vocab.ancestors(cid) | {cid}
                                   if a not in broad_conditions()}
    interventions = doc.get("interventions") or []
    f.structured_interventions = bool(interventions)
    for item in interventions:
        for key, shown, kind in intervention_keys(item.get("name", ""),
                                                  _strings(item.get("other_names"))):
            f.interventions.setdefault(key, shown)
            f.intervention_kinds.setdefault(key, kind if kind != "other" else (
                "drug" if item.get("type") in {"DRUG", "BIOLOGICAL"} else "other"))
    if not interventions:
        for m in matcher().find(title, kinds=("drug",)):
            key = f"c:{m.concept_id}"
            f.interventions.setdefault(key, vocab.by_id[m.concept_id].name)
            f.intervention_kinds.setdefault(key, "drug")
    for site in doc.get("sites") or []:
        geo = site.get("geo")
        if geo and geo.get("lat") is not None and geo.get("lon") is not None:
            f.sites.append((float(geo["lat"]), float(geo["lon"])))
    weights = rules()["text_fields"]
    parts: list[str] = []
    parts += [title] * int(weights["title"])
    parts += conditions * int(weights["conditions"])
    parts += [i.get("name", "") for i in interventions] * int(weights["interventions"])
    parts += _strings(doc.get("keywords")) * int(weights["keywords"])
    mesh = _strings(doc.get("condition_mesh_terms")) + _strings(doc.get("intervention_mesh_terms"))
    parts += mesh * int(weights["mesh"])
    summary = (doc.get("brief_summary") or "")[:limit]
    parts += [summary] * int(weights["summary"])
    f.text = "\n".join(p for p in parts if p)
    names = "; ".join(i.get("name", "") for i in interventions)
    f.embed_text = ". ".join(p for p in (title, "; ".join(conditions), names, summary) if p)
    return f
