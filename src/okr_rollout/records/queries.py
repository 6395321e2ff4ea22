"""Every statement of the records (meetings, CEO support, training, drafting groups, appointments) and of the
checks that keep a record inside its organization. Services run them; routers and pages never build one."""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from sqlalchemy import Select, func, select

from okr_rollout.models import (
    Appointment,
    CeoSupportStatement,
    Department,
    DraftingGroup,
    EngagementCoach,
    Meeting,
    Organization,
    Person,
    PersonDepartment,
    TrainingSession,
)

Record = TypeVar("Record", Meeting, CeoSupportStatement, TrainingSession, DraftingGroup, Appointment)
# The records that are planned, held or cancelled.
Scheduled = TypeVar("Scheduled", Meeting, TrainingSession)


def records_page(model: type[Record], engagement_id: int, *, after: int, limit: int) -> Select[Record]:
    """One page of an engagement's records of one kind, oldest first, with one row more than ``limit`` to tell
    whether another page follows."""
    return (select(model).where(model.engagement_id == engagement_id, model.id > after)
            .order_by(model.id).limit(limit + 1))


def records_page_in_status(model: type[Scheduled], engagement_id: int, status: str, *, after: int, limit: int
                           ) -> Select[Scheduled]:
    """``records_page`` of the meetings or training sessions in one status (planned, held, cancelled)."""
    return records_page(model, engagement_id, after=after, limit=limit).where(model.status == status)


def organization_timezone(organization_id: int) -> Select[str]:
    return select(Organization.timezone).where(Organization.id == organization_id)


def organization_headcount(organization_id: int) -> Select[int]:
    return select(Organization.headcount).where(Organization.id == organization_id)


def people_among(organization_id: int, person_ids: Collection[int]) -> Select[int]:
    """Which of ``person_ids`` are people of the organization."""
    return select(Person.id).where(Person.id.in_(list(person_ids)), Person.organization_id == organization_id)


def coaches_among(engagement_id: int, person_ids: Collection[int]) -> Select[int]:
    """Which of ``person_ids`` are external coaches of the engagement."""
    return select(EngagementCoach.person_id).where(
        EngagementCoach.engagement_id == engagement_id, EngagementCoach.person_id.in_(list(person_ids)))


def appointment_id(engagement_id: int, person_id: int, role: str) -> Select[int]:
    """The appointment (not voided) of a person in a role, if there is one."""
    return select(Appointment.id).where(
        Appointment.engagement_id == engagement_id, Appointment.person_id == person_id, Appointment.role == role,
        Appointment.voided_at.is_(None))


# --- reads for the pages



def latest_records(model: type[Record], engagement_id: int, limit: int) -> Select[Record]:
    """The engagement's latest records of one kind, newest first."""
    return select(model).where(model.engagement_id == engagement_id).order_by(model.id.desc()).limit(limit)


def newest_records(model: type[Record], engagement_id: int, offset: int, limit: int) -> Select[Record]:
    """A page of the engagement's records of one kind, newest first (as the pages list them)."""
    return (select(model).where(model.engagement_id == engagement_id).order_by(model.id.desc())
            .offset(offset).limit(limit))


def records_count(model: type[Record], engagement_id: int) -> Select[int]:
    return select(func.count()).select_from(model).where(model.engagement_id == engagement_id)


def appointment_of(engagement_id: int, person_id: int, role: str) -> Select[Appointment]:
    """The appointment (not voided) of a person in a role, if there is one."""
    return select(Appointment).where(Appointment.engagement_id == engagement_id, Appointment.person_id == person_id,
                                     Appointment.role == role, Appointment.voided_at.is_(None))


# --- who attends: what the attendee rule of a meeting kind reads ----------------------------------------------


def roles_among(organization_id: int, person_ids: Collection[int]) -> Select[int, list[str]]:
    """The roles of those of ``person_ids`` who are people of the organization."""
    return select(Person.id, Person.roles).where(Person.id.in_(list(person_ids)),
                                                 Person.organization_id == organization_id)


def departments_led_by(organization_id: int, person_ids: Collection[int]) -> Select[int | None, int]:
    return select(Department.lead_id, Department.id).where(Department.organization_id == organization_id,
                                                           Department.lead_id.in_(list(person_ids)))


def memberships_of(person_ids: Collection[int]) -> Select[int, int]:
    return select(PersonDepartment.person_id, PersonDepartment.department_id).where(
        PersonDepartment.person_id.in_(list(person_ids)))


def appointed_among(engagement_id: int, person_ids: Collection[int]) -> Select[int, str]:
    return select(Appointment.person_id, Appointment.role).where(
        Appointment.engagement_id == engagement_id, Appointment.person_id.in_(list(person_ids)),
        Appointment.voided_at.is_(None))
