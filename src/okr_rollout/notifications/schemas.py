"""API shapes of the in-app inbox."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class NotificationOut(BaseModel):
    id: int
    engagement_id: int | None
    reminder_id: int | None = Field(description="The reminder told; null for a weekly digest, which tells every "
                                                "reminder held beyond max_nudges_per_week in its body.")
    cadence_id: str | None = Field(description="The playbook cadence the reminder came from.")
    occurrence: str | None = Field(description="Which occurrence of the cadence (a date, a step).")
    step: str | None = Field(description="Deadline: warning, due, overdue; check-in escalation: due, repeat, "
                                         "internal_coach, okr_master.")
    due_at: datetime | None
    locale: str = Field(description="The language the message is written in (en or zh-TW).")
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None
    unread: bool
