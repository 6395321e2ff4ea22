"""The portfolio as the API shows it: the rows of the coach's home page, one page at a time."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from okr_rollout.engagements.schemas import HealthSignalOut, HealthStatusOut
from okr_rollout.portfolio.service import Attention
from okr_rollout.texts import LocalizedText


class NextStepOut(BaseModel):
    """The first transition out of the engagement's phase and how far its gate is from opening."""

    trigger: str
    destination: str
    title: LocalizedText | None
    allowed: bool
    passed: int = Field(description="Criteria that pass.")
    total: int = Field(description="Criteria of the gate.")


class WaveSummaryOut(BaseModel):
    """An expansion wave of the engagement, the phase of its own journey and its health now."""

    id: int
    name: str
    phase: str
    phase_title: LocalizedText
    final: bool
    health: HealthStatusOut | None = Field(None, description="The wave's health now (its signals: the wave's own "
                                                             "resource).")


class PortfolioRowOut(BaseModel):
    engagement_id: int
    organization_id: int
    organization: str = Field(description="The organization's name.")
    timezone: str
    phase: str
    phase_title: LocalizedText
    days_in_phase: int
    next_step: NextStepOut | None = Field(description="None in the final phase.")
    overdue_tasks: int = Field(description="Open tasks of the current phase past their due date.")
    next_due_at: datetime | None = Field(description="The soonest due date of the phase's open tasks.")
    last_activity_at: datetime | None = Field(description="When the engagement's latest event happened.")
    attention: list[Attention] = Field(
        description="Why the engagement needs attention: overdue tasks, or no activity for a while.")
    health: HealthStatusOut | None = Field(
        description="The engagement's health: stuck, at_risk, ready_to_move or on_track; None until first evaluated.")
    health_reasons: list[HealthSignalOut] = Field(
        description="Why it has that health: the signals that decided it (at most two); every signal is at "
                    "GET /api/v1/engagements/{id}/health.")
    waves: list[WaveSummaryOut] = Field(default_factory=list, description="Its expansion waves, each in its phase.")


class PortfolioPage(BaseModel):
    items: list[PortfolioRowOut]
    next_cursor: str | None
    total: int = Field(description="Rows matching the filters, on every page.")
