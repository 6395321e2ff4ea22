"""Every statement about waves. Services call these; routers and pages never build one."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import selectinload

from okr_rollout.models import Appointment, Department, Engagement, Organization, Person, Task, Wave


def waves_of(engagement_id: int, *, after: int = 0, limit: int | None = None) -> Select[Wave]:
    statement = select(Wave).where(Wave.engagement_id == engagement_id, Wave.id > after).order_by(Wave.id)
    return statement.limit(limit) if limit is not None else statement


def waves_of_engagements(engagement_ids: Collection[int]) -> Select[Wave]:
    return select(Wave).where(Wave.engagement_id.in_(list(engagement_ids))).order_by(Wave.engagement_id, Wave.id)


def wave(engagement_id: int, wave_id: int, *, for_update: bool = False) -> Select[Wave]:
    statement = select(Wave).where(Wave.id == wave_id, Wave.engagement_id == engagement_id)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return statement


def wave_named(engagement_id: int, name: str) -> Select[int]:
    return select(Wave.id).where(Wave.engagement_id == engagement_id, Wave.name == name)


def departments_among(organization_id: int, department_ids: Collection[int]) -> Select[Department]:
    return select(Department).where(Department.id.in_(list(department_ids)),
                                    Department.organization_id == organization_id)


def internal_coaches_among(engagement_id: int, organization_id: int, person_ids: Collection[int]
                           ) -> Select[int]:
    """Which of ``person_ids`` are internal coaches of the engagement (appointed, not voided) in its organization."""
    return (select(Appointment.person_id)
            .join(Person, Person.id == Appointment.person_id)
            .where(Appointment.engagement_id == engagement_id, Appointment.role == "internal_coach",
                   Appointment.voided_at.is_(None), Appointment.person_id.in_(list(person_ids)),
                   Person.organization_id == organization_id))


def open_wave_tasks(wave_ids: Collection[int]) -> Select[Task]:
    """The open tasks of these waves: of each wave's current phase, not done, not obsolete; soonest due first."""
    return (select(Task).options(selectinload(Task.checklist)).join(Wave, Wave.id == Task.wave_id)
            .where(Task.wave_id.in_(list(wave_ids)), Task.phase == Wave.phase, Task.done.is_(False),
                   Task.obsolete_at.is_(None))
            .order_by(Task.due_at, Task.id))


def activity_of_waves(wave_ids: Collection[int], now: datetime) -> Select[int, int, datetime | None]:
    """(wave id, its open tasks overdue at ``now``, when its last task was done) of these waves, in one statement."""
    overdue = func.count(Task.id).filter(and_(Task.phase == Wave.phase, Task.done.is_(False),
                                              Task.obsolete_at.is_(None), Task.due_at < now))
    return (select(Wave.id, overdue, func.max(Task.done_at))
            .outerjoin(Task, Task.wave_id == Wave.id)
            .where(Wave.id.in_(list(wave_ids))).group_by(Wave.id))


def organization_timezone(engagement_id: int) -> Select[str]:
    return (select(Organization.timezone).join(Engagement, Engagement.organization_id == Organization.id)
            .where(Engagement.id == engagement_id))


def names_of_people(person_ids: Collection[int]) -> Select[int, str]:
    return select(Person.id, Person.name).where(Person.id.in_(list(person_ids)))


def names_of_departments(department_ids: Collection[int]) -> Select[int, str]:
    return select(Department.id, Department.name).where(Department.id.in_(list(department_ids)))


def departments_for_waves(organization_id: int) -> Select[int, str, bool]:
    """The organization's departments (id, name, pilot or not), by name."""
    return (select(Department.id, Department.name, Department.is_pilot)
            .where(Department.organization_id == organization_id).order_by(Department.name, Department.id))


def internal_coaches_of(engagement_id: int) -> Select[int, str]:
    """The internal coaches appointed in the engagement (not voided), by name."""
    return (select(Person.id, Person.name).join(Appointment, Appointment.person_id == Person.id)
            .where(Appointment.engagement_id == engagement_id, Appointment.role == "internal_coach",
                   Appointment.voided_at.is_(None)).order_by(Person.name, Person.id))
