"""Every statement about organizations, their people and departments. Services run them; routers and pages
never build one. What a caller may see comes from ``okr_rollout.auth.visibility``."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, select

from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import organization_visibility
from okr_rollout.models import Department, Organization, Person, PersonDepartment

# --- organizations -----------------------------------------------------------------------------------------------


def organization_with_crm_id(crm_id: str, *, other_than: int | None = None) -> Select[int]:
    """The organization that holds a CRM id already (other than ``other_than``, the one being edited)."""
    statement = select(Organization.id).where(Organization.crm_id == crm_id)
    return statement if other_than is None else statement.where(Organization.id != other_than)


def organizations_page(caller: Caller, *, crm_id: str | None, after: int, limit: int) -> Select[Organization]:
    """One page of the organizations the caller sees, with one row more than ``limit``."""
    statement = select(Organization).where(organization_visibility(caller), Organization.id > after)
    if crm_id is not None:
        statement = statement.where(Organization.crm_id == crm_id)
    return statement.order_by(Organization.id).limit(limit + 1)


# --- people ------------------------------------------------------------------------------------------------------


def people_of(organization_id: int) -> Select[Person]:
    return select(Person).where(Person.organization_id == organization_id)


def people_page(organization_id: int, *, after: int, limit: int) -> Select[Person]:
    return people_of(organization_id).where(Person.id > after).order_by(Person.id).limit(limit + 1)


def memberships_of(person_ids: Collection[int]) -> Select[int, int]:
    """(person id, department id) of every membership of the people, by department."""
    return (select(PersonDepartment.person_id, PersonDepartment.department_id)
            .where(PersonDepartment.person_id.in_(list(person_ids))).order_by(PersonDepartment.department_id))


def department_ids_of_person(person_id: int) -> Select[int]:
    return select(PersonDepartment.department_id).where(PersonDepartment.person_id == person_id)


def memberships_of_person(person_id: int) -> Select[PersonDepartment]:
    return select(PersonDepartment).where(PersonDepartment.person_id == person_id)


# --- departments -------------------------------------------------------------------------------------------------


def departments_of(organization_id: int) -> Select[Department]:
    return select(Department).where(Department.organization_id == organization_id)


def departments_page(organization_id: int, *, after: int, limit: int) -> Select[Department]:
    return departments_of(organization_id).where(Department.id > after).order_by(Department.id).limit(limit + 1)


def departments_among(organization_id: int, department_ids: Collection[int]) -> Select[int]:
    """Which of ``department_ids`` are departments of the organization."""
    return select(Department.id).where(Department.id.in_(list(department_ids)),
                                       Department.organization_id == organization_id)


def department_named(organization_id: int, name: str) -> Select[int]:
    return select(Department.id).where(Department.organization_id == organization_id, Department.name == name)


def external_coaches() -> Select[Person]:
    """The coaching firm's people: of no client organization, reachable by e-mail."""
    return (select(Person).where(Person.organization_id.is_(None), Person.email.is_not(None))
            .order_by(Person.id))
