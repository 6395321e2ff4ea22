"""Every statement about engagements and their tasks. Services call these; routers and pages never build a query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    func,
    insert,
    select,
    union,
    update,
)
from sqlalchemy.orm import joinedload, selectinload

from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import engagement_visibility
from okr_rollout.models import (
    ChecklistItem,
    Engagement,
    EngagementCoach,
    Event,
    Pulse,
    ReadinessSnapshot,
    Task,
    TaskAssignee,
)

# The scheduler's readiness watch takes this PostgreSQL lock, so two runs never overlap.
READINESS_WATCH_LOCK = 7_202_613

# The API's hot statements (reading an engagement, a transition) select table columns and return plain rows:
# SQLAlchemy's ORM loading would cost the API more than the database takes to answer.
_ENGAGEMENTS: Table = Engagement.__table__  # type: ignore[assignment]
_TASKS: Table = Task.__table__  # type: ignore[assignment]
_CHECKLIST_ITEMS: Table = ChecklistItem.__table__  # type: ignore[assignment]
_COACHES: Table = EngagementCoach.__table__  # type: ignore[assignment]
ENGAGEMENT_COLUMNS = ("id", "organization_id", "playbook_id", "playbook_version", "playbook_sha256", "phase",
                      "entered_phase_at", "created_at", "updated_at", "version", "handed_over_at")
TASK_COLUMNS = ("id", "engagement_id", "phase", "task_key", "title_en", "title_zh_tw", "role", "due_at", "done",
                "done_at", "assignee_id", "version")
CHECKLIST_COLUMNS = ("id", "item_key", "title_en", "title_zh_tw", "checked", "checked_at")


def is_open_task() -> ColumnElement[bool]:
    """The one rule of an open task: of its engagement's current phase, not done, not made obsolete by a
    playbook migration. Joins ``Task`` to ``Engagement``; every list, count and page of open tasks uses it."""
    return and_(Task.engagement_id == Engagement.id, Task.wave_id.is_(None), Task.phase == Engagement.phase,
                Task.done.is_(False), Task.obsolete_at.is_(None))


def open_tasks(engagement_id: int) -> Select[Task]:
    """One engagement's open tasks with their checklists, soonest due first."""
    return (select(Task).options(joinedload(Task.checklist))
            .join(Engagement, is_open_task())
            .where(Engagement.id == engagement_id)
            .order_by(Task.due_at, Task.id))


@lru_cache(maxsize=1024)
def visible_engagement_row(caller: Caller, *, for_update: bool = False) -> Select[Any]:
    """The columns of one engagement (``engagement_id``, given at execution) ``caller`` may see: no row when they
    may not; ``for_update``: locked. Built once per caller: every API read and transition runs it."""
    statement = select(*(_ENGAGEMENTS.c[name] for name in ENGAGEMENT_COLUMNS)).where(
        _ENGAGEMENTS.c.id == bindparam("engagement_id"), engagement_visibility(caller))
    return statement.with_for_update(of=_ENGAGEMENTS) if for_update else statement


def open_task_rows() -> Select[Any]:
    """``open_tasks`` as rows, of the engagement ``engagement_id`` given at execution: each open task's columns
    with one of its checklist items (or none), soonest due first, items in order."""
    return _OPEN_TASK_ROWS


_OPEN_TASK_ROWS = (select(*(_TASKS.c[name] for name in TASK_COLUMNS),
                          *(_CHECKLIST_ITEMS.c[name].label(f"item_{name}") for name in CHECKLIST_COLUMNS))
                   .select_from(_TASKS)
                   .join(_ENGAGEMENTS, is_open_task())
                   .outerjoin(_CHECKLIST_ITEMS, _CHECKLIST_ITEMS.c.task_id == _TASKS.c.id)
                   .where(_ENGAGEMENTS.c.id == bindparam("engagement_id"))
                   .order_by(_TASKS.c.due_at, _TASKS.c.id, _CHECKLIST_ITEMS.c.position))


def move_engagement() -> Update:
    """An engagement's new phase, if its version is still ``read_version``; its version moves on."""
    return _MOVE


_MOVE = (update(_ENGAGEMENTS)
         .where(_ENGAGEMENTS.c.id == bindparam("moved_id"), _ENGAGEMENTS.c.version == bindparam("read_version"))
         .values(phase=bindparam("phase"), entered_phase_at=bindparam("entered_phase_at"),
                 updated_at=bindparam("updated_at"), version=_ENGAGEMENTS.c.version + 1))


def insert_tasks() -> Insert:
    """Tasks (rows given at execution, in one statement), returning each one's id, phase and key."""
    return _INSERT_TASKS


def insert_checklist_items() -> Insert:
    """Checklist items (rows given at execution, in one statement), returning each one's id, task and position."""
    return _INSERT_CHECKLIST_ITEMS


