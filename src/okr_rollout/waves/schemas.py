"""API shapes of waves: opening one, the wave as the API shows it, its readiness and its transitions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from okr_rollout.engagements.schemas import (
    HealthSignalOut,
    HealthStatusOut,
    Identifier,
    TaskOut,
    TransitionReadinessOut,
)
from okr_rollout.texts import LocalizedText


class WaveCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    department_ids: Annotated[list[int], Field(min_length=1, max_length=50,
                                               description="The departments that join OKRs in this wave (no pilot "
                                                           "department, none of another wave).")]
    owner_ids: Annotated[list[int], Field(min_length=1, max_length=10,
                                          description="Its owners: internal coaches appointed in the engagement.")]
    variant: Identifier | None = Field(None, description="A variant of the playbook's wave journey (e.g. a shortened "
                                                         "course when an internal coach trains); none: the plain one.")


class WaveTransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trigger: Identifier


class WaveHealthOut(BaseModel):
    """A wave's health now, the shape of an engagement's: its own pace, gate, check-ins, meetings, overdue tasks and
    activity (the CEO's support and the pulses are the engagement's, not a wave's)."""

    status: HealthStatusOut = Field(description="The most urgent status the signals call for: stuck, at_risk, "
                                                "ready_to_move (the wave's next gate is met), else on_track.")
    title: LocalizedText = Field(description="The status as a person reads it.")
    signals: list[HealthSignalOut]


class WaveOut(BaseModel):
    id: int
    engagement_id: int
    name: str
    variant: str | None
    department_ids: list[int]
    owner_ids: list[int]
    phase: str
    phase_title: LocalizedText
    final: bool = Field(description="Whether the wave has reached the end of its journey.")
    entered_phase_at: datetime
    opened_at: datetime
    version: int
    open_tasks: list[TaskOut] | None = None
    health: WaveHealthOut | None = Field(None, description="The wave's health now, computed when read.")


class WaveReadinessOut(BaseModel):
    engagement_id: int
    wave_id: int
    phase: str
    transitions: list[TransitionReadinessOut]


class WaveTransitionResult(BaseModel):
    wave: WaveOut
    from_phase: str
    trigger: str
    readiness: TransitionReadinessOut
