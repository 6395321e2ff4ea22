"""API shapes of webhook subscriptions and their delivery attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from okr_rollout.texts import LocalizedText
from okr_rollout.webhooks.mapping import SubscribedEventType


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(min_length=1, max_length=2000, description="Absolute http(s) URL of the receiver.",
                              examples=["https://crm.example.com/hooks/okr"])]
    event_types: Annotated[list[SubscribedEventType], Field(
        min_length=1, max_length=20,
        description='The public event types to receive; "*" receives every type, those added later too.')]
    description: Annotated[str, Field(max_length=1000)] = ""


class SubscriptionOut(BaseModel):
    id: int
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    disabled_reason: LocalizedText | None = Field(description="Why delivery stopped, when it did.")
    cursor: int = Field(description="Every event up to this id has been delivered (or is not subscribed to).")
    retry_count: int = Field(description="Failed attempts in a row at the next event.")
    next_attempt_at: datetime | None
    failing_since: datetime | None
    created_by: str
    created_at: datetime
    version: int


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="The whsec_ signing secret. Shown in this response only: store it now.")


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subscription_id: int
    event_id: int
    webhook_id: str = Field(description="The webhook-id header: the same on every retry of one event.")
    attempt: int = Field(description="1 for the first try of this event, then counting retries.")
    status_code: int | None
    error: str | None
    succeeded: bool
    duration_ms: int
    attempted_at: datetime