_INSERT_TASKS = insert(_TASKS).returning(_TASKS.c.id, _TASKS.c.phase, _TASKS.c.task_key)
_INSERT_CHECKLIST_ITEMS = insert(_CHECKLIST_ITEMS).returning(_CHECKLIST_ITEMS.c.id, _CHECKLIST_ITEMS.c.task_id,
                                                             _CHECKLIST_ITEMS.c.position)


def engagements_page(caller: Caller, *, phase: str | None, coach_id: int | None, organization_id: int | None,
                     after: int, limit: int) -> Select[Engagement]:
    """The engagements ``caller`` may see past the id ``after``, filtered; one more than ``limit`` (is there a
    next page)."""
    statement = select(Engagement).where(engagement_visibility(caller), Engagement.id > after)
    if phase is not None:
        statement = statement.where(Engagement.phase == phase)
    if organization_id is not None:
        statement = statement.where(Engagement.organization_id == organization_id)
    if coach_id is not None:
        statement = statement.where(Engagement.id.in_(
            select(EngagementCoach.engagement_id).where(EngagementCoach.person_id == coach_id)))
    return statement.order_by(Engagement.id).limit(limit + 1)


def coaches_of() -> Select[Any]:
    """(engagement id, coach's person id) of the engagements ``engagement_ids`` (given at execution), coaches in
    id order."""
    return _COACHES_OF


_COACHES_OF = (select(_COACHES.c.engagement_id, _COACHES.c.person_id)
               .where(_COACHES.c.engagement_id.in_(bindparam("engagement_ids", expanding=True)))
               .order_by(_COACHES.c.person_id))


def tasks_page(engagement_id: int, *, after: int, limit: int) -> Select[Task]:
    """Every task of an engagement (open or not) past the id ``after``, with checklists; one more than
    ``limit``."""
    return (select(Task).options(selectinload(Task.checklist))
            .where(Task.engagement_id == engagement_id, Task.id > after).order_by(Task.id).limit(limit + 1))


def insert_task_assignees() -> Insert:
    """The people a new task is for (rows of task_id, person_id)."""
    return insert(TaskAssignee)


def task_with_checklist(task_id: int) -> Select[Task]:
    return select(Task).options(selectinload(Task.checklist)).where(Task.id == task_id)


def last_rounds(of_wave: bool = False) -> Select[Any]:
    """(phase, task key, highest round) of the tasks of engagement ``engagement_id`` (of its journey, or with
    ``of_wave`` of the wave ``wave_id``) in ``phases`` (given at execution): entering a phase again (a loop in a
    playbook) starts a new round of its tasks."""
    return _LAST_WAVE_ROUNDS if of_wave else _LAST_ROUNDS


_LAST_ROUNDS = (select(_TASKS.c.phase, _TASKS.c.task_key, func.max(_TASKS.c.round))
                .where(_TASKS.c.engagement_id == bindparam("engagement_id"), _TASKS.c.wave_id.is_(None),
                       _TASKS.c.phase.in_(bindparam("phases", expanding=True)))
                .group_by(_TASKS.c.phase, _TASKS.c.task_key))
_LAST_WAVE_ROUNDS = (select(_TASKS.c.phase, _TASKS.c.task_key, func.max(_TASKS.c.round))
                     .where(_TASKS.c.engagement_id == bindparam("engagement_id"),
                            _TASKS.c.wave_id == bindparam("wave_id"),
                            _TASKS.c.phase.in_(bindparam("phases", expanding=True)))
                     .group_by(_TASKS.c.phase, _TASKS.c.task_key))


def take_readiness_watch_lock() -> Select[Any]:
    return select(func.pg_advisory_xact_lock(READINESS_WATCH_LOCK))


def pins_and_organizations(engagement_ids: Sequence[int] | None = None) -> Select[int, str, int]:
    """(engagement id, pinned playbook's sha256, organization id) of the given engagements (None: of all)."""
    statement = select(Engagement.id, Engagement.playbook_sha256, Engagement.organization_id)
    return statement if engagement_ids is None else statement.where(Engagement.id.in_(list(engagement_ids)))


def readiness_snapshot_of(engagement_id: int) -> Select[ReadinessSnapshot]:
    return select(ReadinessSnapshot).where(ReadinessSnapshot.engagement_id == engagement_id)


def readiness_snapshots(engagement_ids: Sequence[int] | None = None, *,
                        for_update: bool = False) -> Select[ReadinessSnapshot]:
    statement = select(ReadinessSnapshot).order_by(ReadinessSnapshot.engagement_id)  # locks taken in one order
    if engagement_ids is not None:
        statement = statement.where(ReadinessSnapshot.engagement_id.in_(list(engagement_ids)))
    return statement.with_for_update() if for_update else statement


