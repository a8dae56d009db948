"""Patient-facing questions and their normalized keys.

A key names what is asked, independent of the trial and of the wording: "Received
denosumab within the past 6 months" and "Prolia in the last six months" both ask
``drug:denosumab:within:6mo``; "HbA1c ≥ 7%" and "HbA1c of at least 53 mmol/mol" both ask
``lab:hba1c:ge:7:%``. An answer stored under a key serves every trial that asks it. The
answer that satisfies the criterion (``meets``) is per trial: "yes" for a requirement,
"no" for something the trial must not see.

A question must say what the criterion says, or nothing. A relative's history, a
procedure still to come and a reason not to have a test each get their own wording and
key (``family:``, ``planned:``, ``contraindication:``); a concept whose name is too
general or cut short ("treatment", "II") would make a question about something else.
Where no plain question can be made the question is a ``study_team`` statement: what the
study team checks, in lay words, never the raw criterion; it is not answerable by the
patient. ``Question.kind`` says which template asked (the kinds are listed in
``rules/questions.yaml``). An item's one question is made from its constraints' questions
in :mod:`trialscout.criteria.item_questions`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Final

from trialscout.criteria import rules
from trialscout.criteria.construct import build
from trialscout.criteria.model import (
    UNANSWERABLE_KINDS,
    Answer,
    Comparator,
    Concept,
    Constraint,
    Quantity,
    Question,
    TimeWindow,
)

_NOT_WORD: Final = re.compile(r"[^\w\s]")
UNIT_WORDS: Final = {"hour": ("hour", "hours"), "day": ("day", "days"), "week": ("week", "weeks"),
              "month": ("month", "months"), "year": ("year", "years")}
STUDY_TEAM: Final = "study_team"
# A name that is only a numeral ("II" of "Logical Memory II") or a letter or two.
_TRUNCATED: Final = re.compile(r"(?i)[ivx]+|[\d\s.,/+-]*|\w{0,1}|[a-z]?\d+[a-z]?")
PRESENCE_KINDS: Final = frozenset({"condition", "medication", "procedure", "allergy",
                              "disease_duration", "pregnancy", "lactation"})
# Kinds whose question names a concept: without a usable name there is no question.
NAMED_KINDS: Final = frozenset({"condition", "medication", "procedure", "allergy",
                           "disease_duration", "measurement", "performance_status"})
# Question kinds of the constraint kinds whose kind says what is asked.
_KIND_OF: Final = {"disease_duration": "duration", "performance_status": "performance"}


def number(value: float, digits: int = 3) -> str:
    """A compact, stable rendering: 7.0 -> "7", 20.032 -> "20", -2.5 -> "-2.5"."""
    key = (value, digits)
    text = _numbers.get(key)
    if text is None:
        rounded = float(f"{value:.{digits}g}") if value else 0.0
        text = f"{rounded:.4f}".rstrip("0").rstrip(".")
        text = "0" if text in {"-0", ""} else text
        if len(_numbers) >= 10_000:
            _numbers.clear()
        _numbers[key] = text
    return text


_numbers: Final[dict[tuple[float, int], str]] = {}


def window_key(window: TimeWindow) -> str:
    if window.amount is None or window.unit is None:
        return window.relation
    amount = window.amount
    if window.unit in {"month", "year"}:
        months = amount * (12 if window.unit == "year" else 1)
        span = f"{number(months / 12)}y" if months % 12 == 0 else f"{number(months)}mo"
    elif window.unit in {"week", "day"}:
        days = amount * (7 if window.unit == "week" else 1)
        span = f"{number(days / 7)}w" if days % 7 == 0 else f"{number(days)}d"
    else:
        span = f"{number(amount)}h"
    if window.relation == "duration":
        return f"duration:{window.comparator or 'ge'}:{span}"
    return f"{window.relation}:{span}"


def window_text(window: TimeWindow) -> str:
    if window.amount is None or window.unit is None:
        return ""
    singular, plural = UNIT_WORDS[window.unit]
    if window.amount == 1:
        return singular
    return f"{number(window.amount)} {plural}"


def hash_text(text: str) -> str:
    norm = " ".join(_NOT_WORD.sub(" ", text.casefold()).split())
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()[:12]


def _cmp_text(template: Mapping[str, str] | dict[Comparator, str], q: Quantity,
              unit: str | None) -> str:
    shown = unit_display(unit, q.value)
    text = template[q.comparator].format(v=number(q.value),
                                         v2=number(q.value_high or q.value), u=shown)
    if unit in {"×ULN", "ULN", "×LLN", "LLN"} and q.value == 1:
        text = text.replace("1 times ", "")
    return " ".join(text.split())


def unit_display(unit: str | None, value: float | None = None) -> str:
    if not unit:
        return ""
    if unit in {"×ULN", "ULN"}:
        return " times the upper limit of normal"
    if unit in {"×LLN", "LLN"}:
        return " times the lower limit of normal"
    if unit == "%":
        return "%"
    return " " + unit


def _quantity_key(q: Quantity) -> str:
    value = q.normalized_value if q.normalized_value is not None else q.value
    high = q.normalized_value_high if q.normalized_value_high is not None else q.value_high
    unit = q.normalized_unit or q.unit or ""
    if unit in {"ULN"}:
        unit = "×ULN"
    parts = [q.comparator, number(value)]
    if q.comparator == "between" and high is not None:
        parts.append(number(high))
    key = ":".join(parts)
    return f"{key}:{unit}" if unit else key


def _concept_template(concept_id: str | None, slot: str) -> str | None:
    if concept_id is None:
        return None
    return derived_rules().rules.concepts.get(concept_id, {}).get(slot)


def _template(kind: str, slot: str | None = None) -> str:
    entry = derived_rules().rules.templates[kind]
    if isinstance(entry, str):
        return entry
    return entry[slot or "ever"]


def team_text(kind: str, name: str = "") -> str:
    """What the study team checks for a criterion of ``kind``, in lay words."""
    statements = derived_rules().rules.templates[STUDY_TEAM]
    assert isinstance(statements, dict)
    if name and f"{kind}_named" in statements:
        return statements[f"{kind}_named"].format(name=name)
    return statements.get(kind) or statements["other"]


class DerivedRules:
    """The rules of ``rules/questions.yaml`` and the regexes and sets built from them,
    once (every question reads them several times)."""

    __slots__ = ("conditional", "disjunctive", "eponyms", "event_age", "generic", "method",
                 "not_alternatives", "rules", "score", "test")

    def __init__(self) -> None:
        q = rules.questions()
        self.rules: rules.QuestionRules = q
        self.generic: frozenset[str] = frozenset(n.casefold() for n in q.generic_names)
        self.eponyms: frozenset[str] = frozenset(q.eponyms)
        self.conditional: re.Pattern[str] = re.compile(rules.phrase_regex(q.conditional_cues),
                                                       re.IGNORECASE)
        self.score = _any_word(q.score_words)
        self.method: re.Pattern[str] = re.compile(
            rules.phrase_regex(q.method_cues) + r"\s+(?:[\w-]+\s+){0,2}$", re.IGNORECASE)
        self.test = _any_word(q.test_words)
        self.disjunctive: re.Pattern[str] = re.compile(
            rules.phrase_regex(q.disjunctive_cues), re.IGNORECASE)
        self.event_age: re.Pattern[str] = re.compile(
            "(" + rules.phrase_regex(q.event_age_words) + r")\s+(?:the\s+)?age(?:\s+of)?\s*$",
            re.IGNORECASE)
        self.not_alternatives: re.Pattern[str] = re.compile(
            rules.phrase_regex(q.not_alternatives) + r"|\([^()]*\)|\[[^\[\]]*\]",
            re.IGNORECASE)


def _any_word(words: list[str]) -> re.Pattern[str]:
    """Any of ``words`` as a whole word of a name or an id ("mmse_score")."""
    return re.compile(r"(?:^|[\s_-])(?:" + "|".join(re.escape(w) for w in words)
                      + r")(?:$|[\s_-])", re.IGNORECASE)


_derived_rules: Final[list[DerivedRules]] = []


def derived_rules() -> DerivedRules:
    """The rules derived from ``rules/questions.yaml``, built once."""
    if not _derived_rules:
        _derived_rules.append(DerivedRules())
    return _derived_rules[0]


def usable_name(concept: Concept) -> bool:
    """Whether a question may name ``concept``: not a generic word ("treatment") and not a
    fragment of a longer name ("II" of "Logical Memory II")."""
    known = _usable.get(concept.name)
    if known is None:
        name = " ".join(concept.name.split())
        known = name.casefold() not in derived_rules().generic and \
            _TRUNCATED.fullmatch(name) is None
        if len(_usable) < _ASKED_LIMIT:
            _usable[concept.name] = known
    return known


_usable: Final[dict[str, bool]] = {}
_TITLE_WORD: Final = re.compile(r"([(\[]?)([A-Z][a-z]+)([)\],;:.]?)")


def shown_name(name: str) -> str:
    """A concept's name as it reads inside a sentence: "Head and Neck Neoplasms" -> "head
    and neck neoplasms", "Temozolomide" -> "temozolomide"; acronyms and eponyms ("HIV",
    "Paget's disease", "Gilbert Disease" -> "Gilbert disease") keep their capitals."""
    shown = _shown.get(name)
    if shown is None:
        words = name.split(" ")
        keep = derived_rules().eponyms
        out = []
        for i, word in enumerate(words):
            following = words[i + 1].casefold() if i + 1 < len(words) else ""
            title = _TITLE_WORD.fullmatch(word)
            if title is not None and title.group(2) not in keep \
                    and following not in _EPONYM_NOUNS:
                word = word.lower()
            out.append(word)
        shown = " ".join(out)
        if len(_shown) < _ASKED_LIMIT:
            _shown[name] = shown
    return shown


_shown: Final[dict[str, str]] = {}
# A capitalized word before one of these is most likely a person's name.
_EPONYM_NOUNS: Final = frozenset({"disease", "syndrome", "lymphoma", "sarcoma", "palsy",
                                  "tumor", "tumour", "phenomenon", "anomaly", "ulcer"})


_GROUPABLE: Final = frozenset({"condition", "medication", "procedure", "allergy"})


def key_for(c: Constraint) -> str:
    """The normalized key of one constraint, read as the patient's own, actual fact."""
    if c.any_of and c.kind in _GROUPABLE:
        parts = sorted({_key_for(c, alt) for alt in c.any_of})
        return "any:" + "|".join(parts)
    return _key_for(c, c.concept)


