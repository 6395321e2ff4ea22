"""Writing what the journey machine decided: the engagement's new phase, the tasks and checklists of the phase
it enters, and the history event, in as few round trips as the database allows.

The hot path of the API: on the driver's own cursor (see ``okr_rollout.driver``). On PostgreSQL two
pipelines: the phase update with the task inserts, then the checklist items with the event (which needs the
tasks' ids); on SQLite the same statements one after the other, without SQLAlchemy's per-statement cost.
Flushes only; the caller's unit of work commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from okr_rollout.driver import DriverStatement, driver_errors
from okr_rollout.events.service import PendingEvent
from okr_rollout.journey.machine import TaskToCreate
from okr_rollout.models import ChecklistItem, Engagement, Task

_ENGAGEMENTS = cast(Table, Engagement.__table__)
_TASKS = cast(Table, Task.__table__)
_CHECKLIST_ITEMS = cast(Table, ChecklistItem.__table__)


def _bound(table: Table, *names: str) -> dict[str, Any]:
    return {name: bindparam(name, type_=table.c[name].type) for name in names}


# Built once, compiled once per dialect.
_MOVE = DriverStatement(
    update(_ENGAGEMENTS)
    .where(_ENGAGEMENTS.c.id == bindparam("moved_id"), _ENGAGEMENTS.c.version == bindparam("read_version"))
    .values(**_bound(_ENGAGEMENTS, "phase", "entered_phase_at", "updated_at"), version=_ENGAGEMENTS.c.version + 1)
)
_INSERT_TASK = DriverStatement(
    insert(_TASKS).values(
        **_bound(_TASKS, "engagement_id", "phase", "task_key", "title_en", "title_zh_tw", "role", "due_at", "done",
                 "created_at", "version"),
        # Entering a phase again (a loop in a playbook) starts a new round of its tasks.
        round=select(func.coalesce(func.max(_TASKS.c.round), 0) + 1)
        .where(_TASKS.c.engagement_id == bindparam("of_engagement"), _TASKS.c.phase == bindparam("of_phase"),
               _TASKS.c.task_key == bindparam("of_task_key"))
        .scalar_subquery(),
    ).returning(_TASKS.c.id)
)
_INSERT_CHECKLIST_ITEM = DriverStatement(insert(_CHECKLIST_ITEMS).values(
    **_bound(_CHECKLIST_ITEMS, "task_id", "item_key", "position", "title_en", "title_zh_tw", "checked")))


@dataclass(frozen=True)
class PhaseChange:
    engagement_id: int
    read_version: int  # the version the gate was decided on; the row is locked since it was read
    phase: str
    entered_phase_at: datetime
    updated_at: datetime


class MoveConflict(RuntimeError):
    """The engagement's row did not have the version the gate was decided on."""


def create_tasks(session: Session, engagement_id: int, tasks: Sequence[TaskToCreate], created_at: datetime
                 ) -> list[int]:
    """Insert a phase's tasks and their checklists; return the new tasks' ids, in the order given."""
    task_ids, _ = _write(session, engagement_id, tasks, created_at, None, None)
    return task_ids


def write_move(session: Session, change: PhaseChange, tasks: Sequence[TaskToCreate],
               event_for: Callable[[list[int]], PendingEvent]) -> tuple[list[int], int]:
    """Write a phase change, the tasks of the phase entered and the event ``event_for(task_ids)`` gives; return
    the tasks' ids and the event's."""
    task_ids, event = _write(session, change.engagement_id, tasks, change.updated_at, change, event_for)
    assert event is not None
    return task_ids, event


def _write(
    session: Session, engagement_id: int, tasks: Sequence[TaskToCreate], now: datetime,
    change: PhaseChange | None, event_for: Callable[[list[int]], PendingEvent] | None,
) -> tuple[list[int], int | None]:
    session.flush()  # the rounds count the tasks pending in the session too; the event follows what it records
    connection = session.connection()
    write = _pipelined if connection.dialect.name == "postgresql" else _one_by_one
    with driver_errors(connection):
        return write(session, connection, engagement_id, tasks, now, change, event_for)


