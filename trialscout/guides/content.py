"""Guides: Markdown files with YAML front matter, shipped in ``guides/content/``.

A guide is data, not code, so editors change wording without touching Python. The loader
checks each file against ``rules/sections.yaml`` (required headings in order, an FAQ with
enough questions, a Sources list) and fails loudly on a malformed guide; tests load every
bundled guide. Rendering to HTML escapes any raw HTML in the Markdown.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trialscout.rulefiles import RuleFile, load_mapping
from trialscout.vocabulary import vocabulary

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.S)
_H2 = re.compile(r"^## +(.+?)\s*$", re.M)
_H3 = re.compile(r"^### +(.+?)\s*$", re.M)
_BULLET = re.compile(r"^[-*] +(.+?)\s*$", re.M)
_LINK = re.compile(r"https?://|www\.", re.I)
_SOURCE = re.compile(r"^\[([^\[\]]+)\]\((https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:/[^\s()<>\"']*)?)\)$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class GuideError(ValueError):
    """A guide file that does not follow the guide rules."""


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str
    title: str
    kind: Literal["condition", "drug"]
    concepts: list[str] = Field(min_length=1)
    also_known_as: list[str] = Field(default_factory=list)
    summary: str
    reviewed: dt.date


class GuideSection(BaseModel):
    heading: str
    anchor: str
    markdown: str

    @property
    def html(self) -> str:
        return render_markdown(self.markdown)


class FaqItem(BaseModel):
    question: str
    answer: str


class GuideSource(BaseModel):
    """One named source with the public address where a reader can check it."""

    title: str
    url: str

    @property
    def host(self) -> str:
        return self.url.split("/", 3)[2]


class Guide(BaseModel):
    """One guide, split into the parts a page shows."""

    slug: str
    title: str
    kind: Literal["condition", "drug"]
    concepts: list[str]
    also_known_as: list[str]
    summary: str
    reviewed: dt.date
    disclaimer: str
    sections: list[GuideSection]
    faq: list[FaqItem]
    sources: list[GuideSource]
    markdown: str

    @property
    def html(self) -> str:
        """The whole body as HTML (raw HTML in the source is escaped, never run)."""
        return render_markdown(self.markdown)

    def section(self, heading: str) -> GuideSection | None:
        for section in self.sections:
            if section.heading.casefold() == heading.casefold():
                return section
        return None


class SectionRules(RuleFile):
    """The schema of ``rules/sections.yaml``."""

    disclaimer: str
    kinds: list[str]
    required_sections: dict[str, list[str]]
    faq_section: str
    sources_section: str
    min_faq: int
    min_sources: int


def section_rules() -> dict[str, Any]:
    return load_mapping(Path(__file__).with_name("rules") / "sections.yaml", SectionRules)


def render_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML disabled (escaped), so guide text cannot inject tags."""
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark", {"html": False, "linkify": False}).render(text))


def _anchor(heading: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", heading.casefold()).strip("-")


def _split(body: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    matches = list(pattern.finditer(body))
    out = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        out.append((match.group(1).strip(), body[match.end():end].strip()))
    return out


def parse_guide(text: str, source: str = "<guide>") -> Guide:
    """A guide from its file text; GuideError says what is wrong and where."""
    match = _FRONT.match(text.replace("\r\n", "\n"))
    if match is None:
        raise GuideError(f"{source}: no front matter between --- lines")
    try:
        front = FrontMatter.model_validate(yaml.safe_load(match.group(1)) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise GuideError(f"{source}: bad front matter: {exc}") from exc
    if not _SLUG.match(front.slug):
        raise GuideError(f"{source}: slug {front.slug!r} must be lower-case words and hyphens")
    vocab = vocabulary()
    for concept in front.concepts:
        if vocab.concept(concept) is None:
            raise GuideError(f"{source}: unknown vocabulary concept {concept!r}")
    rules = section_rules()
    body = match.group(2).strip() + "\n"
    parts = _split(body, _H2)
    linked = [m for h, m in parts if h != rules["sources_section"]]
    if any(_LINK.search(m) for m in linked) or _LINK.search(front.summary):
        raise GuideError(f"{source}: only the Sources section links out")
    headings = [h for h, _ in parts]
    required = rules["required_sections"][front.kind]
    if headings != required:
        raise GuideError(f"{source}: sections must be {required}, found {headings}")
    content = dict(parts)
    for heading, markdown in parts:
        if not markdown.strip():
            raise GuideError(f"{source}: section {heading!r} is empty")
    faq = [FaqItem(question=q, answer=a)
           for q, a in _split(content[rules["faq_section"]], _H3)]
    if len(faq) < rules["min_faq"] or any(not f.answer for f in faq):
        raise GuideError(f"{source}: the FAQ needs at least {rules['min_faq']} answered "
                         "questions (### headings)")
    sources = [_source(item, source) for item in _BULLET.findall(content[rules["sources_section"]])]
    if len(sources) < rules["min_sources"]:
        raise GuideError(f"{source}: list at least {rules['min_sources']} sources")
    special = {rules["faq_section"], rules["sources_section"]}
    sections = [GuideSection(heading=h, anchor=_anchor(h), markdown=m)
                for h, m in parts if h not in special]
    return Guide(slug=front.slug, title=front.title, kind=front.kind,
                 concepts=front.concepts, also_known_as=front.also_known_as,
                 summary=" ".join(front.summary.split()), reviewed=front.reviewed,
                 disclaimer=" ".join(str(rules["disclaimer"]).split()), sections=sections,
                 faq=faq, sources=sources, markdown=body)


def _source(item: str, where: str) -> GuideSource:
    """A Sources bullet must be one Markdown link to an https address: readers check sources."""
    match = _SOURCE.match(item)
    if match is None:
        raise GuideError(f"{where}: each source must be a link [title](https://...), "
                         f"found {item[:80]!r}")
    return GuideSource(title=" ".join(match.group(1).split()), url=match.group(2))


def load_guide(path: Path) -> Guide:
    guide = parse_guide(path.read_text(encoding="utf-8"), str(path))
    if guide.slug != path.stem:
        raise GuideError(f"{path}: slug {guide.slug!r} must match the file name")
    return guide


@lru_cache(maxsize=1)
def bundled_guides() -> tuple[Guide, ...]:
    """Every guide shipped with TrialScout, sorted by title."""
    folder = resources.files("trialscout.guides").joinpath("content")
    guides = [parse_guide(entry.read_text(encoding="utf-8"), entry.name)
              for entry in folder.iterdir() if entry.name.endswith(".md")]
    slugs = [g.slug for g in guides]
    if len(slugs) != len(set(slugs)):
        raise GuideError("two guides share a slug")
    return tuple(sorted(guides, key=lambda g: g.title.casefold()))


def find_guide(slug: str) -> Guide | None:
    for guide in bundled_guides():
        if guide.slug == slug:
            return guide
    return None
