"""Organizations, their people and departments. Flushes, never commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.auth.visibility import visible_organization
from okr_rollout.errors import Conflict, NotFound, Unprocessable, field_error, not_found
from okr_rollout.events import service as events
from okr_rollout.models import Department, Organization, Person, PersonDepartment
from okr_rollout.organizations import queries
from okr_rollout.organizations.schemas import (
    DepartmentCreate,
    DepartmentUpdate,
    OrganizationCreate,
    OrganizationUpdate,
    PersonCreate,
    PersonOut,
    PersonUpdate,
)
from okr_rollout.texts import LocalizedText


def _require_writer(caller: Caller, organization_id: int | None = None) -> None:
    if organization_id is None and not caller.may_create_organizations:
        raise NotFound(LocalizedText("Only administrators and integrations create organizations.",
                                     "只有管理員與系統整合可以建立組織。"))


# The id a CRM looks an organization up by: written by the CRM (an integration) or an administrator, never by
# the coaches of one organization, who could otherwise re-point the CRM's records.
CRM_ID_WRITERS = (Role.admin, Role.integration)


def _crm_id_in_use() -> Conflict:
    """Neither the organization holding it nor its name, nor even the value: only that it is taken (the value
    may be another tenant's)."""
    return Conflict(LocalizedText("This crm_id is already in use.", "此 crm_id 已被使用。"),
                    errors=[field_error("body.crm_id", LocalizedText("is already in use", "已被使用"), "unique")])


def not_null(field: str) -> Unprocessable:
    return Unprocessable(LocalizedText(f"{field} may not be null.", f"{field} 不可為 null。"),
                         errors=[field_error(field, LocalizedText("may not be null", "不可為 null"), "null")])


def foreign_lead() -> Unprocessable:
    message = LocalizedText("not a person of this organization", "不是此組織的人員")
    return Unprocessable(LocalizedText(f"body.lead_id: {message.en}.", f"body.lead_id:{message.zh_tw}。"),
                         errors=[field_error("body.lead_id", message, "foreign_organization")])


def create_organization(session: Session, caller: Caller, data: OrganizationCreate, now: datetime) -> Organization:
    _require_writer(caller)
    if data.crm_id and session.scalar(queries.organization_with_crm_id(data.crm_id)):
        raise _crm_id_in_use()
    organization = Organization(**data.model_dump(), created_at=now, updated_at=now)
    session.add(organization)
    session.flush()
    events.append(session, type="organization.created", actor=caller.actor, at=now,
                  organization_id=organization.id, payload={"name": organization.name})
    return organization


def list_organizations(
    session: Session, caller: Caller, *, crm_id: str | None, after: int, limit: int
) -> list[Organization]:
    return list(session.scalars(queries.organizations_page(caller, crm_id=crm_id, after=after, limit=limit)))


def update_organization(
    session: Session, caller: Caller, organization: Organization, data: OrganizationUpdate, now: datetime
) -> Organization:
    changes = data.model_dump(exclude_unset=True)
    for field in ("name", "headcount", "timezone", "strategies", "challenges"):
        if field in changes and changes[field] is None:
            raise not_null(f"body.{field}")
    if "crm_id" in changes and changes["crm_id"] != organization.crm_id and caller.role not in CRM_ID_WRITERS:
        # A client that sends back what it read (the same crm_id) is not refused: only a change is.
        message = LocalizedText("may be changed only by an administrator or an integration",
                                "只有管理員或系統整合可以變更")
        raise Unprocessable(LocalizedText(f"body.crm_id {message.en}.", f"body.crm_id {message.zh_tw}。"),
                            errors=[field_error("body.crm_id", message, "admin_only")])
    if changes.get("crm_id") and session.scalar(
        queries.organization_with_crm_id(changes["crm_id"], other_than=organization.id)
    ):
        raise _crm_id_in_use()
    changed = {k: v for k, v in changes.items() if getattr(organization, k) != v}
    for field, value in changed.items():
        setattr(organization, field, value)
    if changed:
        organization.updated_at = now
        session.flush()
        events.append(session, type="organization.updated", actor=caller.actor, at=now,
                      organization_id=organization.id, payload={"changed": sorted(changed)})
    return organization


def _may_record(caller: Caller) -> None:
    if caller.role not in (Role.admin, Role.integration, Role.coach, Role.internal_coach):
        raise not_found(LocalizedText("organization for you to record on", "可供您記錄的組織"))


def create_person(
    session: Session, caller: Caller, organization_id: int, data: PersonCreate, now: datetime
) -> PersonOut:
    organization = visible_organization(session, caller, organization_id)
    _may_record(caller)
    department_ids = _own_departments(session, organization.id, data.department_ids)
    person = Person(organization_id=organization.id, name=data.name, email=data.email,
                    roles=sorted(set(data.roles)), locale=data.locale, created_at=now)
    session.add(person)
    session.flush()
    session.add_all(PersonDepartment(person_id=person.id, department_id=d) for d in department_ids)
    session.flush()
    events.append(session, type="person.created", actor=caller.actor, at=now, organization_id=organization.id,
                  payload={"person_id": person.id, "roles": person.roles, "department_ids": department_ids})
    return person_out(person, department_ids)


def _own_departments(session: Session, organization_id: int, requested: list[int]) -> list[int]:
    department_ids = sorted(set(requested))
    if department_ids:
        found = set(session.scalars(queries.departments_among(organization_id, department_ids)))
        strangers = [index for index, d in enumerate(requested) if d not in found]
        if strangers:
            where = [f"body.department_ids[{index}]" for index in strangers]
            message = LocalizedText("not a department of this organization", "不是此組織的部門")
            raise Unprocessable(
                LocalizedText(f"{', '.join(where)}: {message.en}.", f"{'、'.join(where)}:{message.zh_tw}。"),
                errors=[field_error(field, message, "foreign_organization") for field in where],
            )
    return department_ids


def update_person(
    session: Session, caller: Caller, organization_id: int, person_id: int, data: PersonUpdate, now: datetime,
    if_match: Callable[[int], None],
) -> PersonOut:
    """Correct a person's details, roles, or the departments they belong to (a lead joining their department)."""
    organization = visible_organization(session, caller, organization_id)
    _may_record(caller)
    person = session.get(Person, person_id)
    if person is None or person.organization_id != organization.id:
        raise not_found(LocalizedText("person in this organization", "此組織的人員"))
    if_match(person.version)
    changes = data.model_dump(exclude_unset=True)
    for field in ("name", "roles", "department_ids", "locale"):
        if field in changes and changes[field] is None:
            raise not_null(f"body.{field}")
    current = sorted(session.scalars(queries.department_ids_of_person(person.id)))
    changed: list[str] = []
    if "department_ids" in changes:
        wanted = _own_departments(session, organization.id, changes.pop("department_ids"))
        if wanted != current:
            for membership in session.scalars(queries.memberships_of_person(person.id)):
                if membership.department_id not in wanted:
                    session.delete(membership)
            session.add_all(PersonDepartment(person_id=person.id, department_id=d) for d in wanted if d not in current)
            current = wanted
            changed.append("department_ids")
    if "roles" in changes:
        changes["roles"] = sorted(set(changes["roles"]))
    for name, value in changes.items():
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed.append(name)
    if changed:
        if "department_ids" in changed and len(changed) == 1:
            flag_modified(person, "roles")  # a change of membership is a change of the person: its version moves
        session.flush()
        events.append(session, type="person.updated", actor=caller.actor, at=now, organization_id=organization.id,
                      payload={"person_id": person.id, "changed": sorted(changed), "department_ids": current})
    return person_out(person, current)


def person_out(person: Person, department_ids: list[int]) -> PersonOut:
    return PersonOut(id=person.id, organization_id=person.organization_id, name=person.name, email=person.email,
                     roles=list(person.roles), department_ids=department_ids, locale=person.locale,
                     version=person.version)


def list_people(session: Session, caller: Caller, organization_id: int, *, after: int, limit: int) -> list[PersonOut]:
    visible_organization(session, caller, organization_id)
    people = list(session.scalars(queries.people_page(organization_id, after=after, limit=limit)))
    memberships: dict[int, list[int]] = {p.id: [] for p in people}
    if people:
        for person_id, department_id in session.execute(queries.memberships_of(list(memberships))):
            memberships[person_id].append(department_id)
    return [person_out(p, memberships[p.id]) for p in people]


def create_department(
    session: Session, caller: Caller, organization_id: int, data: DepartmentCreate, now: datetime
) -> Department:
    organization = visible_organization(session, caller, organization_id)
    _may_record(caller)
    if data.lead_id is not None:
        lead = session.get(Person, data.lead_id)
        if lead is None or lead.organization_id != organization.id:
            raise foreign_lead()
    if session.scalar(queries.department_named(organization.id, data.name)):
        raise Conflict(LocalizedText(f"The organization already has a department named {data.name}.",
                                     f"此組織已有名為 {data.name} 的部門。"))
    department = Department(organization_id=organization.id, name=data.name, is_pilot=data.is_pilot,
                            lead_id=data.lead_id, created_at=now)
    session.add(department)
    session.flush()
    events.append(session, type="department.created", actor=caller.actor, at=now, organization_id=organization.id,
                  payload={"department_id": department.id, "is_pilot": department.is_pilot})
    return department


def update_department(
    session: Session, caller: Caller, organization_id: int, department_id: int, data: DepartmentUpdate,
    now: datetime, if_match: Callable[[int], None],
) -> Department:
    """Rename a department, choose it as a pilot (or not), or change its lead."""
    organization = visible_organization(session, caller, organization_id)
    _may_record(caller)
    department = session.get(Department, department_id)
    if department is None or department.organization_id != organization.id:
        raise not_found(LocalizedText("department in this organization", "此組織的部門"))
    if_match(department.version)
    changes = data.model_dump(exclude_unset=True)
    for flag in ("name", "is_pilot"):
        if flag in changes and changes[flag] is None:
            raise not_null(f"body.{flag}")
    if changes.get("lead_id") is not None:
        lead = session.get(Person, changes["lead_id"])
        if lead is None or lead.organization_id != organization.id:
            raise foreign_lead()
    if "name" in changes and changes["name"] != department.name and session.scalar(
            queries.department_named(organization.id, changes["name"])):
        raise Conflict(LocalizedText(f"The organization already has a department named {changes['name']}.",
                                     f"此組織已有名為 {changes['name']} 的部門。"))
    changed = sorted(k for k, v in changes.items() if getattr(department, k) != v)
    for name in changed:
        setattr(department, name, changes[name])
    if changed:
        session.flush()
        events.append(session, type="department.updated", actor=caller.actor, at=now,
                      organization_id=organization.id,
                      payload={"department_id": department.id, "changed": changed, "is_pilot": department.is_pilot})
    return department


def list_departments(
    session: Session, caller: Caller, organization_id: int, *, after: int, limit: int
) -> list[Department]:
    visible_organization(session, caller, organization_id)
    return list(session.scalars(queries.departments_page(organization_id, after=after, limit=limit)))
