from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from okr_rollout.db import Base
from okr_rollout.models._columns import utcnow


class Task(Base):
    """A task created when its phase is entered, from the playbook's task of that phase.

    A task whose playbook task no longer exists after a migration to a new playbook version is kept as
    history and closed as obsolete (``obsolete_at`` set); it is then neither open nor done.
    """

    __tablename__ = "tasks"
    # A task of the engagement's journey (no wave) is unique per phase, key and round; a wave's, within its wave.
    __table_args__ = (Index("uq_tasks_engagement_id_phase_task_key_round", "engagement_id", "phase", "task_key",
                            "round", unique=True, sqlite_where=text("wave_id IS NULL"),
                            postgresql_where=text("wave_id IS NULL")),
                      Index("uq_tasks_wave_id_phase_task_key_round", "wave_id", "phase", "task_key", "round",
                            unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    # Looked up through the unique constraint, whose index leads with it.
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"))
    # A task of an expansion wave's journey (its phase is the wave's); None: of the engagement's journey.
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(64))
    task_key: Mapped[str] = mapped_column(String(64))
    # Entering the same phase again (a loop in a playbook) creates a new round of its tasks.
    round: Mapped[int] = mapped_column(Integer, default=1)
    title_en: Mapped[str] = mapped_column(String(300))
    title_zh_tw: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column()
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column()
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    obsolete_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    checklist: Mapped[list[ChecklistItem]] = relationship(
        lazy="raise", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def obsolete(self) -> bool:
        return self.obsolete_at is not None

    def carry_into(self, phase: str, round: int) -> None:
        """Relabel the task with its phase's id in a new playbook version (a renamed phase, at a migration).

        ``round`` follows the rounds the task already has under that id. Only the task's label changes:
        the engagement's phase itself is set by the journey machine alone.
        """
        self.phase = phase
        self.round = round


class ChecklistItem(Base):
    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("task_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Looked up through the unique constraint, whose index leads with it.
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    title_en: Mapped[str] = mapped_column(String(300))
    title_zh_tw: Mapped[str] = mapped_column(String(300))
    checked: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_at: Mapped[datetime | None] = mapped_column()
    # An unchecked item whose playbook item no longer exists after a migration: kept, closed as obsolete.
    obsolete_at: Mapped[datetime | None] = mapped_column()
