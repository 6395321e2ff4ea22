"""Column helpers shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB


def utcnow() -> datetime:
    return datetime.now(UTC)


# JSON on SQLite, JSONB on PostgreSQL.
JsonType: Any = JSON().with_variant(JSONB(), "postgresql")
