"""Every statement about client links and a client person's own page."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, Update, select, update
from sqlalchemy.orm import selectinload

from okr_rollout.engagements.queries import is_open_task
from okr_rollout.models import (
    ClientLink,
    Department,
    Engagement,
    KeyResult,
    Okr,
    Person,
    PersonDepartment,
    Pulse,
    Quarter,
    Task,
    TaskAssignee,
    User,
)


def link_with_hash(token_hash: str) -> Select[ClientLink]:
    return select(ClientLink).where(ClientLink.token_hash == token_hash)


def use_link(link_id: int, now: datetime) -> Update:
    """Mark a link used, only if it is still live: one statement, so two browsers cannot both use it."""
    return (update(ClientLink)
            .where(ClientLink.id == link_id, ClientLink.used_at.is_(None), ClientLink.revoked_at.is_(None),
                   ClientLink.expires_at > now)
            .values(used_at=now))


def links_of_organization(organization_id: int, limit: int) -> Select[ClientLink, str]:
    """The organization's links, newest first, with the name of the person each is for."""
    return (select(ClientLink, Person.name).join(Person, Person.id == ClientLink.person_id)
            .where(ClientLink.organization_id == organization_id)
            .order_by(ClientLink.id.desc()).limit(limit))


def client_user_of(person_id: int) -> Select[User]:
    return select(User).where(User.person_id == person_id, User.role == "client")


def people_of_organization(organization_id: int) -> Select[Person]:
    return select(Person).where(Person.organization_id == organization_id).order_by(Person.name, Person.id)


def latest_engagement_of(organization_id: int) -> Select[int]:
    """The organization's engagement a client person's page is about: the most recent one."""
    return (select(Engagement.id).where(Engagement.organization_id == organization_id)
            .order_by(Engagement.id.desc()).limit(1))


def my_open_tasks(engagement_id: int, person_id: int) -> Select[Task]:
    """The open tasks of the engagement that are for the person, soonest due first, with their checklists."""
    return (select(Task).options(selectinload(Task.checklist))
            .join(Engagement, is_open_task())
            .join(TaskAssignee, TaskAssignee.task_id == Task.id)
            .where(Engagement.id == engagement_id, TaskAssignee.person_id == person_id)
            .order_by(Task.due_at, Task.id))


def is_assignee(task_id: int, person_id: int) -> Select[int]:
    return select(TaskAssignee.task_id).where(TaskAssignee.task_id == task_id, TaskAssignee.person_id == person_id)


def my_key_results(engagement_id: int, person_id: int) -> Select[KeyResult, Okr, Quarter]:
    """(key result, OKR, quarter) of the OKRs the person owns in quarters still open, none voided."""
    return (select(KeyResult, Okr, Quarter)
            .join(Okr, Okr.id == KeyResult.okr_id).join(Quarter, Quarter.id == Okr.quarter_id)
            .where(KeyResult.engagement_id == engagement_id, Okr.owner_id == person_id,
                   KeyResult.voided_at.is_(None), Okr.voided_at.is_(None), Quarter.voided_at.is_(None),
                   Quarter.closed_at.is_(None))
            .order_by(Quarter.starts_on.desc(), Okr.id, KeyResult.id))


def departments_led_by(organization_id: int, person_id: int) -> Select[Department]:
    return (select(Department).where(Department.organization_id == organization_id, Department.lead_id == person_id)
            .order_by(Department.name))


def members_of(department_ids: list[int]) -> Select[int, int, str]:
    """(department id, person id, name) of the departments' members."""
    return (select(PersonDepartment.department_id, Person.id, Person.name)
            .join(Person, Person.id == PersonDepartment.person_id)
            .where(PersonDepartment.department_id.in_(department_ids)).order_by(Person.name, Person.id))


def pulse_with_hash(token_hash: str) -> Select[Pulse]:
    return select(Pulse).where(Pulse.token_hash == token_hash)


def open_pulses_of(person_id: int) -> Select[Pulse]:
    return (select(Pulse).where(Pulse.person_id == person_id, Pulse.answered_at.is_(None))
            .order_by(Pulse.held_on, Pulse.id))


def pulses_of_engagement(engagement_id: int) -> Select[Pulse]:
    return (select(Pulse).where(Pulse.engagement_id == engagement_id)
            .order_by(Pulse.held_on, Pulse.record_kind, Pulse.record_id, Pulse.id))


def pulses_held_between(engagement_id: int, first: date, last: date) -> Select[Pulse]:
    """The engagement's pulses of the milestones held from ``first`` to ``last`` (both included)."""
    return (select(Pulse).where(Pulse.engagement_id == engagement_id, Pulse.held_on >= first, Pulse.held_on <= last)
            .order_by(Pulse.held_on, Pulse.record_kind, Pulse.record_id, Pulse.id))


def client_people_among(organization_id: int, ids: list[int]) -> Select[int]:
    """The ids among ``ids`` of people of the organization (the firm's coaches are left out)."""
    return select(Person.id).where(Person.organization_id == organization_id, Person.id.in_(ids))