def _key_for(c: Constraint, concept: Concept | None) -> str:
    """The key of ``c`` about ``concept`` alone (one alternative of ``any_of``)."""
    kind = c.kind
    cid = concept.id if concept else None
    if kind in {"condition", "medication", "procedure", "disease_duration"}:
        prefix = {"condition": "condition", "disease_duration": "condition",
                  "medication": "drug", "procedure": "procedure"}[kind]
        key = f"{prefix}:{cid}"
        if c.value == "stable" and c.window is not None:
            return f"{key}:stable:{window_key(c.window).removeprefix('duration:')}"
        if c.window is not None and c.window.relation != "ever":
            key += ":" + window_key(c.window)
        return key
    if kind == "allergy":
        return f"allergy:{cid}"
    if kind == "measurement":
        if c.quantity is not None:
            return f"lab:{cid}:{_quantity_key(c.quantity)}"
        return f"lab:{cid}:{c.qualitative or 'value'}"
    if kind == "performance_status":
        assert c.quantity is not None
        return f"performance:{cid}:{_quantity_key(c.quantity)}"
    if kind == "age":
        assert c.quantity is not None
        return f"age:{_quantity_key(c.quantity)}".removesuffix(":year")
    if kind == "sex":
        return f"sex:{c.value or 'any'}"
    if kind in {"pregnancy", "lactation", "menopause"}:
        key = f"{kind}:{cid}"
        if c.window is not None and c.window.relation == "duration":
            key += ":" + window_key(c.window)
        return key
    if kind == "consent":
        return "consent:informed"
    if kind in {"administrative", "investigator"}:
        return f"{kind}:{hash_text(c.text)}"
    return f"text:{hash_text(c.text)}"


