"""The append-only history. ``append`` is the only writer of events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.models import Event


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
