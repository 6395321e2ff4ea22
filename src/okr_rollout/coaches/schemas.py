"""API shapes of the firm's coaches and of assigning them to engagements."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from okr_rollout.api.fields import OneLine

Name = Annotated[OneLine, Field(min_length=1, max_length=200)]
Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CoachCreate(_Input):
    name: Name
    email: Email | None = None
    locale: Literal["en", "zh-TW"] = "en"


class CoachOut(BaseModel):
    id: int
    name: str
    email: str | None
    locale: str
    version: int


class CoachAssignment(_Input):
    coach_id: int = Field(description="The coach (a person of the firm) to assign.")
    hand_over_from: int | None = Field(
        None, description="A coach of the engagement who hands it over: unassigned in the same change, so the "
                          "engagement is never without a coach. Their token and sign-in lose it at once.")


class EngagementCoachesOut(BaseModel):
    engagement_id: int
    coaches: list[CoachOut]
    version: int = Field(description="The engagement's version after the change (its ETag).")
