"""The search query that stands for a patient when trials are ranked by relevance.

A note is used as free text, with what ConText says is not the patient's at half weight:
denied findings ("denies diabetes") and relatives' conditions. At full weight they pull
in trials for exactly the diseases the patient does not have; left out, they lose what
they do say about the patient's topic (a note lists the pertinent negatives of its own
differential) and the trials whose criteria exclude them. Query words weigh in
proportion to how often they occur, so the affirmed text is given twice and the rest
once. A profile without a note becomes the names of its conditions, procedures and
medications.
"""

from __future__ import annotations

from trialscout.patients.context import default_context
from trialscout.patients.model import PatientProfile
from trialscout.patients.sentences import split_sentences

MAX_QUERY_CHARS = 9_000


def _split_text(text: str) -> tuple[str, str]:
    """(the affirmed parts of a note, the parts ConText reads as negated or a relative's)."""
    context = default_context()
    kept: list[str] = []
    dropped: list[str] = []
    for sentence in split_sentences(text):
        mods = [m for m in context.modifiers(sentence.text)
                if m.category in {"negated", "family"}]
        if not mods:
            kept.append(sentence.text)
            continue
        chars = list(sentence.text)
        out = [" "] * len(chars)
        for mod in mods:
            for i in [*range(mod.start, min(mod.scope_end, len(chars))),
                      *range(mod.scope_start, min(mod.start, len(chars)))]:
                out[i] = chars[i]
                chars[i] = " "
        kept.append("".join(chars))
        dropped.append("".join(out))
    return " ".join(" ".join(kept).split()), " ".join(" ".join(dropped).split())


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending at a word boundary."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    head = text[:limit + 1]
    return head[:head.rfind(" ")] if " " in head else head[:limit]


def relevance_query(profile: PatientProfile) -> str:
    """Free text for BM25: the note with its affirmed parts at double weight (given twice)
    and its negated or family parts at single weight; else the profile's fact names."""
    if profile.free_text and profile.free_text.strip():
        affirmed, dropped = _split_text(profile.free_text)
        affirmed = _cut(affirmed, MAX_QUERY_CHARS * 4 // 9)
        dropped = _cut(dropped, MAX_QUERY_CHARS - 2 * len(affirmed) - 2)
        query = " ".join(p for p in (affirmed, affirmed, dropped) if p)
        if query.strip():
            return query
    names: list[str] = []
    for cond in profile.conditions:
        names += [cond.name, cond.name]
    names += [p.name for p in profile.procedures]
    names += [m.name for m in profile.medications]
    return " ".join(dict.fromkeys(n for n in names if n))[:MAX_QUERY_CHARS]
