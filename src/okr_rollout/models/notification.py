"""Reminders (one row per due occurrence, keyed so it is never sent twice) and the notifications they fan out to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from okr_rollout.db import Base
from okr_rollout.models._columns import JsonType, utcnow


class Reminder(Base):
    """One occurrence of a playbook cadence for one engagement. The unique key, not the job store, decides
    whether it was already handled: a second scheduler or a catch-up run inserts nothing new."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("engagement_id", "cadence_id", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"))
    cadence_id: Mapped[str] = mapped_column(String(64))
    occurrence: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))  # sent | skipped
    skip_reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """A message to one person on one channel (the in-app inbox, or e-mail with retries)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("reminder_id", "person_id", "channel"),
        # One e-mail digest per person and period ("daily:2026-01-05", "weekly:2026-W02"), however many runs.
        UniqueConstraint("person_id", "channel", "digest_key"),
        Index("ix_notifications_person_id_id", "person_id", "id"),
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # inbox | email
    locale: Mapped[str] = mapped_column(String(16), default="en")
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    read_at: Mapped[datetime | None] = mapped_column()
    digest_key: Mapped[str | None] = mapped_column(String(32), default=None)


class SchedulerState(Base):
    """When a scheduler job last ran, so the next run (in any process, after any downtime) asks what became due
    since then; the keyed reminders, not this row, keep a reminder from being sent twice."""

    __tablename__ = "scheduler_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column()
