"""Entity-level evaluation of criteria parsing on annotated corpora.

Reads brat standoff (``*.txt`` + ``*.ann``, as in Chia and the Leaf Clinical Trials corpus)
or the Facebook Clinical-Trial-Parser NER TSV (``start:end:label,...<TAB>text``), runs the
criteria parser over each text, and compares the mentions it finds with the annotated
entities: precision, recall and F1 per entity type, exact (same start, end and type) and
relaxed (overlapping spans of the same type, matched one to one).

Which corpus label counts as which evaluation type, and which of our mention types answer
it, is data: ``trialscout/criteria/rules/eval_labels.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialscout.criteria import rules
from trialscout.criteria.extract import build_drafts
from trialscout.criteria.mentions import Mention, find
from trialscout.criteria.split import split_items
from trialscout.criteria.text import clean
from trialscout.evaluation.sets import SetRoles, roles_for


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    type: str


@dataclass
class Document:
    id: str
    text: str
    gold: list[Entity]


@dataclass
class TypeScore:
    type: str
    gold: int = 0
    predicted: int = 0
    exact: int = 0
    relaxed_gold: int = 0
    relaxed_predicted: int = 0

    @staticmethod
    def _prf(tp_p: int, tp_g: int, predicted: int, gold: int) -> dict[str, float]:
        p = tp_p / predicted if predicted else 0.0
        r = tp_g / gold if gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}

    def as_dict(self) -> dict[str, Any]:
        return {"gold": self.gold, "predicted": self.predicted,
                "exact": self._prf(self.exact, self.exact, self.predicted, self.gold),
                "relaxed": self._prf(self.relaxed_predicted, self.relaxed_gold,
                                     self.predicted, self.gold)}


@dataclass
class EvalReport:
    corpus: str
    documents: int
    types: dict[str, TypeScore] = field(default_factory=dict)
    unmapped_gold: dict[str, int] = field(default_factory=dict)
    sets: SetRoles = field(default_factory=SetRoles)

    @property
    def overall(self) -> TypeScore:
        total = TypeScore("overall")
        for score in self.types.values():
            total.gold += score.gold
            total.predicted += score.predicted
            total.exact += score.exact
            total.relaxed_gold += score.relaxed_gold
            total.relaxed_predicted += score.relaxed_predicted
        return total

    def as_dict(self) -> dict[str, Any]:
        return {"benchmark_sets": self.sets.as_dict(),
                "corpus": self.corpus, "documents": self.documents,
                "types": {name: s.as_dict() for name, s in sorted(self.types.items())},
                "overall": self.overall.as_dict(),
                "unmapped_gold_labels": dict(sorted(self.unmapped_gold.items()))}


# ----------------------------------------------------------------------------- readers
def read_brat_file(txt: Path, labels: dict[str, str] | None = None,
                   unmapped: dict[str, int] | None = None) -> Document:
    """One brat document; with ``labels``, gold entities are mapped to evaluation types."""
    with open(txt, encoding="utf-8", newline="") as handle:
        text = handle.read()
    gold: set[Entity] = set()
    crlf = _crlf_map(text)
    ann = txt.with_suffix(".ann")
    if ann.is_file():
        with open(ann, encoding="utf-8", newline="") as handle:
            for line in handle:
                if not line.startswith("T"):
                    continue
                parts = line.rstrip("\r\n").split("\t")
                if len(parts) < 2:
                    continue
                label, _, offsets = parts[1].partition(" ")
                try:
                    pieces = [tuple(int(x) for x in frag.split()) for frag in offsets.split(";")]
                    start = min(p[0] for p in pieces)
                    end = max(p[1] for p in pieces)
                except (ValueError, IndexError):
                    continue
                surface = parts[2] if len(parts) > 2 else None
                start, end = _align(text, start, end, surface, crlf)
                if labels is not None:
                    mapped = labels.get(label)
                    if mapped is None:
                        if unmapped is not None:
                            unmapped[label] = unmapped.get(label, 0) + 1
                        continue
                    label = mapped
                if 0 <= start < end <= len(text):
                    gold.add(Entity(start, end, label))
    return Document(txt.stem, text, sorted(gold, key=lambda e: (e.start, e.end, e.type)))


def _crlf_map(text: str) -> list[int]:
    """For each offset of the text as if its line ends were CRLF, the real offset.

    Some corpora were annotated on CRLF files and shipped with LF line ends, so their
    offsets drift by one per line; the surface string in the .ann line tells which.
    """
    out: list[int] = []
    for i, ch in enumerate(text):
        if ch == "\n":
            out.append(i)
        out.append(i)
    out.append(len(text))
    return out


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _align(text: str, start: int, end: int, surface: str | None,
           crlf: list[int]) -> tuple[int, int]:
    if surface is None or _same(text[start:end], surface):
        return start, end
    if end < len(crlf):
        a, b = crlf[start], crlf[end]
        if _same(text[a:b], surface):
            return a, b
    return start, end


def read_brat_dir(path: Path, labels: dict[str, str] | None = None,
                  unmapped: dict[str, int] | None = None) -> Iterator[Document]:
    for txt in sorted(Path(path).rglob("*.txt")):
        if txt.with_suffix(".ann").is_file():
            yield read_brat_file(txt, labels, unmapped)


def read_facebook_tsv(path: Path, labels: dict[str, str] | None = None,
                      unmapped: dict[str, int] | None = None) -> Iterator[Document]:
    """The Facebook NER TSV: 1-based inclusive starts, 1-based exclusive ends plus one."""
    with open(path, encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\r\n")
            spans, sep, text = line.partition("\t")
            if not sep:
                continue
            gold: set[Entity] = set()
            for part in filter(None, spans.split(",")):
                fields = part.split(":")
                if len(fields) < 3:
                    continue
                try:
                    start, end = int(fields[0]) - 1, int(fields[1]) - 1
                except ValueError:
                    continue
                label = ":".join(fields[2:])
                if labels is not None:
                    mapped = labels.get(label)
                    if mapped is None:
                        if unmapped is not None:
                            unmapped[label] = unmapped.get(label, 0) + 1
                        continue
                    label = mapped
                if 0 <= start < end <= len(text):
                    gold.add(Entity(start, end, label))
            # the corpus writes every number as "@NUMBER"; a same-length numeral keeps the
            # offsets and lets the value patterns see a number
            yield Document(f"line{number}", text.replace("@NUMBER", "1000000"),
                           sorted(gold, key=lambda e: (e.start, e.end)))


def detect_brat_corpus(path: Path) -> str:
    """``lct`` when the annotations use LCT's labels, else ``chia``."""
    for ann in sorted(Path(path).rglob("*.ann"))[:50]:
        with open(ann, encoding="utf-8") as handle:
            head = handle.read(20000)
        if "Condition-Name" in head or "Eq-Comparison" in head or "Eq-Value" in head:
            return "lct"
    return "chia"


