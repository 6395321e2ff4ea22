from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from okr_rollout.db import Base
from okr_rollout.models._columns import JsonType, utcnow


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored (tokens are random, 256 bits: no KDF needed)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    scopes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class IdempotencyRecord(Base):
    """The first response to a POST with an Idempotency-Key, replayed for the same key and body; written in the
    request's own transaction (``api.middleware``). "withheld": the response showed a secret, which is not kept
    (its body is None)."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("caller", "key"), CheckConstraint("state IN ('done', 'withheld')", name="state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # done | withheld
    status_code: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInThrottle(Base):
    """Failed sign-ins counted per bucket (an account, a client address, or a browser an account knows) and per
    quarter of an hour. A counter row, not a row per failure: one conditional upsert takes a slot or refuses,
    atomically on SQLite and PostgreSQL. ``key`` is a SHA-256, so no address is kept in clear."""

    __tablename__ = "sign_in_throttles"
    __table_args__ = (Index("ix_sign_in_throttles_slot_start", "slot_start"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # account | client | device
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
