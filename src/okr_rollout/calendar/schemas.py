"""API shapes of calendar feeds."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CalendarFeedOut(BaseModel):
    id: int = Field(description="The feed's id, to revoke it alone (DELETE …/calendar-tokens/{feed_id}).")
    person_id: int
    url: str = Field(description="The secret feed URL (iCalendar); shown once: keep it, or issue a new one.")
    webcal_url: str = Field(description="The same feed for calendar apps that subscribe to webcal:// links.")
    rotated: bool = Field(False, description="Always false: issuing a feed leaves the person's earlier feeds "
                                             "working (revoke one with DELETE …/calendar-tokens/{feed_id}).")
    issued_at: datetime


class CalendarFeedListed(BaseModel):
    id: int
    person_id: int
    issued_at: datetime


class CalendarFeedList(BaseModel):
    items: list[CalendarFeedListed]
