"""Engagements: creation (pinned to a playbook version), readiness, transitions, tasks. Flushes only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, exists, select, true
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import flag_modified

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.auth.service import caller_of, token_lookup
from okr_rollout.auth.visibility import engagement_visibility, sees_engagement, visible_engagement, visible_organization
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.driver import DriverStatement, fetch_all_each, fetch_one
from okr_rollout.engagements.moves import MoveConflict, PhaseChange, create_tasks, write_move
from okr_rollout.engagements.schemas import EngagementCreate, TaskUpdate
from okr_rollout.errors import Conflict, GateRefused, NotFound, PreconditionFailed, Unprocessable
from okr_rollout.events import service as events
from okr_rollout.journey.facts_loader import load_facts
from okr_rollout.journey.machine import (
    Moved,
    ReadinessReport,
    TransitionReadiness,
    UnknownTrigger,
    machine_for,
)
from okr_rollout.models import ChecklistItem, Engagement, EngagementCoach, Person, Task
from okr_rollout.playbooks import UnknownPlaybook


def create_engagement(
    session: Session, caller: Caller, catalog: Catalog, data: EngagementCreate, now: datetime
) -> Engagement:
    if caller.role not in (Role.admin, Role.integration):
        raise NotFound("only administrators and integrations create engagements")
    organization = visible_organization(session, caller, data.organization_id)
    try:
        playbook = catalog.current(data.playbook, data.playbook_version)
    except UnknownPlaybook as unknown:
        known_id = bool(catalog.registry.versions(data.playbook))
        field = "body.playbook_version" if data.playbook_version and known_id else "body.playbook"
        raise Unprocessable(str(unknown), errors=[{"field": field, "message": str(unknown),
                                                   "type": "unknown_playbook"}]) from None
    coach_ids = sorted(set(data.coach_ids))
    if coach_ids:
        found = set(session.scalars(select(Person.id).where(Person.id.in_(coach_ids))))
        missing = [c for c in coach_ids if c not in found]
        if missing:
            raise Unprocessable(f"no coaches {missing}", errors=[{"field": "body.coach_ids",
                                                                  "message": f"unknown people {missing}",
                                                                  "type": "unknown_person"}])
    catalog.pin(session, playbook)
    engagement = Engagement(organization_id=organization.id, playbook_id=playbook.id,
                            playbook_version=playbook.version, playbook_sha256=playbook.sha256, created_at=now,
                            updated_at=now)
    tasks = machine_for(playbook).start(engagement, now)
    session.add(engagement)
    session.flush()
    session.add_all(EngagementCoach(engagement_id=engagement.id, person_id=c) for c in coach_ids)
    create_tasks(session, engagement.id, tasks, now)
    events.append(session, type="engagement.created", actor=caller.actor, at=now, organization_id=organization.id,
                  engagement_id=engagement.id,
                  payload={"phase": engagement.phase, "playbook": {"id": playbook.id, "version": playbook.version,
                                                                    "sha256": playbook.sha256},
                           "coach_ids": coach_ids})
    return engagement


def list_engagements(
    session: Session, caller: Caller, *, phase: str | None, coach_id: int | None, organization_id: int | None,
    after: int, limit: int,
) -> list[Engagement]:
    statement = select(Engagement).where(engagement_visibility(caller), Engagement.id > after)
    if phase is not None:
        statement = statement.where(Engagement.phase == phase)
    if organization_id is not None:
        statement = statement.where(Engagement.organization_id == organization_id)
    if coach_id is not None:
        statement = statement.where(Engagement.id.in_(
            select(EngagementCoach.engagement_id).where(EngagementCoach.person_id == coach_id)))
    return list(session.scalars(statement.order_by(Engagement.id).limit(limit + 1)))


def coaches_of(session: Session, engagement_ids: list[int]) -> dict[int, list[int]]:
    coaches: dict[int, list[int]] = defaultdict(list)
    if engagement_ids:
        for engagement_id, person_id in session.connection().execute(
            select(EngagementCoach.engagement_id, EngagementCoach.person_id)
            .where(EngagementCoach.engagement_id.in_(engagement_ids)).order_by(EngagementCoach.person_id)
        ):
            coaches[engagement_id].append(person_id)
    return coaches


def open_tasks(session: Session, engagement: Engagement | EngagementRow) -> list[Task]:
    # Joined, not a second SELECT: an engagement has a handful of open tasks, each a short checklist.
    return list(session.scalars(
        select(Task).options(joinedload(Task.checklist))
        .where(Task.engagement_id == engagement.id, Task.phase == engagement.phase, Task.done.is_(False),
               Task.obsolete_at.is_(None))
        .order_by(Task.due_at, Task.id)
    ).unique())


def list_tasks(session: Session, engagement: Engagement, *, after: int, limit: int) -> list[Task]:
    return list(session.scalars(
        select(Task).options(selectinload(Task.checklist))
        .where(Task.engagement_id == engagement.id, Task.id > after).order_by(Task.id).limit(limit + 1)
    ))


def readiness(session: Session, catalog: Catalog, engagement: Engagement, now: datetime) -> ReadinessReport:
    playbook = catalog.pinned(session, engagement.playbook_sha256)
    facts = load_facts(session.connection(), [engagement.id], now)[engagement.id]
    return machine_for(playbook).readiness(facts)


_ENGAGEMENTS = cast(Table, Engagement.__table__)
@dataclass(slots=True)
class EngagementRow:
    """An engagement as a transition read and moved it: its columns, without the ORM's bookkeeping."""

    id: int
    organization_id: int
    playbook_id: str
    playbook_version: int
    playbook_sha256: str
    phase: str
    entered_phase_at: datetime
    created_at: datetime
    updated_at: datetime
    version: int


