"""The append-only history. ``append`` is the only writer of events."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from okr_rollout.events import queries
from okr_rollout.events.queries import OUTBOX_ORDER_LOCK
from okr_rollout.models import Event

__all__ = ["OUTBOX_ORDER_LOCK", "Appended", "append", "for_engagement", "hold_order_lock"]
_LOCKED_IN = "okr_rollout_outbox_order_lock"  # session.info: the transaction that holds the lock
# Events that record no change of an engagement's facts: what the readiness watch and the reminders themselves
# append, a refused transition, webhook subscriptions, calendar feeds, a new organization (no engagement yet).
_CHANGES_NO_FACTS = re.compile(
    r"^(readiness\.changed|engagement\.health_changed|reminder\.overdue|gate\.refused|organization\.created|webhook\..*|"
    r"person\.calendar_feed_.*)$")


@dataclass(frozen=True, slots=True)
class Appended:
    """An event as appended, with its id: its values as given, not an ORM object (building one costs a write more
    than reading its id does)."""

    id: int
    type: str
    actor: str
    occurred_at: datetime
    organization_id: int | None
    engagement_id: int | None
    payload: dict[str, Any]


def append(
    session: Session,
    *,
    type: str,
    actor: str,
    at: datetime,
    organization_id: int | None = None,
    engagement_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Appended:
    """Append one event in the session's transaction. Flushes: the change it records reaches the database first
    (and its errors surface here), then the event."""
    session.flush()
    hold_order_lock(session)
    values: dict[str, Any] = {"type": type, "actor": actor, "occurred_at": at, "organization_id": organization_id,
                              "engagement_id": engagement_id, "payload": payload or {}}
    connection = session.connection()
    event_id = connection.execute(queries.insert_event(), values).scalar_one()
    if not _CHANGES_NO_FACTS.match(type):
        # Every change of an engagement's facts is recorded here, in its transaction: so it is marked here too,
        # and its readiness is re-evaluated (and its next reminder found again) once it commits.
        if engagement_id is not None:
            connection.execute(queries.mark_engagement(connection.dialect.name),
                               {"engagement_id": engagement_id, "at": at})
        elif organization_id is not None:
            connection.execute(queries.mark_organization(organization_id))
    return Appended(id=event_id, **values)


def hold_order_lock(session: Session) -> None:
    """PostgreSQL: take the outbox's order lock for the rest of the transaction, once. ``append`` takes it before
    its first event; a writer that may append inside a savepoint takes it before, so that rolling the savepoint
    back cannot release it."""
    if session.get_bind().dialect.name == "postgresql":
        transaction = session.get_transaction()
        if transaction is None or session.info.get(_LOCKED_IN) is not transaction:
            session.execute(queries.take_outbox_order_lock())
            session.info[_LOCKED_IN] = session.get_transaction()


def for_engagement(session: Session, engagement_id: int, *, after: int, limit: int) -> list[Event]:
    return list(session.scalars(queries.for_engagement(engagement_id, after=after, limit=limit)))