def concepts_of(c: Constraint) -> list[Concept]:
    if c.any_of and c.kind in _GROUPABLE:
        return list(c.any_of)
    return [c.concept] if c.concept is not None else []


def question_for(c: Constraint, item_text: str) -> Question:
    """The question one constraint asks, with its key and the answer that satisfies it."""
    content = _content(c)
    if content is not None:
        hit = _asked.get(content)
        if hit is not None:
            return hit
    meets: Answer = "yes" if c.polarity == "required" else "no"
    kind, text = _ask(c)
    if kind == STUDY_TEAM:
        key = (key_for(c) if c.kind in UNANSWERABLE_KINDS or c.kind == "other"
               else "team:" + key_for(c))
    else:
        key = _context_key(c, kind)
    question = build(Question, {"key": key, "text": text, "meets": meets,
                               "answerable": kind != STUDY_TEAM, "kind": kind})
    if content is not None and len(_asked) < _ASKED_LIMIT:
        _asked[content] = question
    return question


def _context_key(c: Constraint, kind: str) -> str:
    """The key of an answerable question: the plain key, or one marked with whose fact or
    what kind of mention it asks about, so it never shares answers with the plain one."""
    if kind == "family_history":
        return "family:" + key_for(c)
    if kind in {"planned_procedure", "planned_medication"} or \
            (c.modality == "planned" and c.kind == "pregnancy"):
        return "planned:" + key_for(c)
    if kind == "contraindication":
        parts = sorted({f"contraindication:{x.id}" for x in concepts_of(c)})
        return parts[0] if len(parts) == 1 else "any:" + "|".join(parts)
    return key_for(c)


