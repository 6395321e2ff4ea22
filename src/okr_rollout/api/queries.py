"""Every statement about Idempotency-Key records (``api.middleware`` runs them)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Delete, Select, delete, func, select

from okr_rollout.models import IdempotencyRecord


def live_record(caller: str, key: str, *, since: datetime) -> Select[IdempotencyRecord]:
    """The record of ``caller``'s ``key``, unless it expired (created before ``since``)."""
    return select(IdempotencyRecord).where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key,
                                           IdempotencyRecord.created_at >= since)


def expired_record(caller: str, key: str, *, before: datetime) -> Delete:
    """The expired record of ``caller``'s ``key``, which a new one replaces."""
    return delete(IdempotencyRecord).where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key,
                                           IdempotencyRecord.created_at < before)


def expired_records(*, before: datetime) -> Delete:
    return delete(IdempotencyRecord).where(IdempotencyRecord.created_at < before)


def try_key_lock(caller: str, key: str) -> Select[bool]:
    """PostgreSQL: take, without waiting, a lock on the key held until the transaction ends (commit, rollback, or
    the connection closing with its process); False when another transaction holds it."""
    digest = hashlib.sha256(f"idempotency\n{caller}\n{key}".encode()).digest()
    return select(func.pg_try_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True)))