_LOCK_ENGAGEMENT_COLUMNS = tuple(field.name for field in fields(EngagementRow))


@dataclass(frozen=True, slots=True)
class EngagementView:
    """What ``GET /engagements/{id}`` shows: the engagement, its coaches, its phase's open tasks and their
    checklists (rows as the driver gives them, in ``OPEN_TASK_COLUMNS`` and ``CHECKLIST_COLUMNS`` order)."""

    engagement: EngagementRow
    coach_ids: list[int]
    open_tasks: list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]


_TASKS = cast(Table, Task.__table__)
_CHECKLIST_ITEMS = cast(Table, ChecklistItem.__table__)
_COACHES = cast(Table, EngagementCoach.__table__)
OPEN_TASK_COLUMNS = ("id", "engagement_id", "phase", "task_key", "title_en", "title_zh_tw", "role", "due_at",
                     "done", "done_at", "assignee_id", "version")
CHECKLIST_COLUMNS = ("id", "item_key", "title_en", "title_zh_tw", "checked", "checked_at")
# One engagement's row as each kind of caller may see it (the caller's ids are bound, so one statement per kind).
_VISIBLE_ROW = {
    kind: select(*(_ENGAGEMENTS.c[name] for name in _LOCK_ENGAGEMENT_COLUMNS))
    .where(_ENGAGEMENTS.c.id == bindparam("engagement_id"), visible)
    for kind, visible in (
        ("all", true()),
        ("coach", exists().where(_COACHES.c.engagement_id == _ENGAGEMENTS.c.id,
                                 _COACHES.c.person_id == bindparam("person_id"))),
        ("organization", _ENGAGEMENTS.c.organization_id == bindparam("organization_id")),
    )
}
# GET /engagements/{id} reads the row unfiltered (its caller is known only once the pipeline returns: see
# view_engagement_as), its coaches, and its open tasks joined with their checklists; the two last join the
# engagement for its phase.
_VIEW_ROW = DriverStatement(_VISIBLE_ROW["all"])
# A transition reads its engagement the same way, locked: the ORM's identity map and SQLAlchemy's execution
# layer would cost more than the read.
_LOCK_ROW = {kind: DriverStatement(statement.with_for_update(of=_ENGAGEMENTS))
             for kind, statement in _VISIBLE_ROW.items()}


def _visibility_of(caller: Caller, engagement_id: int) -> tuple[str, dict[str, Any]]:
    """Which of the statements above shows ``caller`` an engagement, and its values."""
    kind = "all" if caller.sees_all_organizations else "coach" if caller.role == Role.coach else "organization"
    return kind, {"engagement_id": engagement_id, "person_id": caller.person_id,
                  "organization_id": caller.organization_id}
_VIEW_COACHES = DriverStatement(select(_COACHES.c.person_id).where(_COACHES.c.engagement_id == bindparam(
    "engagement_id")).order_by(_COACHES.c.person_id))
_VIEW_OPEN_TASKS = DriverStatement(
    select(*(_TASKS.c[name] for name in OPEN_TASK_COLUMNS), *(_CHECKLIST_ITEMS.c[name] for name in CHECKLIST_COLUMNS))
    .select_from(_TASKS.join(_ENGAGEMENTS, (_ENGAGEMENTS.c.id == _TASKS.c.engagement_id)
                             & (_ENGAGEMENTS.c.phase == _TASKS.c.phase))
                 .outerjoin(_CHECKLIST_ITEMS, _CHECKLIST_ITEMS.c.task_id == _TASKS.c.id))
    .where(_TASKS.c.engagement_id == bindparam("engagement_id"), _TASKS.c.done.is_(False),
           _TASKS.c.obsolete_at.is_(None))
    .order_by(_TASKS.c.due_at, _TASKS.c.id, _CHECKLIST_ITEMS.c.position))