# Questions by what they depend on, for the kinds whose question does not quote the
# criterion's text: the same constraint recurs in many trials.
_ASKED_LIMIT: Final = 8_192
_asked: Final[dict[tuple[object, ...], Question]] = {}
_TEXT_FREE: Final = frozenset({"condition", "medication", "procedure", "disease_duration",
                        "allergy",
                        "measurement", "performance_status", "age", "sex", "pregnancy",
                        "lactation", "menopause"})


def _content(c: Constraint) -> tuple[object, ...] | None:
    """Everything :func:`key_for` and the question text read from ``c``, or None when the
    question also depends on the criterion's text."""
    if c.kind not in _TEXT_FREE:
        return None
    concept, q, w = c.concept, c.quantity, c.window
    return (c.kind, c.polarity, c.value, c.qualitative, c.experiencer, c.modality,
            (concept.id, concept.name, concept.kind) if concept is not None else None,
            tuple((alt.id, alt.name, alt.kind) for alt in c.any_of) if c.any_of else None,
            (q.comparator, q.value, q.value_high, q.unit, q.normalized_value,
             q.normalized_value_high, q.normalized_unit) if q is not None else None,
            (w.relation, w.amount, w.unit, w.comparator) if w is not None else None)


def group_of(kind: str) -> str:
    """The study-team statement for a constraint kind."""
    if kind == "disease_duration":
        return "condition"
    if kind == "performance_status":
        return "performance"
    if kind in {"lactation", "menopause"}:
        return "condition"
    return kind


def _ask(c: Constraint) -> tuple[str, str]:
    """The question kind and text of ``c``; kind ``study_team`` when nothing can be asked."""
    kind = c.kind
    if kind in UNANSWERABLE_KINDS or kind == "other":
        return STUDY_TEAM, team_text(kind)
    concepts = concepts_of(c)
    named = bool(concepts) and all(usable_name(x) for x in concepts)
    if c.modality == "hypothetical":
        return STUDY_TEAM, team_text("hypothetical")
    if c.experiencer == "family":
        if named and kind in {"condition", "disease_duration"} and (
                c.window is None or c.window.relation in {"ever", "current"}):
            return "family_history", _template("family_history", "condition").format(
                name=or_list(concepts))
        return STUDY_TEAM, team_text("family_history")
    if c.modality == "planned":
        return _planned(c, concepts) if named or kind == "pregnancy" else \
            (STUDY_TEAM, team_text("planned"))
    if c.modality == "contraindication":
        return _contraindication(c, concepts) if named else \
            (STUDY_TEAM, team_text("contraindication"))
    if not named and kind in NAMED_KINDS:
        return STUDY_TEAM, team_text(group_of(kind))
    if c.any_of and kind in _GROUPABLE:
        return _KIND_OF.get(kind, kind), _any_of_text(c)
    return _single_kind(c), _single_text(c, c.concept)


def _planned(c: Constraint, concepts: list[Concept]) -> tuple[str, str]:
    cid = concepts[0].id if len(concepts) == 1 else None
    custom = _concept_template(cid, "planned")
    if custom:
        return c.kind, custom
    if c.kind in {"procedure", "medication"} and concepts:
        return f"planned_{c.kind}", _template("planned", c.kind).format(name=or_list(concepts))
    return STUDY_TEAM, team_text("planned")


