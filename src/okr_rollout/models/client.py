"""What lets a person of a client organization in without a password (a sign-in link), and the tasks of a phase
resolved to the people who hold the task's role when the phase was entered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
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
