"""The append-only history. ``append`` is the only writer of events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Insert, func, insert, literal, select
from sqlalchemy.orm import Session

from okr_rollout.models import Event

# Transactions that append events take this lock before their first event and hold it until they end. So
# event ids become visible in the order they were assigned: a webhook reader that takes "id > cursor" can
# never pass over an event whose transaction took a lower id but committed later. (SQLite writers are already
# serialized by BEGIN IMMEDIATE.)
OUTBOX_ORDER_LOCK = 7_202_612


def _first_event_of_transaction_on_postgresql(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    transaction = session.get_transaction()
    return transaction is None or session.info.get("outbox_order_lock") is not transaction


def append(
    session: Session,
    *,
    type: str,
    actor: str,
    at: datetime,
    organization_id: int | None = None,
    engagement_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    session.flush()  # the change this event records reaches the database first (and its errors surface here)
    values: dict[str, Any] = {"type": type, "actor": actor, "occurred_at": at, "organization_id": organization_id,
                              "engagement_id": engagement_id, "payload": payload or {}}
    statement: Insert
    take_lock = _first_event_of_transaction_on_postgresql(session)
    if take_lock:
        # The lock and the event in one statement: the materialized CTE runs before the row (and its id) exists.
        lock = select(func.pg_advisory_xact_lock(OUTBOX_ORDER_LOCK)).cte("outbox_order").prefix_with("MATERIALIZED")
        columns = Event.__table__.c
        statement = insert(Event).from_select(
            list(values), select(*(literal(value, columns[name].type) for name, value in values.items()))
            .select_from(lock))
    else:
        statement = insert(Event).values(**values)
    event_id = session.execute(statement.returning(Event.id)).scalar_one()
    if take_lock:
        session.info["outbox_order_lock"] = session.get_transaction()
    return Event(id=event_id, **values)


def for_engagement(session: Session, engagement_id: int, *, after: int, limit: int) -> list[Event]:
    return list(
        session.scalars(
            select(Event)
            .where(Event.engagement_id == engagement_id, Event.id > after)
            .order_by(Event.id)
            .limit(limit)
        )
    )