def readiness_due(now: datetime, limit: int, after: int) -> Select[int, int, datetime | None]:
    """(engagement id, marks, evaluated at) of up to ``limit`` engagements with ids above ``after`` whose readiness
    must be evaluated again: marked stale by a write, or due to change with the clock by ``now``. Each condition
    reads its index."""
    columns = (ReadinessSnapshot.engagement_id, ReadinessSnapshot.marks, ReadinessSnapshot.evaluated_at)
    later = ReadinessSnapshot.engagement_id > after
    stale = select(*columns).where(ReadinessSnapshot.stale.is_(True), later)
    timed = select(*columns).where(ReadinessSnapshot.next_change_at <= now, later)
    both = union(stale, timed).subquery()
    return select(both.c.engagement_id, both.c.marks, both.c.evaluated_at).order_by(both.c.engagement_id).limit(limit)


def readiness_queue(now: datetime, limit: int) -> Select[int, int]:
    """(engagement id, marks) of up to ``limit`` engagements whose readiness must be evaluated again (marked stale
    by a write, or due to change with the clock by ``now``), the longest unevaluated first: ordered by when their
    readiness was last stored (when their row was made, if never). An evaluation moves an engagement to the back,
    and the ones it passes were waiting no longer, so a tick that stops at ``limit`` starves none: what it leaves
    comes first in the next tick. Each condition reads its index; only the due rows are sorted."""
    kept_since = func.coalesce(ReadinessSnapshot.evaluated_at, ReadinessSnapshot.updated_at).label("kept_since")
    columns = (ReadinessSnapshot.engagement_id, ReadinessSnapshot.marks, kept_since)
    stale = select(*columns).where(ReadinessSnapshot.stale.is_(True))
    timed = select(*columns).where(ReadinessSnapshot.next_change_at <= now)
    both = union(stale, timed).subquery()
    return (select(both.c.engagement_id, both.c.marks)
            .order_by(both.c.kept_since, both.c.engagement_id).limit(limit))


# Events a person or a client did not cause: they are no activity of the engagement (its health's "no activity").
NOT_ACTIVITY = ("readiness.changed", "engagement.health_changed", "reminder.overdue", "gate.refused")


def activity_of(engagement_ids: Sequence[int] | None, now: datetime) -> Select[int, int, datetime | None]:
    """(engagement id, overdue open tasks at ``now``, last activity) of the given engagements (None: of all), in
    one statement."""
    overdue = (select(func.count(Task.id)).where(is_open_task(), Task.due_at < now)
               .correlate(Engagement).scalar_subquery())
    last = (select(func.max(Event.occurred_at))
            .where(Event.engagement_id == Engagement.id, Event.type.not_in(NOT_ACTIVITY))
            .correlate(Engagement).scalar_subquery())
    statement = select(Engagement.id, overdue, last)
    return statement if engagement_ids is None else statement.where(Engagement.id.in_(list(engagement_ids)))


def rated_pulses_of(engagement_ids: Sequence[int] | None) -> Select[int, str, date, int, int, int | None]:
    """(engagement id, milestone, held on, asked, answered, sum of the ratings) of each milestone held whose pulse
    has at least one answer, for the given engagements (None: all), in one statement."""
    statement = (select(Pulse.engagement_id, Pulse.milestone, Pulse.held_on, func.count(Pulse.id),
                        func.count(Pulse.rating), func.coalesce(func.sum(Pulse.rating), 0))
                 .group_by(Pulse.engagement_id, Pulse.milestone, Pulse.record_kind, Pulse.record_id, Pulse.held_on)
                 .having(func.count(Pulse.rating) > 0)
                 .order_by(Pulse.engagement_id, Pulse.held_on, Pulse.record_kind, Pulse.record_id))
    return statement if engagement_ids is None else statement.where(Pulse.engagement_id.in_(list(engagement_ids)))


def store_readiness() -> Update:
    """Store one evaluation (values bound at execution) unless a write marked the engagement again meanwhile."""
    return _STORE_READINESS


_SNAPSHOTS: Table = ReadinessSnapshot.__table__  # type: ignore[assignment]
_STORE_READINESS = (
    update(_SNAPSHOTS)
    .where(_SNAPSHOTS.c.engagement_id == bindparam("id"), _SNAPSHOTS.c.marks == bindparam("read_marks"))
    .values(phase=bindparam("phase"), digest=bindparam("digest"), summary=bindparam("summary"),
            updated_at=bindparam("at"), evaluated_at=bindparam("at"), gate_met=bindparam("gate_met"),
            failed_criteria=bindparam("failed_criteria"), gate_passed=bindparam("gate_passed"),
            gate_total=bindparam("gate_total"), next_change_at=bindparam("next_change_at"), stale=False,
            health=bindparam("health"), health_reasons=bindparam("health_reasons")))
