"""What lets a person of a client organization in without a password (a sign-in link), and the tasks of a phase
resolved to the people who hold the task's role when the phase was entered."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from okr_rollout.db import Base
from okr_rollout.models._columns import utcnow


class ClientLink(Base):
    """A single-use sign-in link for one person of one organization. Only the SHA-256 of its secret (256 bits of
    randomness) is stored; it is refused once used, once expired, or once revoked."""

    __tablename__ = "client_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class TaskAssignee(Base):
    """A person a task is for: one who held the task's role in the organization when its phase was entered."""

    __tablename__ = "task_assignees"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)


class Pulse(Base):
    """One attendee's short rating (1 to 5, and a comment) of a milestone they attended: a kickoff, a pilot
    training, a quarter review. Made when the milestone is recorded as held; answered once, on the person's page
    or through its own link (only the SHA-256 of the link's secret is stored)."""

    __tablename__ = "pulses"
    __table_args__ = (UniqueConstraint("record_kind", "record_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    milestone: Mapped[str] = mapped_column(String(64))
    record_kind: Mapped[str] = mapped_column(String(16))  # meeting | training
    record_id: Mapped[int] = mapped_column(Integer)
    held_on: Mapped[date] = mapped_column(Date)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column()