def view_engagement_as(session: Session, raw_token: str, engagement_id: int
                       ) -> tuple[Caller | None, EngagementView | None]:
    """The live token's caller (None: unknown or revoked) and one engagement as that caller may see it (None:
    not there, or not theirs), with its coaches and open tasks.

    The token is read with the engagement, in one round trip on PostgreSQL, and the visibility rule applied to
    what was read (``sees_engagement``): what a caller may not see is read but never shown."""
    token_statement, token_values = token_lookup(raw_token)
    values = {"engagement_id": engagement_id}
    tokens, rows, coaches, task_rows = fetch_all_each(session.connection(), [
        (token_statement, token_values), (_VIEW_ROW, values), (_VIEW_COACHES, values),
        (_VIEW_OPEN_TASKS, values)])
    if not tokens:
        return None, None
    caller = caller_of(tokens[0])
    coach_ids = [person_id for (person_id,) in coaches]
    engagement = EngagementRow(*rows[0]) if rows else None
    if engagement is None or not sees_engagement(caller, engagement.organization_id, coach_ids):
        return caller, None
    task_width = len(OPEN_TASK_COLUMNS)
    tasks: dict[int, tuple[tuple[Any, ...], list[tuple[Any, ...]]]] = {}
    for row in task_rows:
        task = tasks.setdefault(row[0], (row[:task_width], []))
        if row[task_width] is not None:
            task[1].append(row[task_width:])
    return caller, EngagementView(engagement, coach_ids, list(tasks.values()))


def fire_transition(
    session: Session, caller: Caller, catalog: Catalog, engagement_id: int, trigger: str, now: datetime,
    expected_version: int | None = None,
) -> tuple[EngagementRow, str, TransitionReadiness]:
    """Evaluate the gate on fresh facts with the engagement row locked; move, or refuse writing nothing.

    Returns the engagement as it now is (the move is written with a plain UPDATE; an ORM instance the session
    held is expired), the phase it left and the gate's readiness."""
    session.flush()  # what the session holds reaches the database before the plain statements below
    connection = session.connection()
    kind, values = _visibility_of(caller, engagement_id)
    row = fetch_one(connection, _LOCK_ROW[kind], values)
    if row is None:
        raise NotFound(f"no engagement {engagement_id}")
    engagement = EngagementRow(*row)
    if not caller.may_fire_transitions:
        raise NotFound(f"no engagement {engagement_id} to act on")  # may read, may not move it
    if expected_version is not None and expected_version != engagement.version:
        raise PreconditionFailed(f"engagement {engagement_id} is at version {engagement.version}")
    machine = machine_for(catalog.pinned(session, engagement.playbook_sha256))
    try:
        # Only what this gate reads: for most transitions two or three small reads instead of fourteen.
        facts = load_facts(connection, [engagement.id], now, machine.facts_read(engagement.phase, trigger)
                           )[engagement.id]
        result = machine.fire(facts, trigger)
    except UnknownTrigger as unknown:
        raise Conflict(str(unknown), extra={"phase": engagement.phase, "available_triggers": unknown.available}
                       ) from None
    if not isinstance(result, Moved):
        report = readiness_json(result.readiness)
        refusal = GateRefused(
            f"'{trigger}' from '{engagement.phase}' is refused: "
            + "; ".join(c.reason.en for c in result.readiness.criteria if c.blocks),
            extra={"phase": engagement.phase, "readiness": report},
        )
        # The refused request writes nothing; its history entry is its own unit of work, after the rollback.
        refusal.after_rollback = partial(
            _record_refusal, session.get_bind(), caller.actor, now, engagement.organization_id, engagement.id,
            {"trigger": trigger, "phase": engagement.phase,
             "failed": [c.id for c in result.readiness.criteria if c.blocks],
             "readiness": report},
        )
        raise refusal
    source, read_version = engagement.phase, engagement.version
    machine.apply(engagement, result, now)
    engagement.updated_at = now
    engagement.version = read_version + 1
    readiness = result.readiness
    try:
        write_move(session, PhaseChange(engagement.id, read_version, engagement.phase, engagement.entered_phase_at,
                                        now),
                   result.tasks,
                   lambda task_ids: events.pending(
                       session, type="engagement.transitioned", actor=caller.actor, at=now,
                       organization_id=engagement.organization_id, engagement_id=engagement.id,
                       payload={"trigger": trigger, "from": source, "to": engagement.phase,
                                "criteria": [{"id": c.id, "passed": c.passed} for c in readiness.criteria],
                                "task_ids": task_ids}))
    except MoveConflict as conflict:  # the row is locked (or SQLite's write lock held) since it was read
        raise Conflict(str(conflict)) from None
    held = session.identity_map.get(session.identity_key(Engagement, engagement.id))
    if held is not None:
        session.expire(held)
    return engagement, source, result.readiness