# ----------------------------------------------------------------------------- prediction
def mentions_in(text: str) -> list[tuple[int, int, Mention]]:
    """Every mention the parser finds in ``text``, with spans into ``text``.

    Besides the mention finder's own types, the targets of allergy constraints are
    reported as ``allergen`` mentions.
    """
    out: list[tuple[int, int, Mention]] = []
    for raw in split_items(text).items:
        cleaned = clean(text, raw.start, raw.end)
        found = find(cleaned.text, heading=raw.heading)
        mentions = found.all()
        for draft in build_drafts(found, raw.section, raw.heading):
            if draft.kind == "allergy" and draft.concept is not None and \
                    draft.concept.concept_id != "allergy":
                target = draft.concept
                mentions.append(Mention("allergen", target.start, target.end))
        for mention in mentions:
            a, b = cleaned.span(mention.start, mention.end)
            out.append((a, b, mention))
    return out


def predict(text: str, corpus: str) -> list[Entity]:
    spec = rules.eval_labels().corpora[corpus]
    out: set[Entity] = set()
    for a, b, m in mentions_in(text):
        etype = spec.ours.get(m.type)
        if etype is None:
            continue
        if m.type in {"value", "time_value"}:
            bare = m.comparator is None and m.unit is None and m.time_unit is None
            if bare and spec.value_span != "number":
                continue
            for span in _value_spans(text, a, b, m, spec.value_span):
                out.add(Entity(span[0], span[1], etype))
            continue
        out.add(Entity(a, b, etype))
    return sorted(out, key=lambda e: (e.start, e.end, e.type))


def _value_spans(text: str, a: int, b: int, m: Mention, how: str) -> list[tuple[int, int]]:
    if how == "full":
        return [(a, b)]
    # quantity and number spans are relative to the cleaned item; locate them by offset
    # from the mention start, which the cleaning keeps for everything but escapes.
    shift = a - m.start
    if how == "quantity" and m.quantity is not None:
        return [(m.quantity[0] + shift, m.quantity[1] + shift)]
    if how == "number":
        return [(s + shift, e + shift) for s, e in m.numbers]
    return [(a, b)]


# ----------------------------------------------------------------------------- scoring
def _score_document(gold: list[Entity], predicted: list[Entity],
                    scores: dict[str, TypeScore]) -> None:
    gold_by: dict[str, list[Entity]] = {}
    pred_by: dict[str, list[Entity]] = {}
    for g in gold:
        gold_by.setdefault(g.type, []).append(g)
    for p in predicted:
        pred_by.setdefault(p.type, []).append(p)
    for etype in set(gold_by) | set(pred_by):
        gs = gold_by.get(etype, [])
        ps = pred_by.get(etype, [])
        score = scores.setdefault(etype, TypeScore(etype))
        score.gold += len(gs)
        score.predicted += len(ps)
        gold_set = {(g.start, g.end) for g in gs}
        score.exact += sum((p.start, p.end) in gold_set for p in ps)
        used: set[int] = set()
        matched_gold = 0
        for g in gs:
            for i, p in enumerate(ps):
                if i not in used and p.start < g.end and g.start < p.end:
                    used.add(i)
                    matched_gold += 1
                    break
        score.relaxed_gold += matched_gold
        score.relaxed_predicted += len(used)


def evaluate_documents(documents: Iterable[Document], corpus: str,
                       unmapped: dict[str, int] | None = None) -> EvalReport:
    scores: dict[str, TypeScore] = {}
    count = 0
    for doc in documents:
        count += 1
        _score_document(doc.gold, predict(doc.text, corpus), scores)
    return EvalReport(corpus, count, scores, dict(unmapped or {}))


def evaluate_brat(path: Path, corpus: str | None = None) -> EvalReport:
    """Score the parser on a directory of brat files (Chia or LCT layout)."""
    name = corpus or detect_brat_corpus(path)
    labels = rules.eval_labels().corpora[name].gold
    unmapped: dict[str, int] = {}
    docs = list(read_brat_dir(path, labels, unmapped))
    report = evaluate_documents(docs, name, unmapped)
    report.sets = roles_for([path])
    return report


def evaluate_tsv(path: Path, corpus: str = "facebook") -> EvalReport:
    """Score the parser on the Facebook NER TSV."""
    labels = rules.eval_labels().corpora[corpus].gold
    unmapped: dict[str, int] = {}
    docs = list(read_facebook_tsv(path, labels, unmapped))
    report = evaluate_documents(docs, corpus, unmapped)
    report.sets = roles_for([path])
    return report
