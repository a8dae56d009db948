"""Optional LLM rewriting of the offline summary, through an OpenAI-compatible chat API.

Off unless ``llm_base_url`` is set. The model gets the offline summary's sentences (with
their source fields) and the trial fields they came from, and must answer with JSON
sentences that cite sources the same way. Its answer is used only if it passes every check
the offline summary passes (sources exist, numbers, drugs, conditions and names are in the
record, reading level at most grade 8, no topic lost); otherwise the offline summary is
shown and the reason is kept.

Privacy: only trial registry text is sent, never patient data and never the registry's
contact names, phones or emails; requests go to ``{llm_base_url}/chat/completions`` only
(no proxies from the environment, no redirects followed).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from trialscout.registry.model import Trial
from trialscout.summaries import grounding
from trialscout.summaries.model import TARGET_GRADE, TOPICS, PlainSummary, SummarySentence
from trialscout.summaries.readability import grade

PROMPT_VERSION = 1
MAX_REPLY_BYTES = 200_000
MAX_SENTENCES = 40
MAX_SENTENCE_CHARS = 400
MAX_CRITERIA_CHARS = 4000
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.S)

SYSTEM_PROMPT = (
    "You rewrite clinical trial summaries for patients. Write short, plain sentences a "
    "12-year-old can read (US grade 6 to 8). Use ONLY facts from the given trial fields: "
    "never add a number, drug, condition, place, date or name that is not in them, and "
    "never give medical advice. Keep every topic of the draft (what, who, do, where, "
    "status, note). Answer with JSON only, in this shape: {\"sentences\": [{\"topic\": "
    "\"what\", \"text\": \"...\", \"sources\": [\"interventions[0].name\"]}]}. Each "
    "sentence lists the field paths it restates, copied from the draft or the fields given."
)


class LLMError(Exception):
    """The LLM API could not give a usable answer (network, HTTP, or format)."""


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 20.0

    @property
    def endpoint(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"


def config_from_settings(settings: Any) -> LLMConfig | None:
    """The LLM configuration, or None when summaries are offline only."""
    base_url = getattr(settings, "llm_base_url", None)
    if not base_url:
        return None
    if not re.match(r"^https?://", base_url):
        raise ValueError(f"llm_base_url must start with http:// or https://, got {base_url!r}")
    return LLMConfig(base_url=base_url, model=getattr(settings, "llm_model", None) or "default",
                     api_key=getattr(settings, "llm_api_key", None),
                     timeout=float(getattr(settings, "llm_timeout", 20.0)))


def trial_fields(trial: Trial) -> dict[str, Any]:
    """The registry fields the model may use: no contact people, phones or emails."""
    data = trial.model_dump(
        exclude_none=True,
        include={"brief_title", "overall_status", "study_type", "phases", "design",
                 "enrollment_count", "enrollment_type", "dates", "conditions", "arm_groups",
                 "interventions", "outcomes", "eligibility", "why_stopped"})
    eligibility = data.get("eligibility", {})
    if len(eligibility.get("criteria", "")) > MAX_CRITERIA_CHARS:
        eligibility["criteria"] = eligibility["criteria"][:MAX_CRITERIA_CHARS]
    data["sites"] = [{k: v for k, v in s.model_dump(exclude_none=True).items()
                      if k in {"city", "state", "country", "status"}} for s in trial.sites]
    return data


def build_messages(trial: Trial, draft: PlainSummary) -> list[dict[str, str]]:
    payload = {
        "draft": [s.model_dump() for s in draft.sentences],
        "fields": trial_fields(trial),
    }
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": json.dumps(payload, ensure_ascii=False, default=str)}]


def chat(config: LLMConfig, messages: list[dict[str, str]],
         transport: httpx.BaseTransport | None = None) -> str:
    """One chat completion; the reply text, or LLMError."""
    headers = {"Content-Type": "application/json"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    body = {"model": config.model, "messages": messages, "temperature": 0}
    try:
        with httpx.Client(timeout=config.timeout, trust_env=False, follow_redirects=False,
                          transport=transport) as client:
            response = client.post(config.endpoint, json=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise LLMError("timed out") from exc
    except httpx.HTTPError as exc:
        raise LLMError(f"request failed: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise LLMError(f"HTTP {response.status_code}")
    if len(response.content) > MAX_REPLY_BYTES:
        raise LLMError("reply too large")
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMError("reply is not a chat completion") from exc
    if not isinstance(content, str):
        raise LLMError("reply has no text")
    return content


def parse_reply(text: str) -> list[SummarySentence]:
    """The sentences of a model reply, or LLMError when it is not the asked-for JSON."""
    try:
        data = json.loads(_FENCE.sub("", text))
        items = data["sentences"]
    except (ValueError, KeyError, TypeError) as exc:
        raise LLMError("reply is not the JSON asked for") from exc
    if not isinstance(items, list) or not items or len(items) > MAX_SENTENCES:
        raise LLMError("reply has no sentences or too many")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise LLMError("a sentence is not an object")
        topic, text_, sources = item.get("topic"), item.get("text"), item.get("sources")
        if topic not in TOPICS or not isinstance(text_, str) or not text_.strip():
            raise LLMError("a sentence has no valid topic or text")
        if len(text_) > MAX_SENTENCE_CHARS:
            raise LLMError("a sentence is too long")
        if not isinstance(sources, list) or not all(isinstance(p, str) for p in sources):
            raise LLMError("a sentence has no source list")
        out.append(SummarySentence(topic=topic, text=" ".join(text_.split()), sources=sources))
    return out


def review(trial: Trial, sentences: list[SummarySentence], draft: PlainSummary) -> str | None:
    """Why these sentences may not be shown, or None when they pass every check."""
    facts = grounding.record_facts(trial)
    for sentence in sentences:
        if sentence.topic != "note":
            if not sentence.sources:
                return f"a sentence cites no source: {sentence.text!r}"
            bad = grounding.check_paths(trial, sentence.sources)
            if bad:
                return f"unknown source {bad[0]!r}"
        problems = grounding.check_text(sentence.text, facts)
        if problems:
            return f"{problems[0]} (in {sentence.text!r})"
    missing = {s.topic for s in draft.sentences} - {s.topic for s in sentences}
    if missing:
        return f"topics left out: {', '.join(sorted(missing))}"
    level = grade(" ".join(s.text for s in sentences))
    if level > TARGET_GRADE:
        return f"reading level {level:.1f} is above grade {TARGET_GRADE:g}"
    return None


def rewrite(trial: Trial, draft: PlainSummary, config: LLMConfig,
            transport: httpx.BaseTransport | None = None) -> PlainSummary:
    """The LLM's summary when it passes review, else ``draft`` with the reason attached."""
    try:
        sentences = parse_reply(chat(config, build_messages(trial, draft), transport))
    except LLMError as exc:
        return draft.model_copy(update={"fallback_reason": f"LLM: {exc}"})
    reason = review(trial, sentences, draft)
    if reason is not None:
        return draft.model_copy(update={"fallback_reason": f"LLM output rejected: {reason}"})
    text = " ".join(s.text for s in sentences)
    return PlainSummary(nct_id=trial.nct_id, backend="llm", model=config.model,
                        generator_version=draft.generator_version, sentences=sentences,
                        grade=round(grade(text), 2))