def _record_refusal(bind: Engine | Connection, actor: str, now: datetime, organization_id: int,
                    engagement_id: int, payload: dict[str, Any]) -> None:
    engine = bind if isinstance(bind, Engine) else bind.engine
    with session_scope(make_session_factory(engine)) as session:
        events.append(session, type="gate.refused", actor=actor, at=now, organization_id=organization_id,
                      engagement_id=engagement_id, payload=payload)


def readiness_json(readiness: TransitionReadiness, locale: str = "en") -> dict[str, object]:
    return {
        "trigger": readiness.trigger,
        "destination": readiness.dest,
        "allowed": readiness.allowed,
        "passed": readiness.passed_count,
        "total": len(readiness.criteria),
        "criteria": [
            {"id": c.id, "kind": c.kind, "severity": c.severity, "passed": c.passed,
             "reason": c.reason.get(locale), "reasons": c.reason.as_dict(), "evidence": c.evidence}
            for c in readiness.criteria
        ],
    }


def visible_task(session: Session, caller: Caller, task_id: int) -> Task:
    task = session.scalar(select(Task).options(selectinload(Task.checklist)).where(Task.id == task_id))
    if task is None:
        raise NotFound(f"no task {task_id}")
    try:
        visible_engagement(session, caller, task.engagement_id)
    except NotFound:
        raise NotFound(f"no task {task_id}") from None
    return task


def update_task(session: Session, caller: Caller, task: Task, data: TaskUpdate, now: datetime) -> Task:
    changes = data.model_dump(exclude_unset=True)
    if "done" in changes and changes["done"] is None:
        raise Unprocessable("done cannot be null", errors=[{"field": "body.done", "message": "may not be null",
                                                             "type": "null"}])
    if "due_at" in changes and changes["due_at"] is None:
        raise Unprocessable("due_at cannot be null", errors=[{"field": "body.due_at", "message": "may not be null",
                                                               "type": "null"}])
    if changes.get("assignee_id") is not None:
        engagement = session.get(Engagement, task.engagement_id)
        assignee = session.get(Person, changes["assignee_id"])
        if engagement is None or assignee is None or assignee.organization_id not in (
                None, engagement.organization_id):
            raise Unprocessable(f"person {changes['assignee_id']} cannot be assigned to this engagement's tasks",
                                errors=[{"field": "body.assignee_id", "message": "unknown or of another organization",
                                         "type": "foreign_organization"}])
    if "due_at" in changes and changes["due_at"].tzinfo is None:
        raise Unprocessable("due_at needs a timezone (RFC 3339)", errors=[
            {"field": "body.due_at", "message": "a timezone offset is required", "type": "naive_datetime"}])
    if "due_at" in changes:
        changes["due_at"] = changes["due_at"].astimezone(UTC)
    changed = sorted(k for k, v in changes.items() if getattr(task, k) != v)
    for field in changed:
        setattr(task, field, changes[field])
    if "done" in changed:
        task.done_at = now if task.done else None
    if changed:
        session.flush()
        engagement = session.get(Engagement, task.engagement_id)
        events.append(session, type="task.updated", actor=caller.actor, at=now,
                      organization_id=engagement.organization_id if engagement else None,
                      engagement_id=task.engagement_id,
                      payload={"task_id": task.id, "changed": changed, "done": task.done})
    return task


def check_item(session: Session, caller: Caller, task: Task, item_id: int, checked: bool, now: datetime) -> Task:
    item = next((i for i in task.checklist if i.id == item_id), None)
    if item is None:
        raise NotFound(f"task {task.id} has no checklist item {item_id}")
    if item.checked != checked:
        item.checked = checked
        item.checked_at = now if checked else None
        flag_modified(task, "done")  # a checklist change is a change of its task: its version moves
        session.flush()
        engagement = session.get(Engagement, task.engagement_id)
        events.append(session, type="checklist.checked" if checked else "checklist.unchecked", actor=caller.actor,
                      at=now, organization_id=engagement.organization_id if engagement else None,
                      engagement_id=task.engagement_id, payload={"task_id": task.id, "item_id": item.id})
    return task
