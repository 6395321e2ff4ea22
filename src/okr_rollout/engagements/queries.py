"""Every statement about engagements and their tasks. Services call these; routers and pages never build a query."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import joinedload

from okr_rollout.models import Engagement, Task


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
