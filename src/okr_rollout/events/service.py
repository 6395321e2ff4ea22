"""The append-only history. ``append`` is the only writer of events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from okr_rollout.models import Event

# Transactions that append events take this lock before their first event and hold it until they end. So
# event ids become visible in the order they were assigned: a webhook reader that takes "id > cursor" can
# never pass over an event whose transaction took a lower id but committed later. (SQLite writers are already
# serialized by BEGIN IMMEDIATE.)
OUTBOX_ORDER_LOCK = 7_202_612


def _hold_outbox_order(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    if transaction is None or session.info.get("outbox_order_lock") is not transaction:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_ORDER_LOCK})
        session.info["outbox_order_lock"] = session.get_transaction()


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
    _hold_outbox_order(session)
    event = Event(
        type=type,
        actor=actor,
        occurred_at=at,
        organization_id=organization_id,
        engagement_id=engagement_id,
        payload=payload or {},
    )
    session.add(event)
    session.flush()
    return event


def for_engagement(session: Session, engagement_id: int, *, after: int, limit: int) -> list[Event]:
    return list(
        session.scalars(
            select(Event)
            .where(Event.engagement_id == engagement_id, Event.id > after)
            .order_by(Event.id)
            .limit(limit)
        )
    )
