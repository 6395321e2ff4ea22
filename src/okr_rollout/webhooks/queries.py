"""Every statement of webhook subscriptions, their attempts and the outbox they read (the event table)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from okr_rollout.models import Event, WebhookAttempt, WebhookSubscription


def subscriptions_page(*, after: int, limit: int) -> Select[WebhookSubscription]:
    return (select(WebhookSubscription).where(WebhookSubscription.id > after)
            .order_by(WebhookSubscription.id).limit(limit + 1))


def attempts_page(subscription_id: int, *, before: int | None, limit: int) -> Select[WebhookAttempt]:
    """A subscription's attempts, newest first, before the attempt ``before`` when given."""
    statement = select(WebhookAttempt).where(WebhookAttempt.subscription_id == subscription_id)
    if before is not None:
        statement = statement.where(WebhookAttempt.id < before)
    return statement.order_by(WebhookAttempt.id.desc()).limit(limit + 1)


def due_subscription_ids(now: datetime) -> Select[int]:
    """Enabled subscriptions not waiting for a retry whose cursor is behind the end of the history."""
    end = select(func.coalesce(func.max(Event.id), 0)).scalar_subquery()
    return (select(WebhookSubscription.id)
            .where(WebhookSubscription.enabled.is_(True),
                   or_(WebhookSubscription.next_attempt_at.is_(None), WebhookSubscription.next_attempt_at <= now),
                   WebhookSubscription.cursor < end)
            .order_by(WebhookSubscription.id))


def last_event_id() -> Select[int | None]:
    return select(func.max(Event.id))


def events_after(cursor: int, end: int, internal_types: Collection[str],
                 limit: int) -> Select[tuple[int, str, datetime, int | None, int | None, str, dict[str, Any]]]:
    """Up to ``limit`` events of the given types after ``cursor`` and up to ``end``, in history order, as plain
    rows of what a message is made of (no ORM objects: a batch of them is read once and sent)."""
    return (select(Event.id, Event.type, Event.occurred_at, Event.organization_id, Event.engagement_id,
                   Event.actor, Event.payload)
            .where(Event.id > cursor, Event.id <= end, Event.type.in_(list(internal_types)))
            .order_by(Event.id).limit(limit))


def subscription_by_id(subscription_id: int, *, lock: bool = False) -> Select[WebhookSubscription]:
    """The subscription; ``lock``: locked until the transaction ends, so that a replay or delete and the
    recording of a delivery take turns on it instead of one failing on the version the other changed."""
    statement = select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
    return statement.with_for_update() if lock else statement
