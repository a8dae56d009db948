"""The one question a criterion item asks, made from its constraints' questions.

One constraint: its question. A few: asked as one sentence, joined as the item joins them
("or" where it offers alternatives; the same question about several names asks about them
all at once), when that sentence reads plainly and every part is answered the same way
to meet the criterion. A test or scan that only shows the finding ("by PET") is not asked
about, nor is a sex another part implies ("pregnant women"). When part of the criterion
cannot be asked, or the parts do not make one plain question, the item says what the
study team checks: a question about the rest would say something else than the criterion.
"""

from __future__ import annotations

import re
from typing import Final

from trialscout.criteria.construct import build
from trialscout.criteria.model import UNANSWERABLE_KINDS, Answer, Concept, Constraint, Question
from trialscout.criteria.questions import (
    NAMED_KINDS,
    PRESENCE_KINDS,
    STUDY_TEAM,
    concepts_of,
    derived_rules,
    group_of,
    hash_text,
    name_list,
    number,
    or_list,
    shown_name,
    team_text,
    usable_name,
)

# Question words a merged question may continue with in lower case.
_MERGEABLE: Final = re.compile(r"^(?:Are|Is|Have|Has|Do|Does|Did|Could|Can|Were|Was) ")
_MERGED_LIMIT: Final = 3
_MERGED_LENGTH: Final = 240
_SCOPE: Final = frozenset({"sex", "age"})
_FEMALE_STATES: Final = frozenset({"pregnancy", "lactation", "menopause"})


def item_question(constraints: list[Constraint], section: str, item_text: str) -> Question:
    """The one question an item asks: its constraint's, its few constraints' asked as one
    sentence, or, when no plain question covers the criterion, what the study team checks.
    What the criterion excepts is named in the question ("... (not counting skin
    cancer)?"); a criterion that applies only if something holds ("..., if used") is
    not asked: a patient it does not apply to would answer "no"."""
    question = _plain_question(constraints, section, item_text)
    if not question.answerable:
        return question
    d = derived_rules()
    if d.conditional.search(item_text) is not None:
        return _team_item(constraints[0].kind if constraints else "other", item_text,
                          question.meets)
    excepted = [x for c in constraints if c.exception for x in concepts_of(c)]
    if not excepted:
        return question
    if not all(usable_name(x) for x in excepted) or not question.text.endswith("?"):
        return _team_item(constraints[0].kind, item_text, question.meets)
    ids = ",".join(sorted({x.id for x in excepted}))
    return build(Question, {"key": f"{question.key};except:{ids}",
                            "text": f"{question.text[:-1]} (not counting {or_list(excepted)})?",
                            "meets": question.meets, "answerable": True,
                            "kind": question.kind})


def _plain_question(constraints: list[Constraint], section: str, item_text: str) -> Question:
    """The item's question, leaving out what it excepts."""
    if len(constraints) == 1:
        # most items: one constraint, its own question (or its consent-like statement)
        only = constraints[0]
        q = only.question
        if q is not None and not only.exception and (
                (q.answerable and (only.kind != "procedure" or not _is_method(only, item_text)))
                or only.kind in UNANSWERABLE_KINDS or only.kind == "other"):
            return q
    meets: Answer = "yes" if section == "inclusion" else "no"
    main = [c for c in constraints if not c.exception and c.question is not None]
    method = [c for c in main if c.kind == "procedure" and _is_method(c, item_text)]
    if len(method) < len(main):
        method += [c for c in main if c not in method and _is_test(c)
                   and any(o.kind not in _SCOPE and not _is_test(o) for o in main)]
    unclear: list[Constraint] = []
    asked: list[Constraint] = []
    for c in main:
        if c in method or c.question is None:
            continue
        if c.question.answerable:
            asked.append(c)
        elif c.kind not in UNANSWERABLE_KINDS:
            unclear.append(c)
    vague = [c for c in unclear if _only_vague(c)]
    if unclear and (len(vague) < len(unclear) or not any(c.kind not in _SCOPE for c in asked)):
        # Part of the criterion cannot be asked: a question about the rest would say
        # something else than the criterion.
        return _team_item(unclear[0].kind, item_text, meets)
    asked = _implied_dropped(asked)
    distinct: dict[str, Constraint] = {}
    for c in asked:
        assert c.question is not None
        distinct.setdefault(c.question.key, c)
    chosen = list(distinct.values())
    if len(chosen) == 1 and chosen[0].question is not None:
        return chosen[0].question
    if chosen:
        merged = _merged(chosen, section, item_text, meets)
        if merged is not None:
            return merged
        kinds = {group_of(c.kind) for c in chosen}
        return _team_item(kinds.pop() if len(kinds) == 1 else "other", item_text, meets)
    if method:
        # "the results of your PET scan", unless the item offers other ways to show it
        named = all(usable_name(x) for x in concepts_of(method[0])) \
            and not _offers_alternatives(item_text)
        return build(Question, {"key": "team:" + hash_text(item_text),
                                "text": team_text("method", or_list(concepts_of(method[0]))
                                                  if named else ""),
                                "meets": meets, "answerable": False, "kind": STUDY_TEAM})
    if main and main[0].question is not None:
        return main[0].question
    return _team_item("other", item_text, meets)


