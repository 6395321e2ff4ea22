"""The quarterly cycle: quarters, OKRs, key results and their weekly check-ins.

``engagement_id`` is repeated on key results and check-ins so the facts of many engagements load with one
indexed query per table instead of joins through the OKR tree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from okr_rollout.db import Base
from okr_rollout.models._columns import Voidable, utcnow


class Quarter(Voidable, Base):
    __tablename__ = "quarters"
    __table_args__ = (UniqueConstraint("engagement_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # Set when the last OKR of the quarter is decided: its OKRs, key results, scores and decisions no longer
    # change until the quarter is reopened (which clears it, with a reason in the history).
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The day the quarter was set up, as the client says (a client taken on mid-journey); None: created_at's day.
    recorded_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Okr(Voidable, Base):
    __tablename__ = "okrs"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    quarter_id: Mapped[int] = mapped_column(ForeignKey("quarters.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    objective: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    scored_at: Mapped[datetime | None] = mapped_column()
    decision: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column()
    # The days the OKR was prepared and decided on, as the client says; None: created_at's and decided_at's day.
    prepared_on: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    # One OKR is carried at most once: a second "continue" cannot fork it.
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("okrs.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class KeyResult(Voidable, Base):
    __tablename__ = "key_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    okr_id: Mapped[int] = mapped_column(ForeignKey("okrs.id", ondelete="CASCADE"), index=True)
    metric: Mapped[str] = mapped_column(Text)
    start_value: Mapped[float] = mapped_column(Float)
    target_value: Mapped[float] = mapped_column(Float)
    current_value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32), default="")
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("key_results.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CheckIn(Voidable, Base):
    """One weekly update of a key result; every one is kept, so the history shows the whole quarter."""

    __tablename__ = "check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    key_result_id: Mapped[int] = mapped_column(ForeignKey("key_results.id", ondelete="CASCADE"), index=True)
    week_of: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
