"""Summaries for the app: offline always, LLM-rewritten (and cached) when configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import Engine, delete, insert, select

from trialscout.registry.model import Trial
from trialscout.store.tables import TrialRow
from trialscout.summaries import llm
from trialscout.summaries.model import PlainSummary
from trialscout.summaries.offline import summarize
from trialscout.summaries.tables import TrialSummaryRow

if TYPE_CHECKING:
    from trialscout.criteria.model import ParsedCriteria

RETRY_FAILED_AFTER = timedelta(hours=1)


def parsed_criteria(trial: Trial) -> ParsedCriteria | None:
    """The trial's criteria parsed by the criteria parser, when it is installed."""
    text = trial.eligibility.criteria
    if not text or not text.strip():
        return None
    try:
        from trialscout.criteria import parse_criteria
    except ImportError:
        return None
    parsed: ParsedCriteria = parse_criteria(text)
    return parsed


def offline_summary(trial: Trial) -> PlainSummary:
    """The offline summary, with who-can-join sentences from the parsed criteria."""
    return summarize(trial, parsed_criteria(trial))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class SummaryService:
    """Plain-language summaries of stored trials."""

    def __init__(self, engine: Engine, settings: Any,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.transport = transport

    @property
    def llm_config(self) -> llm.LLMConfig | None:
        return llm.config_from_settings(self.settings)

    def for_trial(self, nct_id: str, *, use_llm: bool | None = None) -> PlainSummary | None:
        """The summary of a stored trial (None if unknown). ``use_llm=None`` uses the LLM
        whenever one is configured; the offline summary is the fallback either way."""
        with self.engine.connect() as conn:
            row = conn.execute(select(TrialRow.document, TrialRow.content_hash)
                               .where(TrialRow.nct_id == nct_id)).first()
        if row is None:
            return None
        trial = Trial.model_validate_json(row.document)
        draft = summarize(trial, self._criteria(trial))
        config = self.llm_config
        if config is None or use_llm is False:
            return draft
        return self._llm(trial, row.content_hash, draft, config)

    def _criteria(self, trial: Trial) -> ParsedCriteria | None:
        """The stored parse (kept fresh by the criteria write hook), else a fresh one."""
        try:
            from trialscout.criteria.store import load_parsed_criteria
        except ImportError:
            return parsed_criteria(trial)
        with self.engine.connect() as conn:
            stored = load_parsed_criteria(conn, trial.nct_id)
        return stored if stored is not None else parsed_criteria(trial)

    def _llm(self, trial: Trial, content_hash: str, draft: PlainSummary,
             config: llm.LLMConfig) -> PlainSummary:
        with self.engine.connect() as conn:
            cached = conn.execute(select(TrialSummaryRow)
                                  .where(TrialSummaryRow.nct_id == trial.nct_id)).first()
        if (cached is not None and cached.content_hash == content_hash
                and cached.model == config.model
                and cached.prompt_version == llm.PROMPT_VERSION):
            if cached.backend == "llm":
                return PlainSummary.model_validate_json(cached.document)
            if _now() - cached.created_at < RETRY_FAILED_AFTER:
                return draft.model_copy(update={"fallback_reason": cached.document})
        result = llm.rewrite(trial, draft, config, self.transport)
        document = (result.model_dump_json() if result.backend == "llm"
                    else result.fallback_reason or "LLM failed")
        with self.engine.begin() as conn:
            conn.execute(delete(TrialSummaryRow).where(TrialSummaryRow.nct_id == trial.nct_id))
            conn.execute(insert(TrialSummaryRow).values(
                nct_id=trial.nct_id, content_hash=content_hash, model=config.model,
                prompt_version=llm.PROMPT_VERSION, backend=result.backend
                if result.backend == "llm" else "failed",
                document=document, created_at=_now()))
        return result
