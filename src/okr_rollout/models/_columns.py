"""Column helpers shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


# JSON on SQLite, JSONB on PostgreSQL.
JsonType: Any = JSON().with_variant(JSONB(), "postgresql")


class Voidable:
    """A record a coach may void: it stays, shown as voided with who voided it, when and why, and no gate counts
    it. (Records are never deleted: the history and the webhooks refer to them.)"""

    voided_at: Mapped[datetime | None] = mapped_column(default=None)
    voided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    void_reason: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def voided(self) -> bool:
        return self.voided_at is not None