def _team_item(kind: str, item_text: str, meets: Answer) -> Question:
    return build(Question, {"key": "team:" + hash_text(item_text),
                            "text": team_text(group_of(kind)), "meets": meets,
                            "answerable": False, "kind": STUDY_TEAM})


def _only_vague(c: Constraint) -> bool:
    """A constraint left unasked only for its concept's name ("prior *treatment* with
    bisphosphonates" beside the bisphosphonates themselves)."""
    concepts = concepts_of(c)
    return c.kind in NAMED_KINDS and c.modality == "actual" and c.experiencer == "patient" \
        and bool(concepts) and not all(usable_name(x) for x in concepts)


def _is_method(c: Constraint, item_text: str) -> bool:
    """A test or scan that only says how the criterion's finding is shown ("amyloid
    positive *by PET*")."""
    if c.kind != "procedure" or c.concept is None or c.any_of or c.modality != "actual":
        return False
    at = _written_at(c.concept, item_text)
    return at >= 0 and derived_rules().method.search(item_text[max(0, at - 40):at]) is not None


def _is_test(c: Constraint) -> bool:
    """A procedure that is a test or scan (DXA, MRI, biopsy)."""
    concept = c.concept
    return c.kind == "procedure" and concept is not None and not c.any_of \
        and derived_rules().test.search(f" {concept.name} {concept.id} ") is not None


def _written_at(concept: Concept, text: str) -> int:
    """Where ``concept`` is written in ``text``, or -1."""
    span = concept.span
    if 0 <= span.start < span.end <= len(text) and \
            text[span.start:span.end].casefold() == concept.text.casefold():
        return span.start
    return text.casefold().find(concept.text.casefold()) if concept.text else -1


def _implied_dropped(asked: list[Constraint]) -> list[Constraint]:
    """Without a sex that says nothing ("men and women") or that another part implies
    ("pregnant women": being pregnant says female)."""
    female = any(c.kind in _FEMALE_STATES for c in asked)
    kept = [c for c in asked if not (c.kind == "sex" and (
        c.value not in {"female", "male"} or (female and c.value == "female")))]
    return kept or asked


