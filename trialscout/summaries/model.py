"""What a plain-language summary is: sentences grouped by topic, each naming its sources.

The structure (rather than one block of text) is what lets a page show "What is being
tested", "Who can join" and so on as sections, and lets tests and the LLM check prove that
each sentence only restates the record fields it names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Topic = Literal["what", "who", "do", "where", "status", "note"]
TOPICS: tuple[Topic, ...] = ("what", "who", "do", "where", "status", "note")
TOPIC_TITLES: dict[str, str] = {
    "what": "What is being studied",
    "who": "Who can join",
    "do": "What happens in the study",
    "where": "Where it takes place",
    "status": "Is it open?",
    "note": "Good to know",
}
TARGET_GRADE = 8.0


class SummarySentence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic
    text: str
    sources: list[str] = Field(default_factory=list)


class SummarySection(BaseModel):
    topic: Topic
    title: str
    sentences: list[SummarySentence]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


class PlainSummary(BaseModel):
    """A plain-language summary of one trial.

    ``backend`` says who wrote it: ``offline`` (the rule-based generator) or ``llm``.
    ``fallback_reason`` is set when an LLM was configured but its text was not used.
    """

    model_config = ConfigDict(extra="forbid")

    nct_id: str
    backend: Literal["offline", "llm"] = "offline"
    model: str | None = None
    generator_version: int
    sentences: list[SummarySentence]
    grade: float | None = None
    fallback_reason: str | None = None
    dropped: int = 0

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    def sections(self) -> list[SummarySection]:
        """Non-empty topics in reading order, with their headings."""
        out = []
        for topic in TOPICS:
            sentences = [s for s in self.sentences if s.topic == topic]
            if sentences:
                out.append(SummarySection(topic=topic, title=TOPIC_TITLES[topic],
                                          sentences=sentences))
        return out
