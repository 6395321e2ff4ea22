from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from okr_rollout.db import Base
from okr_rollout.models._columns import utcnow


class Engagement(Base):
    """One client's journey, pinned to the playbook version it runs on.

    ``phase`` is changed only by the journey service, from the machine's verdict.
    """

    __tablename__ = "engagements"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    playbook_id: Mapped[str] = mapped_column(String(64))
    playbook_version: Mapped[int] = mapped_column(Integer)
    playbook_sha256: Mapped[str] = mapped_column(ForeignKey("playbook_snapshots.sha256"))
    phase: Mapped[str] = mapped_column(String(64), index=True)
    entered_phase_at: Mapped[datetime] = mapped_column()
    # Handed over to the internal coaches: the external coach has left (keeping read access); waves go on.
    handed_over_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class EngagementCoach(Base):
    __tablename__ = "engagement_coaches"

    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)


class PlaybookSnapshot(Base):
    """The exact playbook text an engagement was pinned to, kept so later edits of the file change nothing."""

    __tablename__ = "playbook_snapshots"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    playbook_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
