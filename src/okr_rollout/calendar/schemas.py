"""API shapes of calendar feeds."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CalendarFeedOut(BaseModel):
    person_id: int
    url: str = Field(description="The secret feed URL (iCalendar); shown once: keep it, or issue a new one.")
    webcal_url: str = Field(description="The same feed for calendar apps that subscribe to webcal:// links.")
    rotated: bool = Field(description="True when an earlier feed URL of this person was invalidated.")
    issued_at: datetime
