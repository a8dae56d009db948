"""The knowledge base: one is-a graph over the shared vocabulary, the curated knowledge
files and the MeSH descriptors of the installed lexicon packages.

Node ids are the ids criteria and patient facts already carry: a vocabulary id
(``glucocorticoid``), else ``mesh_<slug of the MeSH name>`` (the criteria lexicon's id for
a packaged term). A packaged descriptor whose name is a curated form joins that curated
node, so "Ovarian Neoplasms" and the vocabulary's ``ovarian_cancer`` are one node.

Edges, and why each is safe:

* vocabulary ``parents`` and curated ``parents`` / ``members`` (reviewed by hand);
* a curated condition's ``mesh_tree``: every MeSH descriptor strictly below it, minus
  ``mesh_exclude`` (benign tumours are not a malignancy);
* the MeSH disease tree itself (a descriptor's nearest packaged ancestor), except into a
  node whose members a curated ``mesh_tree`` defines;
* a regimen's components: receiving FOLFOX is receiving oxaliplatin.

MeSH drug trees are chemical structure, not pharmacological action ("steroids" holds
oestradiol), so drug classes come from the curated ATC-based file only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

import yaml

from trialscout.knowledge import mesh
from trialscout.knowledge.schema import (
    ConditionsFile,
    Definition,
    DefinitionsFile,
    DrugClassesFile,
    Member,
)
from trialscout.vocabulary import Vocabulary, normalize_term, slug, vocabulary

DATA_DIR: Final = Path(__file__).parent
_CLINICAL: Final = frozenset({"condition", "procedure", "observation"})
_TREATMENT: Final = frozenset({"drug", "drug_class", "regimen", "procedure"})
# Signs, symptoms and neurologic manifestations are findings, not disorders: the MeSH tree
# does not make paraesthesia a "neurological disorder" here.
SYMPTOM_TREES: Final = ("C23.888", "C10.597")
VOCABULARY_SOURCE: Final = "TrialScout shared vocabulary (trialscout/vocabulary/synonyms.yaml)"


class Node:
    """A concept: names, is-a parents, components (regimens) and where it comes from."""

    __slots__ = ("components", "forms", "id", "kind", "name", "parents", "source", "trees")

    def __init__(self, cid: str, name: str, kind: str, source: str) -> None:
        self.id = cid
        self.name = name
        self.kind = kind
        self.source = source
        self.forms: set[str] = set()
        self.parents: set[str] = set()
        self.components: set[str] = set()
        self.trees: set[str] = set()


def _read(name: str) -> dict[str, object]:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected a mapping")
    return data


def load_files() -> tuple[DrugClassesFile, ConditionsFile, DefinitionsFile]:
    """The three curated files, validated (an unknown field is an error)."""
    return (DrugClassesFile.model_validate(_read("drug_classes.yaml")),
            ConditionsFile.model_validate(_read("conditions.yaml")),
            DefinitionsFile.model_validate(_read("definitions.yaml")))


class KnowledgeBase:
    """Lookups by id and by surface form, ancestors and descendants, and definitions."""

    def __init__(self, vocab: Vocabulary, drug_classes: DrugClassesFile,
                 conditions: ConditionsFile, definitions: DefinitionsFile, *,
                 packages: bool = True) -> None:
        self.nodes: dict[str, Node] = {}
        self.by_form: dict[str, str] = {}
        self.exact: dict[str, str] = {}
        self.aliases: dict[str, str] = {}
        # class -> words that, written with a member, mean a use outside the class
        self.not_with: dict[str, tuple[str, ...]] = {}
        self.versions = {"drug_classes": drug_classes.version,
                         "conditions": conditions.version,
                         "definitions": definitions.version}
        self.tuned_on = sorted(set(drug_classes.tuned_on) | set(conditions.tuned_on)
                               | set(definitions.tuned_on))
        self._ancestors: dict[str, frozenset[str]] = {}
        self._descendants: dict[str, frozenset[str]] = {}
        self._forms: dict[frozenset[str], frozenset[str]] = {}
        self._curated_trees: set[str] = set()
        self._reviewed: set[str] = set()
        self._add_vocabulary(vocab)
        self._add_conditions(conditions)
        self._add_drug_classes(drug_classes)
        if packages:
            self._add_mesh_diseases(conditions)
            self._add_mesh_drugs()
        self._children: dict[str, set[str]] = {}
        for node in self.nodes.values():
            for parent in node.parents | node.components:
                self._children.setdefault(parent, set()).add(node.id)
        for cid, entry in conditions.conditions.items():
            self.nodes[cid].parents.difference_update(entry.not_a)
        self._prefer_curated(drug_classes, conditions)
        self.definitions: list[Definition] = list(definitions.definitions)
        for definition in self.definitions:
            for cid in (definition.condition, *definition.not_when, *definition.requires):
                if cid not in self.nodes:
                    raise ValueError(f"definition names an unknown condition {cid!r}")

    # ------------------------------------------------------------------ building
    def _node(self, cid: str, name: str, kind: str, source: str) -> Node:
        node = self.nodes.get(cid)
        if node is None:
            node = self.nodes[cid] = Node(cid, name, kind, source)
            self._form(name, cid)
        return node

    def _form(self, form: str, cid: str) -> None:
        key = normalize_term(form)
        if key:
            self.nodes[cid].forms.add(key)
            self.by_form.setdefault(key, cid)

    def _add_vocabulary(self, vocab: Vocabulary) -> None:
        for concept in vocab.concepts():
            node = self._node(concept.id, concept.name, concept.kind, VOCABULARY_SOURCE)
            node.parents.update(concept.parents)
            for form in concept.synonyms:
                self._form(form, concept.id)
            for abbrev in concept.abbreviations:
                if abbrev.strip():
                    self.exact.setdefault(abbrev.strip(), concept.id)

    def _named(self, name: str, kind: str, source: str) -> str:
        """The node a curated member name means, created when nothing knows it yet."""
        cid = self.resolve(name)
        if cid is None:
            cid = slug(name)
            if cid in self.nodes:
                cid = f"{kind}_{cid}"
            self._node(cid, name, kind, source)
        return cid

    def _add_conditions(self, conditions: ConditionsFile) -> None:
        for cid, entry in conditions.conditions.items():
            node = self._node(cid, entry.name, entry.kind, entry.source)
            node.source = entry.source
            self._reviewed.add(cid)
            node.parents.update(entry.parents)
            for form in entry.synonyms:
                self._form(form, cid)
            if entry.mesh_tree:
                self._curated_trees.add(cid)
        for cid, entry in conditions.conditions.items():
            for member in entry.members:
                self.nodes[self._named(member, entry.kind, entry.source)].parents.add(cid)

    def _add_drug_classes(self, drug_classes: DrugClassesFile) -> None:
        for cid, entry in drug_classes.classes.items():
            if entry.not_with:
                self.not_with[cid] = tuple(normalize_term(w) for w in entry.not_with)
            node = self._node(cid, entry.name, "drug_class", entry.source)
            node.source = entry.source
            self._reviewed.add(cid)
            node.parents.update(entry.parents)
            for form in entry.synonyms:
                self._form(form, cid)
        for cid, entry in drug_classes.classes.items():
            for member in entry.members:
                spec = member if isinstance(member, Member) else Member(name=member)
                mid = self._named(spec.name, "drug", entry.source)
                self.nodes[mid].parents.add(cid)
                for form in (*spec.brands, *spec.synonyms):
                    self._form(form, mid)
        for rid, regimen in drug_classes.regimens.items():
            node = self._node(rid, regimen.name, "regimen", regimen.source)
            node.parents.update(regimen.parents)
            for form in regimen.synonyms:
                self._form(form, rid)
            node.components.update(self._named(c, "drug", regimen.source)
                                   for c in regimen.components)

    def _prefer_curated(self, drug_classes: DrugClassesFile,
                        conditions: ConditionsFile) -> None:
        """A curated entry's own names name it, even where the shared vocabulary lumps
        them into a broader concept ("solid tumour" under cancer, "HFrEF" under heart
        failure): only when the entry is a kind of that concept, so no name moves sideways."""
        entries = [(cid, [e.name, *e.synonyms]) for cid, e in conditions.conditions.items()]
        entries += [(cid, [e.name, *e.synonyms]) for cid, e in drug_classes.classes.items()]
        for cid, names in entries:
            for name in names:
                key = normalize_term(name)
                held = self.by_form.get(key)
                if held is not None and held != cid and self.is_a(cid, held):
                    self.by_form[key] = cid
                    self.nodes[cid].forms.add(key)

    def _link(self, name: str, forms: Iterable[str], named: frozenset[str],
              kinds: frozenset[str]) -> str | None:
        """The curated node a packaged entry is: by its name (a node of a ``named`` kind),
        else by one of its variants (a node of one of ``kinds``)."""
        cid = self.by_form.get(normalize_term(name))
        if cid is not None and self.nodes[cid].kind in named:
            return cid
        for form in forms:
            cid = self.by_form.get(normalize_term(form))
            if cid is not None and self.nodes[cid].kind in kinds:
                return cid
        return None

    def _add_mesh_diseases(self, conditions: ConditionsFile) -> None:
        descriptors = mesh.diseases()
        node_of_tree: dict[str, str] = {}
        curated_kinds = frozenset({"condition", "procedure"})
        inner = {t.rsplit(".", 1)[0] for d in descriptors.values() for t in d.trees if "." in t}
        for descriptor in descriptors.values():
            own = "mesh_" + slug(descriptor.name)
            # A heading with narrower headings joins a curated concept only by its own
            # name (either number): a variant ("osteopenia" for "Bone Diseases,
            # Metabolic") would bring the whole subtree (osteoporosis) under that concept,
            # and none joins a concept whose members a curated mesh_tree defines.
            leaf = not any(t in inner for t in descriptor.trees)
            forms = descriptor.forms if leaf else _number_variants(descriptor)
            cid = self._link(descriptor.name, forms, _CLINICAL, curated_kinds) or own
            if cid != own and cid in self._curated_trees and not leaf \
                    and normalize_term(descriptor.name) not in self.nodes[cid].forms:
                cid = own
            kind = "procedure" if any(t[:1] == "E" for t in descriptor.trees) else "condition"
            node = self._node(cid, descriptor.name, kind,
                              "MeSH " + ", ".join(descriptor.trees))
            node.trees.update(descriptor.trees)
            self.aliases.setdefault(own, cid)
            for form in descriptor.forms:
                self._form(form, cid)
            for tree in descriptor.trees:
                node_of_tree.setdefault(tree, cid)
        # excluded node -> the tree prefixes it must not be placed under by the MeSH tree
        fenced: dict[str, list[str]] = {}
        for cid, entry in conditions.conditions.items():
            if not entry.mesh_tree:
                continue
            for tree, member in node_of_tree.items():
                if member == cid or not _under(tree, entry.mesh_tree):
                    continue
                if any(_under(t, entry.mesh_exclude, itself=True)
                       for t in self.nodes[member].trees):
                    fenced.setdefault(member, []).extend(entry.mesh_tree)
                    continue
                self.nodes[member].parents.add(cid)
        inside = {cid: entry.mesh_tree for cid, entry in conditions.conditions.items()
                  if entry.mesh_tree}
        # A heading enters a curated class only through the class's own trees:
        # "Rhinitis" sits under "Respiratory Tract Infections" in the respiratory branch
        # (C08.730) yet is no infection (C01). node -> prefixes of the classes it is in:
        classes_of: dict[str, list[list[str]]] = {}
        for tree, cid in node_of_tree.items():
            if _under(tree, SYMPTOM_TREES, itself=True):
                continue
            prefix = tree
            while "." in prefix:
                prefix = prefix.rsplit(".", 1)[0]
                parent = node_of_tree.get(prefix)
                if parent is None:
                    continue
                fence = fenced.get(cid, ())
                parent_trees = self.nodes[parent].trees
                if parent not in classes_of:
                    classes_of[parent] = [p for p in inside.values() if any(
                        _under(t, p, itself=True) for t in parent_trees)]
                if parent != cid and parent not in self._curated_trees \
                        and not any(_under(t, fence, itself=True) for t in parent_trees) \
                        and not any(not _under(tree, p) for p in classes_of[parent]) \
                        and cid not in self._strict_ancestors_by_parents(parent):
                    self.nodes[cid].parents.add(parent)
                break

    def _strict_ancestors_by_parents(self, cid: str) -> set[str]:
        out: set[str] = set()
        stack = list(self.nodes[cid].parents) if cid in self.nodes else []
        while stack:
            parent = stack.pop()
            if parent not in out:
                out.add(parent)
                if parent in self.nodes:
                    stack.extend(self.nodes[parent].parents)
        return out

    def _add_mesh_drugs(self) -> None:
        single = frozenset({"drug"})
        for descriptor in mesh.drugs().values():
            own = "mesh_" + slug(descriptor.name)
            cid = self._link(descriptor.name, descriptor.forms, _TREATMENT, single)
            if cid is None:
                cid = own if own not in self.nodes else None
            if cid is None:
                continue
            self._node(cid, descriptor.name, "drug", "drug-named-entity-recognition")
            self.aliases.setdefault(own, cid)
            for form in descriptor.forms:
                self._form(form, cid)

    # ------------------------------------------------------------------ lookups
    def node(self, cid: str) -> Node | None:
        return self.nodes.get(cid) or self.nodes.get(self.aliases.get(cid, ""))

    def node_id(self, cid: str | None) -> str | None:
        """The node a concept id of criteria or facts names (vocabulary or ``mesh_`` id)."""
        if not cid:
            return None
        if cid in self.nodes:
            return cid
        return self.aliases.get(cid)

    def resolve(self, term: str) -> str | None:
        """The node a whole surface form names ("Deltasone" -> prednisone), else None."""
        stripped = term.strip()
        if stripped in self.exact:
            return self.exact[stripped]
        key = normalize_term(term)
        found = self.by_form.get(key)
        if found is None and len(key) > 4:
            for cut in ("es", "s"):
                if key.endswith(cut) and key[: -len(cut)] in self.by_form:
                    return self.by_form[key[: -len(cut)]]
        return found

    def ancestors(self, cid: str) -> frozenset[str]:
        """Everything ``cid`` is a kind of (and, for a regimen, its components and theirs)."""
        nid = self.node_id(cid)
        if nid is None:
            return frozenset()
        found = self._ancestors.get(nid)
        if found is None:
            out: set[str] = set()
            stack = [nid]
            while stack:
                node = self.nodes.get(stack.pop())
                if node is None:
                    continue
                for parent in (*node.parents, *node.components):
                    if parent not in out:
                        out.add(parent)
                        stack.append(parent)
            out.discard(nid)
            found = self._ancestors[nid] = frozenset(out)
        return found

    def descendants(self, cid: str) -> frozenset[str]:
        """Every kind of ``cid`` (members of a class, narrower conditions, regimens)."""
        nid = self.node_id(cid)
        if nid is None:
            return frozenset()
        found = self._descendants.get(nid)
        if found is None:
            out: set[str] = set()
            stack = [nid]
            while stack:
                for child in self._children.get(stack.pop(), ()):
                    if child not in out:
                        out.add(child)
                        stack.append(child)
            out.discard(nid)
            found = self._descendants[nid] = frozenset(out)
        return found

    def is_a(self, cid: str, class_id: str) -> bool:
        """Whether ``cid`` is ``class_id`` or a kind of it."""
        a, b = self.node_id(cid), self.node_id(class_id)
        return a is not None and b is not None and (a == b or b in self.ancestors(a))

    def expand(self, ids: Iterable[str]) -> frozenset[str]:
        """The nodes of ``ids`` and every kind of them."""
        key = frozenset(i for i in (self.node_id(c) for c in ids) if i is not None)
        out: set[str] = set(key)
        for nid in key:
            out |= self.descendants(nid)
        return frozenset(out)

    def forms(self, ids: Iterable[str], descendants: bool = True) -> frozenset[str]:
        """Normalized names of the concepts (and of every kind of them), for note search."""
        key = frozenset(i for i in (self.node_id(c) for c in ids) if i is not None)
        if not descendants:
            return frozenset(f for i in key for f in self.nodes[i].forms)
        found = self._forms.get(key)
        if found is None:
            out: set[str] = set()
            for nid in key:
                for member in {nid} | self.descendants(nid):
                    out |= self.nodes[member].forms
            found = self._forms[key] = frozenset(out)
        return found

    def curated(self, cid: str) -> bool:
        """Whether a concept is an entry of the curated knowledge files (a reviewed class
        or condition, not a packaged MeSH heading)."""
        return cid in self._reviewed

    def source(self, cid: str) -> str | None:
        node = self.node(cid)
        return node.source if node is not None else None


def _number_variants(descriptor: mesh.Descriptor) -> tuple[str, ...]:
    """The variants of a heading that are its own name in the other number ("lung
    disease" for "Lung Diseases")."""
    key = normalize_term(descriptor.name)
    stem = key[:-1] if key.endswith("s") else key
    return tuple(f for f in descriptor.forms
                 if (k := normalize_term(f)) != key and (k[:-1] if k.endswith("s") else k) == stem)


def _under(tree: str, prefixes: Iterable[str], *, itself: bool = False) -> bool:
    """Whether a tree number lies below one of ``prefixes`` (or is one, when ``itself``)."""
    return any(tree.startswith(p + ".") or (itself and tree == p) for p in prefixes)


def build(*, packages: bool = True) -> KnowledgeBase:
    """A knowledge base from the shared vocabulary and the curated files (and, when
    ``packages``, the installed MeSH lexicon packages)."""
    drug_classes, conditions, definitions = load_files()
    return KnowledgeBase(vocabulary(), drug_classes, conditions, definitions,
                         packages=packages)