def _task_values(engagement_id: int, spec: TaskToCreate, now: datetime) -> dict[str, Any]:
    return {"engagement_id": engagement_id, "phase": spec.phase, "task_key": spec.task_id,
            "title_en": spec.title.en, "title_zh_tw": spec.title.zh_tw, "role": spec.role, "due_at": spec.due_at,
            "done": False, "created_at": now, "version": 1,
            "of_engagement": engagement_id, "of_phase": spec.phase, "of_task_key": spec.task_id}


def _item_values(task_ids: list[int], tasks: Sequence[TaskToCreate]) -> list[dict[str, Any]]:
    return [{"task_id": task_id, "item_key": key, "position": position, "title_en": title.en,
             "title_zh_tw": title.zh_tw, "checked": False}
            for task_id, spec in zip(task_ids, tasks, strict=True)
            for position, (key, title) in enumerate(spec.checklist)]


def _change_values(change: PhaseChange) -> dict[str, Any]:
    return {"moved_id": change.engagement_id, "read_version": change.read_version, "phase": change.phase,
            "entered_phase_at": change.entered_phase_at, "updated_at": change.updated_at}


def _one_by_one(
    session: Session, connection: Connection, engagement_id: int, tasks: Sequence[TaskToCreate], now: datetime,
    change: PhaseChange | None, event_for: Callable[[list[int]], PendingEvent] | None,
) -> tuple[list[int], int | None]:
    dialect = connection.dialect
    cursor: Any = connection.connection.driver_connection
    if change is not None:
        moved = cursor.execute(_MOVE.sql(dialect), _MOVE.parameters(dialect, _change_values(change)))
        if moved.rowcount != 1:
            raise MoveConflict(f"engagement {change.engagement_id} is no longer at version {change.read_version}")
    task_ids = [cursor.execute(_INSERT_TASK.sql(dialect),
                               _INSERT_TASK.parameters(dialect, _task_values(engagement_id, spec, now))).fetchone()[0]
                for spec in tasks]
    items = _item_values(task_ids, tasks)
    if items:
        cursor.executemany(_INSERT_CHECKLIST_ITEM.sql(dialect),
                           [_INSERT_CHECKLIST_ITEM.parameters(dialect, item) for item in items])
    if event_for is None:
        return task_ids, None
    event = event_for(task_ids)
    event_id = cursor.execute(event.statement.sql(dialect), event.statement.parameters(dialect, event.values)
                              ).fetchone()[0]
    return task_ids, event.written(session, event_id)


def _pipelined(
    session: Session, connection: Connection, engagement_id: int, tasks: Sequence[TaskToCreate], now: datetime,
    change: PhaseChange | None, event_for: Callable[[list[int]], PendingEvent] | None,
) -> tuple[list[int], int | None]:
    dialect = connection.dialect
    driver = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
    with driver.pipeline():
        moved = (driver.execute(_MOVE.sql(dialect), _MOVE.parameters(dialect, _change_values(change)))
                 if change is not None else None)
        inserted = [driver.execute(_INSERT_TASK.sql(dialect),
                                   _INSERT_TASK.parameters(dialect, _task_values(engagement_id, spec, now)))
                    for spec in tasks]
    if moved is not None and moved.rowcount != 1:
        assert change is not None
        raise MoveConflict(f"engagement {change.engagement_id} is no longer at version {change.read_version}")
    task_ids = [cast("tuple[int]", cursor.fetchone())[0] for cursor in inserted]
    items = _item_values(task_ids, tasks)
    event = event_for(task_ids) if event_for is not None else None
    if not items and event is None:
        return task_ids, None
    with driver.pipeline():
        if items:
            driver.cursor().executemany(_INSERT_CHECKLIST_ITEM.sql(dialect),
                                        [_INSERT_CHECKLIST_ITEM.parameters(dialect, item) for item in items])
        written = (driver.execute(event.statement.sql(dialect), event.statement.parameters(dialect, event.values))
                   if event is not None else None)
    if event is None or written is None:
        return task_ids, None
    return task_ids, event.written(session, cast("tuple[int]", written.fetchone())[0])
