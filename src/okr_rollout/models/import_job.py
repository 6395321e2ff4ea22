from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from okr_rollout.db import Base
from okr_rollout.models._columns import JsonType, utcnow


class ImportJob(Base):
    """A CSV import too large to run within one request: the file, how far its writing got, and its outcome.

    Each batch of rows commits together with the job's ``cursor``, so a job cut short by a crash goes on from
    there when a process starts again (see ``okr_rollout.imports.jobs``)."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_status_heartbeat_at", "status", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, running, succeeded, failed
    actor: Mapped[str] = mapped_column(String(200))
    # The file as sent, kept until the job ends: a resumed job reads it again.
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[int] = mapped_column(Integer, default=0)  # people rows or OKRs written so far
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    departments_created: Mapped[list[str]] = mapped_column(JsonType, default=list)
    ids: Mapped[list[int]] = mapped_column(JsonType, default=list)
    errors: Mapped[list[dict[str, object]]] = mapped_column(JsonType, default=list)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()  # the last sign of life of the process running it
    finished_at: Mapped[datetime | None] = mapped_column()
