"""Every statement about the history (the events table)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Select, Table, func, insert, select

from okr_rollout.models import Event

# Transactions that append events take this lock before their first event and hold it until they end. So
# event ids become visible in the order they were assigned: a webhook reader that takes "id > cursor" can
# never pass over an event whose transaction took a lower id but committed later. (SQLite writers are already
# serialized by BEGIN IMMEDIATE.)
OUTBOX_ORDER_LOCK = 7_202_612


def take_outbox_order_lock() -> Select[Any]:
    """PostgreSQL: the transaction-scoped lock that keeps event ids visible in the order they were given."""
    return select(func.pg_advisory_xact_lock(OUTBOX_ORDER_LOCK))


def insert_event() -> Insert:
    """One event (its values given at execution), returning its id."""
    return _INSERT_EVENT


_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)


def for_engagement(engagement_id: int, *, after: int, limit: int) -> Select[Event]:
    return select(Event).where(Event.engagement_id == engagement_id, Event.id > after).order_by(Event.id).limit(limit)
