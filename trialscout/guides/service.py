"""Guides and visitor questions for the app: one object the CLI and web layer call."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine

from trialscout.guides import links, questions
from trialscout.guides.content import Guide, bundled_guides, find_guide
from trialscout.guides.questions import PublicAnswer, Question, QuestionLimits
from trialscout.registry.model import Trial


class GuideService:
    def __init__(self, engine: Engine, settings: Any) -> None:
        self.engine = engine
        self.settings = settings
        self._salt = getattr(settings, "secret_key", None) or secrets.token_hex(16)

    # ------------------------------------------------------------------ guides
    def all(self) -> list[Guide]:
        return list(bundled_guides())

    def get(self, slug: str) -> Guide | None:
        return find_guide(slug)

    def trials(self, slug: str, *, limit: int = 20, offset: int = 0,
               open_only: bool = False) -> links.GuideTrials | None:
        """The trials a guide lists (None for an unknown guide)."""
        guide = find_guide(slug)
        if guide is None:
            return None
        with self.engine.connect() as conn:
            return links.guide_trials(conn, guide, limit=limit, offset=offset,
                                      open_only=open_only)

    def for_trial(self, trial: Trial) -> list[Guide]:
        """Guides about a trial's conditions or interventions (for "Read our guide" links)."""
        texts = [*trial.conditions, *(i.name for i in trial.interventions),
                 *trial.condition_mesh_terms, *trial.intervention_mesh_terms]
        if not texts and trial.brief_title:
            texts = [trial.brief_title]
        return links.guides_for_text(texts)

    # ------------------------------------------------------------------ questions
    @property
    def limits(self) -> QuestionLimits:
        return QuestionLimits.from_settings(self.settings)

    def ask(self, *, text: str, client_key: str, email: str | None = None,
            guide_slug: str | None = None, nct_id: str | None = None,
            now: datetime | None = None, address: str | None = None) -> Question:
        """Store a visitor's question; raises QuestionError or RateLimited. ``address``
        is the client's network address, limited as well as the session."""
        with self.engine.begin() as conn:
            return questions.submit_question(
                conn, text=text, client_key=client_key, salt=self._salt, email=email,
                guide_slug=guide_slug, nct_id=nct_id, limits=self.limits, now=now,
                address=address)

    def questions(self, status: Literal["open", "answered", "all"] = "open", *,
                  guide_slug: str | None = None, limit: int = 50, offset: int = 0
                  ) -> list[Question]:
        with self.engine.connect() as conn:
            return questions.list_questions(conn, status, guide_slug=guide_slug,
                                            limit=limit, offset=offset)

    def question(self, question_id: int) -> Question | None:
        with self.engine.connect() as conn:
            return questions.get_question(conn, question_id)

    def answer(self, question_id: int, answer: str, *, publish: bool = False
               ) -> Question:
        with self.engine.begin() as conn:
            return questions.answer_question(conn, question_id, answer, publish=publish)

    def delete_question(self, question_id: int) -> bool:
        with self.engine.begin() as conn:
            return questions.delete_question(conn, question_id)

    def published(self, slug: str) -> list[PublicAnswer]:
        with self.engine.connect() as conn:
            return questions.published_answers(conn, slug)
