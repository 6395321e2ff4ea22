"""Every statement about engagements and their tasks. Services call these; routers and pages never build a query."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import joinedload, selectinload

from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import engagement_visibility
from okr_rollout.models import Engagement, EngagementCoach, Person, ReadinessSnapshot, Task

# The scheduler's readiness watch takes this PostgreSQL lock, so two runs never overlap.
READINESS_WATCH_LOCK = 7_202_613


def is_open_task() -> ColumnElement[bool]:
    """The one rule of an open task: of its engagement's current phase, not done, not made obsolete by a
    playbook migration. Joins ``Task`` to ``Engagement``; every list, count and page of open tasks uses it."""
    return and_(Task.engagement_id == Engagement.id, Task.phase == Engagement.phase, Task.done.is_(False),
                Task.obsolete_at.is_(None))


def open_tasks(engagement_id: int) -> Select[Task]:
    """One engagement's open tasks with their checklists, soonest due first."""
    return (select(Task).options(joinedload(Task.checklist))
            .join(Engagement, is_open_task())
            .where(Engagement.id == engagement_id)
            .order_by(Task.due_at, Task.id))


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


def coaches_of(engagement_ids: Collection[int]) -> Select[int, int]:
    """(engagement id, coach's person id) of the given engagements, coaches in id order."""
    return (select(EngagementCoach.engagement_id, EngagementCoach.person_id)
            .where(EngagementCoach.engagement_id.in_(engagement_ids)).order_by(EngagementCoach.person_id))


def people_among(person_ids: Collection[int]) -> Select[int]:
    """Which of ``person_ids`` exist."""
    return select(Person.id).where(Person.id.in_(person_ids))


def tasks_page(engagement_id: int, *, after: int, limit: int) -> Select[Task]:
    """Every task of an engagement (open or not) past the id ``after``, with checklists; one more than
    ``limit``."""
    return (select(Task).options(selectinload(Task.checklist))
            .where(Task.engagement_id == engagement_id, Task.id > after).order_by(Task.id).limit(limit + 1))


def task_with_checklist(task_id: int) -> Select[Task]:
    return select(Task).options(selectinload(Task.checklist)).where(Task.id == task_id)


def last_rounds(engagement_id: int, phases: Collection[str]) -> Select[str, str, int]:
    """(phase, task key, highest round) of an engagement's tasks in ``phases``: entering a phase again (a loop in a
    playbook) starts a new round of its tasks."""
    return (select(Task.phase, Task.task_key, func.max(Task.round))
            .where(Task.engagement_id == engagement_id, Task.phase.in_(phases))
            .group_by(Task.phase, Task.task_key))


def take_readiness_watch_lock() -> Select[Any]:
    return select(func.pg_advisory_xact_lock(READINESS_WATCH_LOCK))


def pins_and_organizations() -> Select[int, str, int]:
    """(engagement id, pinned playbook's sha256, organization id) of every engagement."""
    return select(Engagement.id, Engagement.playbook_sha256, Engagement.organization_id)


def readiness_snapshots() -> Select[ReadinessSnapshot]:
    return select(ReadinessSnapshot)
