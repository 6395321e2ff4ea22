"""The append-only history. ``append`` is the only writer of events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.orm import Session

from okr_rollout.driver import DriverStatement
from okr_rollout.models import Event

# Transactions that append events take this lock before their first event and hold it until they end. So
# event ids become visible in the order they were assigned: a webhook reader that takes "id > cursor" can
# never pass over an event whose transaction took a lower id but committed later. (SQLite writers are already
# serialized by BEGIN IMMEDIATE.)
OUTBOX_ORDER_LOCK = 7_202_612


_EVENTS = cast(Table, Event.__table__)
_COLUMNS = ("type", "actor", "occurred_at", "organization_id", "engagement_id", "payload")
_VALUES = [bindparam(name, type_=_EVENTS.c[name].type) for name in _COLUMNS]
# Built once. The first event of a PostgreSQL transaction takes the lock in its own insert: the materialized CTE
# runs before the row (and its id) exists, one round trip for both.
_INSERT = DriverStatement(insert(_EVENTS).values(dict(zip(_COLUMNS, _VALUES, strict=True))).returning(_EVENTS.c.id))
_LOCK_AND_INSERT = DriverStatement(insert(_EVENTS).from_select(
    list(_COLUMNS),
    select(*_VALUES).select_from(select(func.pg_advisory_xact_lock(OUTBOX_ORDER_LOCK)).cte("outbox_order")
                                 .prefix_with("MATERIALIZED")),
).returning(_EVENTS.c.id))


def _first_event_of_transaction_on_postgresql(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    transaction = session.get_transaction()
    return transaction is None or session.info.get("outbox_order_lock") is not transaction


@dataclass(frozen=True)
class PendingEvent:
    """An event ready to be inserted (``statement`` with ``values``, returning its id), for a writer that sends
    it along with other statements (see ``engagements.moves``); ``written`` then completes it."""

    statement: DriverStatement
    values: dict[str, Any]
    takes_lock: bool

    def written(self, session: Session, event_id: int) -> int:
        if self.takes_lock:
            session.info["outbox_order_lock"] = session.get_transaction()
        return event_id


def pending(
    session: Session,
    *,
    type: str,
    actor: str,
    at: datetime,
    organization_id: int | None = None,
    engagement_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> PendingEvent:
    """The insert of one event, not yet sent. Whoever sends it must have flushed the change it records."""
    values: dict[str, Any] = {"type": type, "actor": actor, "occurred_at": at, "organization_id": organization_id,
                              "engagement_id": engagement_id, "payload": payload or {}}
    take_lock = _first_event_of_transaction_on_postgresql(session)
    return PendingEvent(_LOCK_AND_INSERT if take_lock else _INSERT, values, take_lock)


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
    event = pending(session, type=type, actor=actor, at=at, organization_id=organization_id,
                    engagement_id=engagement_id, payload=payload)
    event_id = session.connection().execute(event.statement.statement, event.values).scalar_one()
    return Event(id=event.written(session, event_id), **event.values)


def for_engagement(session: Session, engagement_id: int, *, after: int, limit: int) -> list[Event]:
    return list(
        session.scalars(
            select(Event)
            .where(Event.engagement_id == engagement_id, Event.id > after)
            .order_by(Event.id)
            .limit(limit)
        )
    )