def _contraindication(c: Constraint, concepts: list[Concept]) -> tuple[str, str]:
    if not concepts:
        return STUDY_TEAM, team_text("contraindication")
    if len(concepts) == 1:
        custom = _concept_template(concepts[0].id, "contraindication")
        if custom:
            return "contraindication", custom
    drug = c.kind == "medication" or all(x.kind.startswith("drug") for x in concepts)
    return "contraindication", _template("contraindication", "medication" if drug
                                         else "procedure").format(name=or_list(concepts))


def _single_kind(c: Constraint) -> str:
    if c.kind == "measurement" and c.concept is not None and c.quantity is not None \
            and _concept_template(c.concept.id, "measurement") is None \
            and derived_rules().score.search(f" {c.concept.name} ") is not None:
        return "score"
    return _KIND_OF.get(c.kind, c.kind)


def _any_of_text(c: Constraint) -> str:
    """One question about any of ``c``'s alternatives: the alternatives' questions are
    asked as one when they differ only in the name."""
    names = or_list(c.any_of)
    if c.kind == "allergy":
        return _template("allergy").format(name=names)
    merged = same_but_name([(_single_text(c, alt), shown_name(alt.name)) for alt in c.any_of],
                           names)
    if merged is not None:
        return merged
    return _single_text(c, c.any_of[0], name=names, custom=False)


def same_but_name(asked: list[tuple[str, str]], names: str) -> str | None:
    """``asked`` (question, name) as one question naming ``names``, if the questions
    differ only in their names."""
    shapes = set()
    for text, name in asked:
        if not name or name not in text:
            return None
        shapes.add(text.replace(name, "\x00", 1))
    if len(shapes) != 1:
        return None
    return shapes.pop().replace("\x00", names)


def _single_text(c: Constraint, concept: Concept | None, name: str | None = None,
                 custom: bool = True) -> str:
    """The question text of ``c`` about ``concept`` alone (one alternative of ``any_of``),
    naming it ``name`` (its own name by default)."""
    q = derived_rules().rules
    kind = c.kind
    if name is None:
        name = shown_name(concept.name) if concept else ""
    cid = concept.id if concept is not None and custom else None
    if kind in {"condition", "medication", "procedure", "disease_duration"}:
        group = "condition" if kind == "disease_duration" else kind
        window = c.window
        slot: str = window.relation if window else "ever"
        if c.value == "stable":
            slot = "stable"
        template = _concept_template(cid, slot) or _template(group, slot)
        cmp_text = ""
        if window is not None and window.relation == "duration" and window.amount is not None:
            w = window_text(window)
            cmp_text = q.duration_comparators[window.comparator or "ge"].format(
                w=w, v=number(window.amount))
        return template.format(name=name, window=window_text(window) if window else "",
                               cmp=cmp_text)
    if kind == "allergy":
        return (_concept_template(cid, "allergy") or _template("allergy")).format(name=name)
    if kind in {"measurement", "performance_status"}:
        if c.quantity is None:
            return _template("measurement_qualitative").format(
                name=name, qualitative=c.qualitative or "normal")
        cmp_text = _cmp_text(q.comparators, c.quantity, c.quantity.unit)
        worded = _concept_template(cid, "measurement") or _template(
            "performance_status" if kind == "performance_status"
            else "score" if _single_kind(c) == "score" else "measurement")
        return worded.format(name=name, cmp=cmp_text)
    if kind == "age":
        assert c.quantity is not None
        unit = "months" if c.quantity.unit == "month" else "years"
        cmp_text = q.age_comparators[c.quantity.comparator].format(
            v=number(c.quantity.value), v2=number(c.quantity.value_high or 0), u=unit)
        return _template("age").format(cmp=cmp_text)
    if kind == "sex":
        return _template("sex", c.value or "any")
    if kind in {"pregnancy", "lactation", "menopause"}:
        if c.window is not None and c.window.relation == "duration":
            duration = _concept_template(cid, "duration")
            if duration:
                w = window_text(c.window)
                cmp_text = q.duration_comparators[c.window.comparator or "ge"].format(
                    w=w, v=number(c.window.amount or 0))
                return duration.format(cmp=cmp_text)
        state = _concept_template(cid, kind)
        if state:
            return state
        return _template("condition", "current").format(name=name)
    return team_text("other")


def or_list(concepts: list[Concept], conjunction: str = "or") -> str:
    return name_list([shown_name(alt.name) for alt in concepts], conjunction)


def name_list(given: list[str], conjunction: str) -> str:
    names = list(dict.fromkeys(given))
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + f" {conjunction} " + names[-1]
