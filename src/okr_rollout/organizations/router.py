"""/api/v1/organizations: thin handlers (parse, authorize, call the service, shape)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response, status

from okr_rollout.api.deps import CallerDep, Cursor, IfMatch, Limit, NowDep, SessionDep, check_if_match, set_etag
from okr_rollout.api.pagination import Page
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES
from okr_rollout.auth.visibility import visible_organization
from okr_rollout.organizations import service
from okr_rollout.organizations.schemas import (
    DepartmentCreate,
    DepartmentOut,
    DepartmentUpdate,
    OrganizationCreate,
    OrganizationOut,
    OrganizationUpdate,
    PersonCreate,
    PersonOut,
    PersonUpdate,
)

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"],
                   responses={**COMMON_RESPONSES, **WRITE_RESPONSES})


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrganizationOut)
def create_organization(
    data: OrganizationCreate, session: SessionDep, caller: CallerDep, now: NowDep, response: Response
) -> OrganizationOut:
    organization = service.create_organization(session, caller, data, now)
    set_etag(response, organization.version)
    response.headers["Location"] = f"/api/v1/organizations/{organization.id}"
    return OrganizationOut.model_validate(organization)


@router.get("", response_model=Page[OrganizationOut])
def list_organizations(
    session: SessionDep,
    caller: CallerDep,
    cursor: Cursor, limit: Limit = 50,
    crm_id: str | None = Query(None, description="Find the organization your CRM knows by this id."),
) -> Page[OrganizationOut]:
    rows = service.list_organizations(session, caller, crm_id=crm_id, after=cursor.after, limit=limit)
    return cursor.page([OrganizationOut.model_validate(o) for o in rows], [o.id for o in rows], limit)


@router.get("/{organization_id}", response_model=OrganizationOut)
def get_organization(organization_id: int, session: SessionDep, caller: CallerDep, response: Response
                     ) -> OrganizationOut:
    organization = visible_organization(session, caller, organization_id)
    set_etag(response, organization.version)
    return OrganizationOut.model_validate(organization)


@router.patch("/{organization_id}", response_model=OrganizationOut)
def update_organization(
    organization_id: int,
    data: OrganizationUpdate,
    session: SessionDep,
    caller: CallerDep,
    now: NowDep,
    response: Response,
    if_match: IfMatch = None,
) -> OrganizationOut:
    organization = visible_organization(session, caller, organization_id)
    check_if_match(if_match, organization.version)
    organization = service.update_organization(session, caller, organization, data, now)
    set_etag(response, organization.version)
    return OrganizationOut.model_validate(organization)


@router.post("/{organization_id}/people", status_code=status.HTTP_201_CREATED, response_model=PersonOut)
def create_person(organization_id: int, data: PersonCreate, session: SessionDep, caller: CallerDep, now: NowDep,
                  response: Response) -> PersonOut:
    person = service.create_person(session, caller, organization_id, data, now)
    set_etag(response, person.version)
    return person


@router.get("/{organization_id}/people", response_model=Page[PersonOut])
def list_people(organization_id: int, session: SessionDep, caller: CallerDep, cursor: Cursor,
                limit: Limit = 50) -> Page[PersonOut]:
    people = service.list_people(session, caller, organization_id, after=cursor.after, limit=limit)
    return cursor.page(people, [p.id for p in people], limit)


@router.post("/{organization_id}/departments", status_code=status.HTTP_201_CREATED, response_model=DepartmentOut)
def create_department(organization_id: int, data: DepartmentCreate, session: SessionDep, caller: CallerDep,
                      now: NowDep, response: Response) -> DepartmentOut:
    department = service.create_department(session, caller, organization_id, data, now)
    set_etag(response, department.version)
    return DepartmentOut.model_validate(department)


@router.get("/{organization_id}/departments", response_model=Page[DepartmentOut])
def list_departments(organization_id: int, session: SessionDep, caller: CallerDep, cursor: Cursor,
                     limit: Limit = 50) -> Page[DepartmentOut]:
    rows = service.list_departments(session, caller, organization_id, after=cursor.after, limit=limit)
    return cursor.page([DepartmentOut.model_validate(d) for d in rows], [d.id for d in rows], limit)


@router.patch("/{organization_id}/departments/{department_id}", response_model=DepartmentOut)
def update_department(organization_id: int, department_id: int, data: DepartmentUpdate, session: SessionDep,
                      caller: CallerDep, now: NowDep, response: Response, if_match: IfMatch = None) -> DepartmentOut:
    department = service.update_department(session, caller, organization_id, department_id, data, now,
                                           lambda version: check_if_match(if_match, version))
    set_etag(response, department.version)
    return DepartmentOut.model_validate(department)


@router.patch("/{organization_id}/people/{person_id}", response_model=PersonOut)
def update_person(organization_id: int, person_id: int, data: PersonUpdate, session: SessionDep, caller: CallerDep,
                  now: NowDep, response: Response, if_match: IfMatch = None) -> PersonOut:
    person = service.update_person(session, caller, organization_id, person_id, data, now,
                                   lambda version: check_if_match(if_match, version))
    set_etag(response, person.version)
    return person
