"""Every statement the read models of the pages and of ``GET /api/v1/portfolio`` run: the portfolio's rows and
their summaries, and one engagement's tasks, history, organization, people and departments.

Visibility is always ``auth.visibility.engagement_visibility`` and an open task always
``engagements.queries.is_open_task``: these statements combine the rules, they never restate them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import selectinload

from okr_rollout.engagements.queries import is_open_task
from okr_rollout.models import Department, Engagement, EngagementCoach, Event, Organization, Person, Task

# --- the portfolio -----------------------------------------------------------------------------------------------


def portfolio_engagements(visible: ColumnElement[bool]) -> Select[Engagement, str, str]:
    """Every engagement ``visible`` lets through, with its organization's name and time zone."""
    return (select(Engagement, Organization.name, Organization.timezone)
            .join(Organization, Organization.id == Engagement.organization_id).where(visible)
            .order_by(Organization.name, Engagement.id))


def open_task_summary(visible: ColumnElement[bool], now: datetime) -> Select[int, Any, datetime | None]:
    """Per engagement: how many of its open tasks are overdue at ``now``, and the soonest due date among them."""
    return (select(Task.engagement_id, func.sum(case((Task.due_at < now, 1), else_=0)), func.min(Task.due_at))
            .join(Engagement, is_open_task()).where(visible).group_by(Task.engagement_id))


def last_activity(visible: ColumnElement[bool]) -> Select[int | None, datetime]:
    """Per engagement: when its latest event happened."""
    return (select(Event.engagement_id, func.max(Event.occurred_at))
            .join(Engagement, Engagement.id == Event.engagement_id).where(visible).group_by(Event.engagement_id))


# --- one engagement and its organization ------------------------------------------------------------------------


def visible_engagements_with_organization(visible: ColumnElement[bool]) -> Select[Engagement, Organization]:
    return (select(Engagement, Organization).join(Organization, Organization.id == Engagement.organization_id)
            .where(visible).order_by(Engagement.id))


def open_tasks_of(engagement_ids: Collection[int]) -> Select[Task]:
    """The open tasks of several engagements (without their checklists), soonest due first."""
    return (select(Task).join(Engagement, is_open_task()).where(Engagement.id.in_(list(engagement_ids)))
            .order_by(Task.due_at, Task.id))


def done_tasks_of_current_phase(engagement_id: int) -> Select[Task]:
    """The tasks of the engagement's current phase already done, with their checklists, oldest round first."""
    return (select(Task).options(selectinload(Task.checklist))
            .join(Engagement, (Engagement.id == Task.engagement_id) & (Engagement.phase == Task.phase))
            .where(Engagement.id == engagement_id, Task.done.is_(True), Task.obsolete_at.is_(None))
            .order_by(Task.round, Task.due_at, Task.id))


def history(engagement_id: int, limit: int) -> Select[Event]:
    """The engagement's latest events, newest first."""
    return select(Event).where(Event.engagement_id == engagement_id).order_by(Event.id.desc()).limit(limit)


def history_page(engagement_id: int, offset: int, limit: int) -> Select[Event]:
    """A page of the engagement's events, newest first."""
    return (select(Event).where(Event.engagement_id == engagement_id).order_by(Event.id.desc())
            .offset(offset).limit(limit))


def history_count(engagement_id: int) -> Select[int]:
    return select(func.count()).select_from(Event).where(Event.engagement_id == engagement_id)


def departments_of(organization_id: int) -> Select[Department]:
    return select(Department).where(Department.organization_id == organization_id).order_by(Department.name)


def people_of(organization_id: int) -> Select[Person]:
    return select(Person).where(Person.organization_id == organization_id).order_by(Person.name, Person.id)


def coaches_of(engagement_id: int) -> Select[Person]:
    """The engagement's external coaches."""
    return (select(Person).join(EngagementCoach, EngagementCoach.person_id == Person.id)
            .where(EngagementCoach.engagement_id == engagement_id).order_by(Person.name))


def people_matching(organization_id: int, engagement_id: int | None, pattern: str, limit: int) -> Select[Person]:
    """People of the organization (and, given ``engagement_id``, that engagement's coaches) whose name contains
    ``pattern`` whatever its case, by name; ``limit`` of them. LIKE's own characters in the pattern match themselves."""
    escaped = pattern.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    among = Person.organization_id == organization_id
    if engagement_id is not None:
        among = among | Person.id.in_(select(EngagementCoach.person_id)
                                      .where(EngagementCoach.engagement_id == engagement_id))
    return (select(Person).where(among, func.lower(Person.name).like(f"%{escaped}%", escape="\\"))
            .order_by(Person.name, Person.id).limit(limit))


def names_of_people(organization_id: int, coach_ids: Collection[int]) -> Select[int, str]:
    """The names of the organization's people and of the given coaches."""
    return select(Person.id, Person.name).where(
        (Person.organization_id == organization_id) | Person.id.in_(list(coach_ids)))
