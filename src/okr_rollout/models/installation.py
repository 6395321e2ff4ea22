"""This installation of okr-rollout: an id made once per database, so what it publishes is told apart from
what another installation publishes (calendar UIDs are the case in point)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from okr_rollout.db import Base
from okr_rollout.models._columns import utcnow

# The one row of the table: its primary key is fixed, so two processes making the id at once keep one.
INSTALLATION_ROW = 1


class Installation(Base):
    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    installation_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
