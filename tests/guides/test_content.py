"""Every bundled guide has the required sections, an FAQ and named sources; bad guides fail."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from trialscout.guides.content import (
    GuideError,
    bundled_guides,
    find_guide,
    load_guide,
    parse_guide,
    render_markdown,
    section_rules,
)
from trialscout.summaries.readability import grade
from trialscout.vocabulary import vocabulary

REQUIRED = {"osteoporosis", "denosumab", "zoledronic-acid", "alendronate", "type-2-diabetes",
            "vertebral-compression-fracture"}
GOOD = """---
slug: test-drug
title: Test drug
kind: drug
concepts: [denosumab]
summary: A short summary.
reviewed: 2026-01-01
---
## What it is
Text.
## How it is given
Text.
## Common side effects
Text.
## Key cautions
Text.
## Questions people ask
### One?
Yes.
### Two?
Yes.
### Three?
Yes.
## Sources
- [Source one](https://example.org/one)
- [Source two](https://example.org/two)
- [Source three](https://example.org/three)
"""


def test_the_required_guides_are_bundled() -> None:
    assert {g.slug for g in bundled_guides()} >= REQUIRED
    assert len(bundled_guides()) >= 6


@pytest.mark.parametrize("guide", bundled_guides(), ids=lambda g: g.slug)
def test_each_guide_follows_the_rules(guide) -> None:  # type: ignore[no-untyped-def]
    rules = section_rules()
    required = rules["required_sections"][guide.kind]
    special = {rules["faq_section"], rules["sources_section"]}
    assert [s.heading for s in guide.sections] == [h for h in required if h not in special]
    assert all(s.markdown.strip() for s in guide.sections)
    assert len(guide.faq) >= rules["min_faq"]
    assert all(item.question.endswith("?") and item.answer for item in guide.faq)
    assert len(guide.sources) >= rules["min_sources"]
    assert all(s.url.startswith("https://") and s.title for s in guide.sources)
    assert not re.search(r"https?://|www\.", guide.summary)
    assert guide.markdown.rstrip().splitlines()[-1].startswith("- ")
    for concept in guide.concepts:
        assert vocabulary().concept(concept) is not None
    assert guide.disclaimer and guide.summary


@pytest.mark.parametrize("guide", bundled_guides(), ids=lambda g: g.slug)
def test_each_guide_reads_in_plain_language(guide) -> None:  # type: ignore[no-untyped-def]
    plain = re.sub(r"[#*_>|-]", " ", guide.markdown)
    assert grade(plain) <= 9.0
    assert grade(guide.summary) <= 9.0


def test_file_names_match_slugs() -> None:
    folder = resources.files("trialscout.guides").joinpath("content")
    for entry in folder.iterdir():
        if entry.name.endswith(".md"):
            assert find_guide(entry.name[:-3]) is not None


def test_load_guide_checks_the_file_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "test-drug.md"
    path.write_text(GOOD)
    assert load_guide(path).slug == "test-drug"
    wrong = tmp_path / "other.md"
    wrong.write_text(GOOD)
    with pytest.raises(GuideError, match="file name"):
        load_guide(wrong)


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace("## Key cautions\nText.\n", ""), "sections must be"),
    (lambda t: t.replace("## Sources\n- [Source one](https://example.org/one)\n",
                         "## Sources\n"), "sources"),
    (lambda t: t.replace("[Source one](https://example.org/one)", "Source one"), "link"),
    (lambda t: t.replace("https://example.org/one", "http://example.org/one"), "link"),
    (lambda t: t.replace("https://example.org/one", "javascript:alert(1)"), "link"),
    (lambda t: t.replace("(https://example.org/one)", '(https://example.org/"onmouseover=x)'),
     "link"),
    (lambda t: t.replace("### Three?\nYes.\n", ""), "FAQ"),
    (lambda t: t.replace("concepts: [denosumab]", "concepts: [no_such_drug]"), "unknown"),
    (lambda t: t.replace("## Key cautions\nText.", "## Key cautions\nSee https://example.org"),
     "only the Sources"),
    (lambda t: t.replace("## Key cautions\nText.", "## Key cautions\n"), "empty"),
    (lambda t: t.replace("kind: drug", "kind: gadget"), "front matter"),
    (lambda t: t.replace("slug: test-drug", "slug: Test Drug"), "slug"),
    (lambda t: t.split("---\n", 2)[2], "front matter"),
])
def test_malformed_guides_are_rejected(change, message) -> None:  # type: ignore[no-untyped-def]
    assert parse_guide(GOOD).slug == "test-drug"
    with pytest.raises(GuideError, match=message):
        parse_guide(change(GOOD))


def test_raw_html_in_markdown_is_escaped() -> None:
    html = render_markdown("Hello <script>alert(1)</script> **bold**")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>bold</strong>" in html
    guide = find_guide("denosumab")
    assert guide is not None and "<h2>What it is</h2>" in guide.html
