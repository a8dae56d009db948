"""The patient's pre-screen for one trial: the fit per criterion from their self-check
answers (sessions.selfcheck), with the answer as the evidence, and what is still to
confirm."""

from __future__ import annotations

from trialscout.contact.models import Prescreen, PrescreenItem
from trialscout.sessions.selfcheck import Checklist


def from_checklist(checklist: Checklist) -> Prescreen:
    items = []
    for item in checklist.items:
        if item.group is not None:
            continue
        items.append(PrescreenItem(section=item.section, text=item.text[:5000],
                                   fit=item.status, question=item.question,
                                   answer=item.answer))
    verdict = checklist.verdict
    return Prescreen(verdict=verdict.label, summary=verdict.explanation,
                     items=items[:300])
