"""What the coach records around the cycle: meetings, CEO support, training, drafting groups, appointments.

People lists (attendees, members) are JSON arrays of person ids: they are read whole, with the engagement's
facts, and the service checks every id belongs to the engagement's organization before writing.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from okr_rollout.db import Base
from okr_rollout.models._columns import JsonType, Voidable, utcnow


class Meeting(Voidable, Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    held_at: Mapped[datetime] = mapped_column()
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    attendee_ids: Mapped[list[int]] = mapped_column(JsonType, default=list)
    outcomes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    # planned, held or cancelled (MEETING_STATUSES); only a held meeting counts for a gate.
    status: Mapped[str] = mapped_column(String(16), default="held", server_default="held")
    # Whom the meeting counts for when its kind's attendee rule says (a 1:1: the person, not the lead); None: every
    # attendee.
    counts_for_ids: Mapped[list[int] | None] = mapped_column(JsonType, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CeoSupportStatement(Voidable, Base):
    """A dated statement of the CEO's support; a newer statement is appended when support changes (support can
    fade), a wrong one is corrected or voided."""

    __tablename__ = "ceo_support_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    stated_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class TrainingSession(Voidable, Base):
    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)
    modules: Mapped[list[str]] = mapped_column(JsonType, default=list)
    attendee_ids: Mapped[list[int]] = mapped_column(JsonType, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="held", server_default="held")
    # Who gave it: the engagement's external coach or a person of the organization (an internal coach); None: not said
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class DraftingGroup(Voidable, Base):
    __tablename__ = "drafting_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    member_ids: Mapped[list[int]] = mapped_column(JsonType, default=list)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Appointment(Voidable, Base):
    """An internal coach (trained or not) or the OKR Master (ready or not) at the client."""

    __tablename__ = "appointments"
    # One appointment per person and role, among those not voided.
    __table_args__ = (Index("uq_appointments_engagement_id_person_id_role", "engagement_id", "person_id", "role",
                            unique=True, sqlite_where=text("voided_at IS NULL"),
                            postgresql_where=text("voided_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    role: Mapped[str] = mapped_column(String(32))
    trained: Mapped[bool] = mapped_column(Boolean, default=False)
    trained_on: Mapped[date | None] = mapped_column(Date)
    ready: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
