"""Every statement about the history (the events table)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Select, Table, Update, bindparam, func, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import Executable

from okr_rollout.models import Engagement, Event, ReadinessSnapshot

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


# --- what an event marks: the readiness (and next reminder) of the engagements whose facts it may change ------

_SNAPSHOTS: Table = ReadinessSnapshot.__table__  # type: ignore[assignment]
_MARKED = {"stale": True, "next_reminder_at": None}


def mark_engagement(dialect: str) -> Executable:
    """Mark one engagement's readiness stale and its next reminder unknown (a row for a new engagement): the
    engagement ``engagement_id`` at ``at``, given at execution. Built once per dialect: every write runs it."""
    return _MARK_ENGAGEMENT_POSTGRESQL if dialect == "postgresql" else _MARK_ENGAGEMENT_SQLITE


def _mark_engagement(dialect: str) -> Executable:
    values = {"engagement_id": bindparam("engagement_id", type_=_SNAPSHOTS.c.engagement_id.type), "phase": "",
              "digest": "", "summary": {}, "failed_criteria": [], "gate_passed": 0, "gate_total": 0, "stale": True,
              "marks": 1, "updated_at": bindparam("at", type_=_SNAPSHOTS.c.updated_at.type)}
    on_conflict = {**_MARKED, "marks": _SNAPSHOTS.c.marks + 1}
    if dialect == "postgresql":
        return postgresql.insert(_SNAPSHOTS).values(values).on_conflict_do_update(
            index_elements=["engagement_id"], set_=on_conflict)
    return sqlite.insert(_SNAPSHOTS).values(values).on_conflict_do_update(
        index_elements=["engagement_id"], set_=on_conflict)


_MARK_ENGAGEMENT_POSTGRESQL, _MARK_ENGAGEMENT_SQLITE = _mark_engagement("postgresql"), _mark_engagement("sqlite")


def mark_organization(organization_id: int) -> Update:
    """Mark every engagement of the organization (its people, departments or profile changed)."""
    of_organization = select(Engagement.id).where(Engagement.organization_id == organization_id)
    return (update(_SNAPSHOTS).where(_SNAPSHOTS.c.engagement_id.in_(of_organization))
            .values(stale=true(), marks=_SNAPSHOTS.c.marks + 1, next_reminder_at=None))
