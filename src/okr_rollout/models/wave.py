"""An expansion wave: a named set of departments that runs the playbook's wave journey after the pilot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from okr_rollout.db import Base
from okr_rollout.models._columns import JsonType, utcnow


class Wave(Base):
    """``phase`` is changed only by the waves service, from the machine's verdict on the wave's journey (the
    pinned playbook's ``wave`` section, of ``variant`` when one was chosen)."""

    __tablename__ = "waves"
    __table_args__ = (UniqueConstraint("engagement_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    variant: Mapped[str | None] = mapped_column(String(64))
    department_ids: Mapped[list[int]] = mapped_column(JsonType, default=list)
    owner_ids: Mapped[list[int]] = mapped_column(JsonType, default=list)  # its internal coaches
    phase: Mapped[str] = mapped_column(String(64))
    entered_phase_at: Mapped[datetime] = mapped_column()
    opened_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
