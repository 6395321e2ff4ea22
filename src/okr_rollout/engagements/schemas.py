"""API shapes of engagements, readiness reports, tasks and events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from okr_rollout.api.fields import BoundedDateTime, may_be_left_out
from okr_rollout.api.problems import Problem
from okr_rollout.texts import LocalizedText

HealthStatusOut = Literal["stuck", "at_risk", "ready_to_move", "on_track"]

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EngagementCreate(_Input):
    organization_id: int
    playbook: Identifier = "standard"
    playbook_version: Annotated[int, Field(ge=1)] | None = None
    coach_ids: Annotated[list[int], Field(max_length=20)] = []


class TransitionRequest(_Input):
    trigger: Identifier


class PlaybookPin(BaseModel):
    id: str
    version: int
    sha256: str


class ChecklistItemOut(BaseModel):
    id: int
    key: str
    title: LocalizedText
    checked: bool
    checked_at: datetime | None


class TaskOut(BaseModel):
    id: int
    engagement_id: int
    wave_id: int | None = Field(None, description="The expansion wave whose journey the task belongs to; none: the "
                                                  "engagement's own journey.")
    phase: str
    key: str
    title: LocalizedText
    role: str
    due_at: datetime
    done: bool
    done_at: datetime | None
    assignee_id: int | None
    checklist: list[ChecklistItemOut]
    version: int


class TaskUpdate(_Input):
    done: bool | None = may_be_left_out()
    assignee_id: int | None = None
    due_at: BoundedDateTime | None = may_be_left_out()


class ChecklistUpdate(_Input):
    checked: bool


class EngagementOut(BaseModel):
    id: int
    organization_id: int
    phase: str
    entered_phase_at: datetime
    playbook: PlaybookPin
    coach_ids: list[int]
    created_at: datetime
    version: int
    handed_over_at: datetime | None = Field(None, description="When the engagement was handed over to the internal "
                                                              "coaches (the external coach left); its waves go on.")
    open_tasks: list[TaskOut] | None = None


class CriterionOut(BaseModel):
    id: str
    kind: str
    severity: str
    passed: bool
    reason: str
    reasons: LocalizedText
    evidence: dict[str, Any]


class TransitionReadinessOut(BaseModel):
    trigger: str
    destination: str
    allowed: bool
    passed: int
    total: int
    criteria: list[CriterionOut]


class ReadinessOut(BaseModel):
    engagement_id: int
    phase: str
    transitions: list[TransitionReadinessOut]


class TransitionResult(BaseModel):
    engagement: EngagementOut
    from_phase: str
    trigger: str
    readiness: TransitionReadinessOut


class GateRefusal(Problem):
    """The 409 of a transition. Refused by its gate (``type`` /problems/gate-refused): the readiness report says
    which criteria block and why, in the caller's language; nothing was written. Any other conflict (a change
    made at the same moment, a request still running under the same Idempotency-Key) is a plain problem."""

    phase: str | None = Field(None, description="The phase the engagement stays in.")
    readiness: TransitionReadinessOut | None = Field(None, description="Why the gate refused: every criterion.")


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: str
    organization_id: int | None
    engagement_id: int | None
    actor: str
    payload: dict[str, Any]
    occurred_at: datetime


class HealthSignalOut(BaseModel):
    """One signal of an engagement's health, the same shape as a gate criterion's answer."""

    id: str = Field(description="pace, gate, ceo_support, check_ins, team_meetings, one_on_ones, overdue_tasks "
                                "or activity.")
    status: HealthStatusOut = Field(description="The status this signal calls for.")
    reason: str = Field(description="Why, in the language of the answer.")
    reasons: LocalizedText
    evidence: dict[str, Any]


class HealthOut(BaseModel):
    engagement_id: int
    phase: str
    status: HealthStatusOut = Field(description="The most urgent status the signals call for: stuck, at_risk, "
                                                "ready_to_move (the next gate is met), else on_track.")
    title: LocalizedText = Field(description="The status as a person reads it.")
    signals: list[HealthSignalOut]
