"""Each engagement's readiness as last evaluated, kept current instead of recomputed on every read.

A write that can change an engagement's facts marks its row stale in the same transaction (``events.append``,
the one writer of the history, does it); the scheduler re-evaluates stale rows, and rows whose
``next_change_at`` has passed (a deadline, a day boundary a gate counts), in small batches. Pages filter and
sort on these columns in SQL. ``marks`` counts the marks: an evaluation clears ``stale`` only if no write
marked the row again while it was evaluating. ``next_reminder_at`` is when a reminder of the engagement may
next fall due (None: unknown, its facts changed), so a reminder run reads only what is due.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column

from okr_rollout.db import Base
from okr_rollout.models._columns import JsonType, utcnow


class ReadinessSnapshot(Base):
    __tablename__ = "readiness_snapshots"
    __table_args__ = (
        Index("ix_readiness_snapshots_stale", "stale"),
        Index("ix_readiness_snapshots_next_change_at", "next_change_at"),
        Index("ix_readiness_snapshots_next_reminder_at", "next_reminder_at"),
        Index("ix_readiness_snapshots_health", "health"),
    )

    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True)
    phase: Mapped[str] = mapped_column(String(64))  # "" until first evaluated
    digest: Mapped[str] = mapped_column(String(64))  # "" until first evaluated
    summary: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The first transition out of the phase (the portfolio's "next step"): None in the final phase.
    gate_met: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=None)
    failed_criteria: Mapped[list[str]] = mapped_column(JsonType, default=list)
    gate_passed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    gate_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    evaluated_at: Mapped[datetime | None] = mapped_column(nullable=True, default=None)
    stale: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    marks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_change_at: Mapped[datetime | None] = mapped_column(nullable=True, default=None)
    next_reminder_at: Mapped[datetime | None] = mapped_column(nullable=True, default=None)
    # The engagement's health (journey/health.py): its status, None until first evaluated, and the signals that
    # decided it (its reasons: what a portfolio row says; every signal is computed afresh for one engagement).
    health: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    health_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list, server_default="[]")
