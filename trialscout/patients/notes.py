"""Read a free-text clinical note into a profile, keeping the sentence behind every fact.

Each mention is checked with ConText: "denies diabetes" becomes a denied finding, "mother
had breast cancer" a family-history entry, "rule out pneumonia" nothing at all. Patterns
live in ``rules/notes.yaml``; concept names come from the shared vocabulary. The note
itself is kept as the profile's free text, so matching can still look things up in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from trialscout.patients.concepts import Mention, concept_index, norm
from trialscout.patients.context import Category, ConText, default_context
from trialscout.patients.model import (
    MAX_TEXT,
    Allergy,
    Condition,
    DeniedFinding,
    FactSource,
    FamilyHistory,
    Measurement,
    Medication,
    PatientProfile,
    Procedure,
)
from trialscout.patients.note_rules import note_rules
from trialscout.patients.note_spans import Containing, Spans, words_before
from trialscout.patients.sentences import Sentence, split_sentences
from trialscout.patients.times import UNIT_DAYS, EventTime, event_time
from trialscout.patients.units import normalize_unit

_I = re.IGNORECASE
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DAYS = {unit: days for unit, days in UNIT_DAYS.items() if unit not in {"wk", "mo"}}


_PAST_PREGNANCY_BEFORE = re.compile(
    r"\b(?:ectopic|previous|prior|past|earlier|first|last|former|molar|tubal|failed|lost|"
    r"loss of|terminated|termination of|after|following)\s+(?:\w+\s+)?$", _I)
_PAST_PREGNANCY_AFTER = re.compile(r"\s*(?:loss|losses|complications?|history|-related|"
                                   r"related|induced)\b", _I)
_MORE_THAN = re.compile(r"\b(?:more than|over|at least|greater than|longer than)\s*$", _I)
_AT_AGE = re.compile(r"[\s,]*(?:\w+\s+){0,3}?at (?:the )?age (?:of )?(?P<age>\d{1,2})\b", _I)


_HEAD_TAIL = re.compile(r"\s+(?:mellitus|type\s+(?:[12]|i{1,2})|of\s+the\s+\w+|of\s+\w+)", _I)
_TAIL_NOT_PART = re.compile(r"\b(?:of\s+(?:the\s+)?(?:patient|her|his|life))\b", _I)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_GAP_BREAK = re.compile(r"[,;:.()]")


_STOPPED = re.compile(r"\b(?:stopped|discontinued|completed|finished|off|previously|prior|"
                      r"former|past)\b", _I)
_KIN_WORD = re.compile(r"[a-z][a-z-]*")


def _relative(mods: list[Any], mention: Mention) -> str | None:
    """The relative a family cue names ("her mother, who": mother), if one does: a word
    of the cue that is a family cue by itself ("family history of" names none)."""
    context = default_context()
    for mod in mods:
        if mod.category == "family" and mod.scope_start <= mention.start < mod.scope_end:
            for word in _KIN_WORD.findall(str(mod.cue)):
                if word != "family" and context.category_of(word) == "family":
                    return word
    return None


_FIELDS = {"condition": "conditions", "medication": "medications", "procedure": "procedures"}


# a bound ("below 60") or the end of a range ("between 35 and 45", "20-24") is no value
_BOUND_BEFORE = re.compile(r"(?:[<>≤≥]=?|\bthan|\bbelow|\babove|\bunder|\bover|"
                           r"\d\s*(?:-|–|to|and))\s*$", re.IGNORECASE)

class NoteError(ValueError):
    """The input cannot be read as a clinical note."""


def _number(text: str, words: dict[str, float]) -> float | None:
    lowered = text.lower()
    if lowered in words:
        return words[lowered]
    try:
        return float(lowered)
    except ValueError:
        return None


def _days(n: float, unit: str) -> float:
    return n * _DAYS[unit.lower().rstrip("s")]


class _Reader:
    """State for reading one note: rules, context, the profile being built."""

    def __init__(self, text: str, reference_date: date) -> None:
        self.text = text
        self.ref = reference_date
        self.rules = note_rules()
        self.context: ConText = default_context()
        self.vocabulary = concept_index()
        self.data: dict[str, Any] = {
            "recorded_on": reference_date, "free_text": text, "conditions": [],
            "medications": [], "procedures": [], "measurements": [], "allergies": [],
            "denied": [], "family_history": [],
        }
        self._seen: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ helpers
    def source(self, sentence: Sentence, start: int | None = None,
               end: int | None = None) -> FactSource:
        return FactSource(kind="note", sentence=sentence.index, text=sentence.text[:5000],
                          start=None if start is None else sentence.start + start,
                          end=None if end is None else sentence.start + end)

    def assertion(self, sentence: Sentence, start: int, end: int,
                  mods: list[Any]) -> set[Category]:
        return self.context.categories(sentence.text, start, end, mods)

    def onset(self, sentence: str, start: int, end: int) -> date | None:
        """A date implied near a mention: "5 years ago", "10-year history of", "since 2015"."""
        rules = self.rules
        window = sentence[max(0, start - 60):min(len(sentence), end + 60)]
        for pattern in (rules.history_duration, rules.ago, rules.for_duration):
            match = pattern.search(window)
            if match:
                n = _number(match.group("n"), rules.number_words)
                if n is not None:
                    # "more than three weeks ago" is earlier than three weeks ago
                    extra = 1 if pattern is rules.ago and _MORE_THAN.search(
                        window[max(0, match.start() - 20):match.start()]) else 0
                    try:
                        return self.ref - timedelta(days=_days(n, match.group("unit")) + extra)
                    except (OverflowError, KeyError):
                        return None
        match = rules.since_year.search(window)
        if match:
            year = int(match.group("year") or match.group("year2"))
            if year <= self.ref.year:
                return date(year, 1, 1)
        return None

    def add(self, field: str, key: str, fact: dict[str, Any]) -> None:
        if (field, key) in self._seen:
            return
        self._seen.add((field, key))
        self.data[field].append(fact)

    # ------------------------------------------------------------------ sections
    def demographics(self, sentences: list[Sentence]) -> None:
        rules = self.rules
        for sentence in sentences:
            for pattern in rules.age:
                match = pattern.search(sentence.text)
                if not match:
                    continue
                groups = match.groupdict()
                age = None
                if groups.get("age"):
                    age = float(groups["age"])
                elif groups.get("months"):
                    age = round(float(groups["months"]) / 12, 2)
                if age is not None and age <= 120 and "age_years" not in self.data:
                    self.data["age_years"] = age
                    sex = (groups.get("sex") or "").lower()
                    if sex in {"m", "f"} and "sex" not in self.data:
                        self.data["sex"] = "male" if sex == "m" else "female"
            if "age_years" in self.data:
                break
        if "sex" not in self.data:
            for sentence in sentences:
                female = bool(rules.female.search(sentence.text))
                male = bool(rules.male.search(sentence.text))
                if female != male:
                    self.data["sex"] = "female" if female else "male"
                    break
        if "sex" not in self.data:
            she = len(rules.female_pronouns.findall(self.text))
            he = len(rules.male_pronouns.findall(self.text))
            if she > he:
                self.data["sex"] = "female"
            elif he > she:
                self.data["sex"] = "male"

    def status_flags(self, sentence: Sentence, mods: list[Any]) -> None:
        rules = self.rules
        text = sentence.text
        match: re.Match[str] | None
        for key, patterns in rules.pregnancy.items():
            for pattern in patterns:
                for match in pattern.finditer(text):
                    cats = self.assertion(sentence, match.start(), match.end(), mods)
                    if "hypothetical" in cats or "family" in cats:
                        continue
                    negated = "negated" in cats
                    if key in {"pregnant", "lactating"}:
                        if not negated and self.past_event(sentence, match, cats):
                            continue
                        self.data.setdefault(key, not negated)
                    elif not negated:
                        self.data.setdefault("menopause", key)
        match = rules.menopause_age.search(text)
        if match and self.data.get("age_years"):
            years_since = float(self.data["age_years"]) - float(match.group("age"))
            if 0 <= years_since < 80:
                self.data.setdefault("menopause", "postmenopausal")
                self.data.setdefault("menopause_date",
                                     self.ref - timedelta(days=years_since * UNIT_DAYS["year"]))
        match = rules.menopause_ago.search(text)
        if match:
            n = _number(match.group("n"), rules.number_words)
            days = _days(n, match.group("unit")) if n is not None else 0.0
            # periods that stopped less than a year ago do not make menopause yet
            if n is not None and ("menopause" in match.group().lower() or days >= 365):
                self.data.setdefault("menopause", "postmenopausal")
                self.data.setdefault("menopause_date",
                                     self.ref - timedelta(days=_days(n, match.group("unit"))))
        if "smoking" not in self.data:
            for key in ("never", "former", "current"):
                hit = next((m for p in rules.smoking[key] for m in p.finditer(text)), None)
                if hit is None:
                    continue
                cats = self.assertion(sentence, hit.start(), hit.end(), mods)
                if "hypothetical" in cats or "family" in cats:
                    continue
                if key == "current" and "negated" in cats:
                    key = "never"
                self.data["smoking"] = key
                break
        match = rules.pack_years.search(text)
        if match and "pack_years" not in self.data:
            value = float(match.group("n"))
            if value <= 300:
                # pack-years say she smoked, not whether she still does
                self.data["pack_years"] = value
        for name, pattern, top in (("ecog", rules.ecog, 5), ("karnofsky", rules.karnofsky, 100)):
            match = pattern.search(text)
            if match and name not in self.data:
                value = int(match.group("value"))
                if value <= top:
                    self.data[name] = value

    def past_event(self, sentence: Sentence, match: re.Match[str], cats: set[Category]
                   ) -> bool:
        """A pregnancy or breastfeeding that is over: "an ectopic pregnancy at age 26",
        "history of pregnancy loss", "pregnant 3 years ago". It says nothing about now."""
        if "historical" in cats:
            return True
        text = sentence.text
        before = text[max(0, match.start() - 30):match.start()]
        after = text[match.end():match.end() + 40]
        if _PAST_PREGNANCY_BEFORE.search(before) or _PAST_PREGNANCY_AFTER.match(after):
            return True
        at_age = _AT_AGE.match(after)
        age = self.data.get("age_years")
        if at_age and (age is None or float(at_age.group("age")) < float(age)):
            return True
        when = self.onset(text, match.start(), match.end())
        return when is not None and (self.ref - when).days > 300

    def measurements(self, sentence: Sentence, mods: list[Any]) -> None:
        text = sentence.text
        for match in self.rules.blood_pressure.finditer(text):
            for analyte, group in (("systolic blood pressure", "sys"),
                                   ("diastolic blood pressure", "dia")):
                self.add("measurements", f"{analyte}:{match.start()}:{sentence.index}", {
                    "name": analyte, "analyte": self.vocabulary.analyte(analyte),
                    "value": float(match.group(group)), "unit": "mm[Hg]",
                    "source": self.source(sentence, match.start(), match.end())})
        lowered = text.lower()
        covered: list[tuple[int, int]] = []
        for spec in self.rules.analytes:
            # a sentence without any of the names cannot match (cheap substring test)
            if not any(alias in lowered for alias in spec.aliases):
                continue
            for match in spec.pattern.finditer(text):
                covered.append((match.start(), match.end()))
                cats = self.assertion(sentence, match.start(), match.end(), mods)
                if "family" in cats or "hypothetical" in cats:
                    continue
                raw = match.group("value").replace(",", "")
                try:
                    value = float(raw)
                except ValueError:
                    continue
                written = match.group("unit")
                unit = normalize_unit(written) if written else None
                if unit is None:
                    unit = spec.unit
                    if spec.unit.startswith("10*3/") and value >= 1000:
                        value = value / 1000
                elif unit == "sd":
                    unit = "1"
                if spec.name == "temperature" and unit == "degC" and value > 50:
                    unit = "degF"
                if match.group("cmp"):
                    continue
                taken = event_time(text, match.start(), match.end(), self.ref,
                                   mentions=(), kind="condition")
                self.add("measurements", f"{spec.name}:{sentence.index}:{match.start()}", {
                    "name": match.group("alias"), "analyte": spec.name, "value": value,
                    "unit": unit, "date": taken.first_day,
                    "source": self.source(sentence, match.start(), match.end())})
        self.unit_values(sentence, covered)

    def unit_values(self, sentence: Sentence, covered: list[tuple[int, int]]) -> None:
        """Values the sentence gives by a unit only one analyte has, once it has named
        that analyte ("eGFR has stayed in the low 20s; the latest is 22 mL/min/1.73m2").
        A bound or the end of a range ("< 30", "between 20 and 24") is no value."""
        text = sentence.text
        lowered = text.lower()
        for spec, pattern in self.rules.unit_values:
            named = min((lowered.find(a) for a in spec.aliases if a in lowered), default=-1)
            if named < 0:
                continue
            for match in pattern.finditer(text, named):
                start, end = match.start(), match.end()
                if any(a < end and start < b for a, b in covered) or _BOUND_BEFORE.search(
                        text, max(0, start - 14), start):
                    continue
                self.add("measurements", f"{spec.name}:{sentence.index}:{start}", {
                    "name": spec.name, "analyte": spec.name,
                    "value": float(match.group("value")), "unit": spec.unit,
                    "source": self.source(sentence, start, end)})

    def _spans(self, text: str, head: re.Pattern[str]) -> Iterator[tuple[int, int]]:
        """Noun-phrase-like spans that end in a head word, extended left over modifiers.

        At most four words are taken, so only the words just before the head are read
        (:func:`_words_before`): the cost per head does not grow with the sentence."""
        stop = self.rules.stop_words
        for match in head.finditer(text):
            start, end = match.start(), match.end()
            tail = _HEAD_TAIL.match(text, end)
            if tail and not _TAIL_NOT_PART.search(tail.group()):
                end = tail.end()
            for taken, word in enumerate(words_before(text, start, 5)):
                gap = text[word.end():start]
                number = _NUMBER.fullmatch(word.group()) is not None
                said = word.group().lower()
                if taken >= 4 or said in stop or said.endswith("-old") or _GAP_BREAK.search(gap) \
                        or (number and taken == 0):
                    break
                start = word.start()
            yield start, end

    def mentions(self, sentence: Sentence, mods: list[Any]) -> None:
        text = sentence.text
        heads = list(self._spans(text, self.rules.condition_head))
        wider_heads = Containing(heads)
        vocab = []
        used = Spans()
        for m in self.vocabulary.find(text):
            if m.kind in {"condition", "observation"}:
                wider = wider_heads.first(m.start, m.end, text)
                if wider is not None:
                    s, e = wider
                    m = Mention(s, e, self.vocabulary.lookup(text[s:e]) or m.concept, m.kind,
                                text[s:e])
            vocab.append(m)
        for m in vocab:
            used.force(m.start, m.end)
        extra: list[Mention] = []
        for start, end in heads:
            if used.take(start, end):
                extra.append(Mention(start, end, "", "condition", text[start:end]))
        for start, end in self._spans(text, self.rules.procedure_head):
            if used.take(start, end):
                extra.append(Mention(start, end, "", "procedure", text[start:end]))
        for pattern in (self.rules.drug_names, self.rules.drug_suffix):
            for match in pattern.finditer(text):
                if used.take(match.start(), match.end()):
                    extra.append(Mention(match.start(), match.end(), "", "drug",
                                         match.group()))
        for pattern, template, parts in self.rules.event_phrases:
            for match in pattern.finditer(text):
                if used.take(match.start(), match.end()):
                    name = template.format(**{k: parts.get(v.lower(), v.lower()) for k, v in
                                              match.groupdict().items() if v})
                    # "broke her ankle": an ankle fracture is a fracture even where the
                    # vocabulary has no concept for the site
                    extra.append(Mention(match.start(), match.end(),
                                         self.vocabulary.concept_for(name) or "", "condition",
                                         name))
        spans = tuple((m.start, m.end) for m in [*vocab, *extra])
        for mention in [*vocab, *extra]:
            self.mention(sentence, mention, mods, spans)

    def mention(self, sentence: Sentence, mention: Mention, mods: list[Any],
                spans: tuple[tuple[int, int], ...] = ()) -> None:
        kind = {"condition": "condition", "observation": "condition", "drug": "medication",
                "drug_class": "medication", "procedure": "procedure"}.get(mention.kind)
        if kind is None:
            return
        cats = self.assertion(sentence, mention.start, mention.end, mods)
        if "hypothetical" in cats:
            return
        if "negated" in cats and "family" in cats:
            return
        if "family" in cats and kind != "condition":
            return
        name = mention.text.strip()
        concept = mention.concept or self.vocabulary.lookup(name)
        key = concept or norm(name)
        field = "denied" if "negated" in cats else "family_history" if "family" in cats \
            else _FIELDS[kind]
        if (field, f"{kind}:{key}" if field == "denied" else key) in self._seen:
            return
        src = self.source(sentence, mention.start, mention.end)
        if "negated" in cats:
            self.add("denied", f"{kind}:{key}", {"name": name, "concept": concept,
                                                 "kind": kind, "source": src})
            return
        if "family" in cats:
            self.add("family_history", key, {"name": name, "concept": concept,
                                             "relative": _relative(mods, mention),
                                             "source": src})
            return
        age = self.data.get("age_years")
        when = event_time(sentence.text, mention.start, mention.end, self.ref,
                          mentions=spans or None, kind=kind,
                          age=float(age) if age is not None else None)
        start = when.first_day
        if kind == "condition":
            over = when.end is not None or when.current is False
            self.add("conditions", key, {
                "name": name, "concept": concept, "onset": start,
                "abatement": when.end[0] if when.end else None,
                "status": "resolved" if over else "active", "source": src})
        elif kind == "procedure":
            moment = when.start or when.end or when.last
            self.add("procedures", key, {"name": name, "concept": concept,
                                         "date": moment[0] if moment else None,
                                         "source": src})
        else:
            self.add("medications", key, {
                "name": name, "concept": concept, "start": start,
                "stop": when.end[0] if when.end else None,
                "last_dose": when.last[0] if when.last else None,
                "status": self.medication_status(sentence.text, when), "source": src})

    def medication_status(self, sentence: str, when: EventTime) -> str:
        """Active when the note says so ("currently takes"), stopped when it gives an end
        or speaks of the past, otherwise unknown: a bare mention does not say."""
        if when.end is not None or when.current is False:
            return "stopped"
        if _STOPPED.search(sentence):
            return "stopped"
        if when.current:
            return "active"
        return "unknown"

    def other_facts(self, sentence: Sentence, mods: list[Any]) -> None:
        text = sentence.text
        if any(p.search(text) for p in self.rules.no_medications):
            self.add("denied", "medication:any", {
                "name": "any medication", "kind": "medication", "source": self.source(sentence)})
        if any(p.search(text) for p in self.rules.no_allergies):
            self.add("denied", "allergy:any", {
                "name": "any drug allergy", "kind": "allergy", "source": self.source(sentence)})
            return
        for match in self.rules.allergy.finditer(text):
            cats = self.assertion(sentence, match.start(), match.end(), mods)
            what = match.group("what").strip()
            if not what or "hypothetical" in cats or "family" in cats:
                continue
            concept = self.vocabulary.lookup(what)
            src = self.source(sentence, match.start(), match.end())
            if "negated" in cats:
                self.add("denied", f"allergy:{norm(what)}", {
                    "name": what, "concept": concept, "kind": "allergy", "source": src})
            else:
                self.add("allergies", norm(what), {"substance": what, "concept": concept,
                                                   "source": src})

    def read(self) -> PatientProfile:
        sentences = split_sentences(self.text)
        self.demographics(sentences)
        for sentence in sentences:
            mods = self.context.modifiers(sentence.text)
            self.status_flags(sentence, mods)
            self.measurements(sentence, mods)
            self.mentions(sentence, mods)
            self.other_facts(sentence, mods)
        if self.data.get("sex") == "male":
            for key in ("pregnant", "lactating", "menopause", "menopause_date"):
                self.data.pop(key, None)
        return _build(self.data)


def _build(data: dict[str, Any]) -> PatientProfile:
    models = {"conditions": Condition, "medications": Medication, "procedures": Procedure,
              "measurements": Measurement, "allergies": Allergy, "denied": DeniedFinding,
              "family_history": FamilyHistory}
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if key in models:
            clean[key] = [models[key](**{k: v for k, v in item.items() if v is not None})
                          for item in value]
        else:
            clean[key] = value
    return PatientProfile(**clean)


@lru_cache(maxsize=65_536)
def implied_date(sentence: str, start: int, end: int, reference_date: date) -> date | None:
    """The date a note sentence implies for the mention at ``start:end`` ("3 years ago").

    Pure, and asked again for the same mention by every criterion about its concept, so
    the answers are remembered."""
    when = event_time(sentence, start, end, reference_date)
    moment = when.start or when.last or when.end
    return moment[0] if moment else None


def extract_note(text: str, *, reference_date: date | None = None,
                 label: str | None = None, max_chars: int = MAX_TEXT) -> PatientProfile:
    """Build a profile from a clinical note; relative dates count back from ``reference_date``.

    Raises :class:`NoteError` for input that is not usable text (empty, binary, or longer
    than ``max_chars``, the ``max_note_chars`` setting). Reading time is linear in the
    note's length (see :mod:`trialscout.patients.sentences`).
    """
    if not isinstance(text, str):
        raise NoteError("a clinical note must be text")
    limit = min(max_chars, MAX_TEXT)
    if len(text) > limit:
        raise NoteError(f"the note is too long ({len(text):,} characters; at most {limit:,}, "
                        "the max_note_chars setting)")
    if "\x00" in text:
        raise NoteError("the note contains NUL bytes: it looks like a binary file, not text")
    cleaned = _CONTROL.sub(" ", text)
    if not cleaned.strip():
        raise NoteError("the note is empty")
    reader = _Reader(cleaned, reference_date or date.today())
    profile = reader.read()
    if label is not None:
        profile.label = label
    return profile
