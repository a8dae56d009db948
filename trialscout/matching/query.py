"""The search query that stands for a patient when trials are ranked by relevance.

A note is used as free text, minus what ConText says is not the patient's: denied
findings ("denies diabetes") and relatives' conditions would otherwise pull in trials for
exactly the diseases the patient does not have. A profile without a note becomes the
names of its conditions, procedures and medications.
"""

from __future__ import annotations

from trialscout.patients.context import default_context
from trialscout.patients.model import PatientProfile
from trialscout.patients.sentences import split_sentences

MAX_QUERY_CHARS = 9_000


def _affirmed_text(text: str) -> str:
    context = default_context()
    kept: list[str] = []
    for sentence in split_sentences(text):
        mods = [m for m in context.modifiers(sentence.text)
                if m.category in {"negated", "family"}]
        if not mods:
            kept.append(sentence.text)
            continue
        chars = list(sentence.text)
        for mod in mods:
            for i in range(mod.start, min(mod.scope_end, len(chars))):
                chars[i] = " "
            for i in range(mod.scope_start, min(mod.start, len(chars))):
                chars[i] = " "
        kept.append("".join(chars))
    return " ".join(" ".join(kept).split())


def relevance_query(profile: PatientProfile) -> str:
    """Free text for BM25: the affirmed parts of the note, else the profile's fact names."""
    if profile.free_text and profile.free_text.strip():
        query = _affirmed_text(profile.free_text)
        if query.strip():
            return query[:MAX_QUERY_CHARS]
    names: list[str] = []
    for cond in profile.conditions:
        names += [cond.name, cond.name]
    names += [p.name for p in profile.procedures]
    names += [m.name for m in profile.medications]
    return " ".join(dict.fromkeys(n for n in names if n))[:MAX_QUERY_CHARS]