def _merged(chosen: list[Constraint], section: str, item_text: str,
            meets: Answer) -> Question | None:
    """Several questions asked as one sentence, joined as the item joins them ("or" where
    the item offers alternatives), or None when that sentence would not read plainly."""
    if any(c.question is None or c.question.meets != meets for c in chosen):
        return None
    scope = [c for c in chosen if c.kind in _SCOPE]
    rest = [c for c in chosen if c.kind not in _SCOPE]
    if not rest:
        scope, rest = [], scope
    when = [(c, w) for c in scope for w in [_event_age(c, item_text)] if w is not None]
    if when and (len(when) > 1 or any(c.kind not in PRESENCE_KINDS for c in rest)):
        return None
    scope = [c for c in scope if not when or c is not when[0][0]]
    either = len(rest) > 1 and (
        _offers_alternatives(item_text)
        or (section == "exclusion" and all(c.kind in PRESENCE_KINDS for c in rest)))
    conjunction = "or" if either else "and"
    rest_keys = sorted(c.question.key for c in rest if c.question is not None)
    joined = _joined(rest, conjunction)
    if joined is None or (scope and joined[1] > 1 and conjunction == "or"):
        # "Are you 18 or older, and have you had A, or have you taken B?" reads two ways
        return None
    rest_text = joined[0]
    if when:
        if joined[1] > 1:
            return None
        rest_text = f"{rest_text[:-1]} {when[0][1]}?"
    texts = [c.question.text for c in scope if c.question is not None] + [rest_text]
    text = _sentences_joined(texts, "and") if scope else rest_text
    if text is None or len(text) > _MERGED_LENGTH:
        return None
    # an event's age is part of what is asked, not the patient's age: its own key part
    timing = [f"when:{w.replace(' ', '_')}" for _, w in when]
    if either:
        rest_key = "any:" + "|".join(rest_keys)
        keys = sorted([c.question.key for c in scope if c.question is not None]
                      + [rest_key] + timing)
        key = rest_key if not scope and not timing else "all:" + "&".join(keys)
    else:
        key = "all:" + "&".join(sorted([c.question.key for c in scope + rest
                                        if c.question is not None] + timing))
    return build(Question, {"key": key, "text": text, "meets": meets, "answerable": True,
                            "kind": "combined"})


def _event_age(c: Constraint, item_text: str) -> str | None:
    """"after age 45" when ``c`` is the age at which the item's event happened."""
    if c.kind != "age" or c.quantity is None or c.quantity.comparator == "between":
        return None
    start = c.span.start
    if not 0 < start <= len(item_text):
        return None
    found = derived_rules().event_age.search(item_text, max(0, start - 30), start)
    if found is None:
        return None
    return f"{found.group(1).lower()} age {number(c.quantity.value)}"


def _offers_alternatives(item_text: str) -> bool:
    """Whether the item's own words (not its parentheses) join its parts with "or"."""
    d = derived_rules()
    if d.disjunctive.search(item_text) is None:
        return False
    return d.disjunctive.search(d.not_alternatives.sub(" ", item_text)) is not None


def _joined(cs: list[Constraint], conjunction: str) -> tuple[str, int] | None:
    """The questions of ``cs`` as one: those that differ only in the name they ask about
    share one question naming them all ("diagnosed with A, B or C"), the rest are
    chained ("…, or have you ever taken D?"), at most ``_MERGED_LIMIT`` of them."""
    shapes: dict[str, list[str]] = {}
    for c in cs:
        if c.question is None:
            return None
        text = c.question.text
        name = shown_name(c.concept.name) if c.concept is not None and not c.any_of else ""
        if name and name in text:
            shapes.setdefault(text.replace(name, "\x00", 1), []).append(name)
        else:
            shapes.setdefault(text, [])
    if len(shapes) > _MERGED_LIMIT:
        return None
    texts = [shape.replace("\x00", name_list(names, conjunction)) if names else shape
             for shape, names in shapes.items()]
    if len(texts) == 1:
        return texts[0], 1
    chained = _sentences_joined(texts, conjunction)
    return None if chained is None else (chained, len(texts))


def _sentences_joined(texts: list[str], conjunction: str) -> str | None:
    """"Are you female?" and "Are you 55 or older?" -> "Are you female, and are you 55
    or older?"; None for questions that do not chain ("If you could …, will you …?")."""
    parts = []
    for i, text in enumerate(texts):
        body = text.strip()
        if not body.endswith("?") or _MERGEABLE.match(body) is None or "?" in body[:-1]:
            return None
        body = body[:-1]
        parts.append(body if i == 0 else body[:1].lower() + body[1:])
    if len(parts) == 2:
        return f"{parts[0]}, {conjunction} {parts[1]}?"
    return ", ".join(parts[:-1]) + f", {conjunction} {parts[-1]}?"
