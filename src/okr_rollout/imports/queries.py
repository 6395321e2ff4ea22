"""The statements of CSV imports that no other domain owns: batch inserts, the engagement OKRs go into, the OKR
a row matches. People, departments, quarters and key results are read through their own domains' queries."""

from __future__ import annotations

from sqlalchemy import Insert, Select, insert, select
from sqlalchemy.sql.dml import ReturningInsert

from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import engagement_visibility
from okr_rollout.models import Department, Engagement, Okr, Person, PersonDepartment


def insert_people() -> ReturningInsert[int]:
    """A batch insert of people (one parameter set each), returning their ids in the order given."""
    return insert(Person).returning(Person.id, sort_by_parameter_order=True)


def insert_memberships() -> Insert:
    return insert(PersonDepartment)


def engagements_for_import(caller: Caller, organization_id: int, engagement_id: int | None = None
                           ) -> Select[Engagement]:
    """The organization's engagements the caller sees (only ``engagement_id`` when given), oldest first."""
    statement = select(Engagement).where(Engagement.organization_id == organization_id, engagement_visibility(caller))
    if engagement_id is not None:
        statement = statement.where(Engagement.id == engagement_id)
    return statement.order_by(Engagement.id)


def matching_okr(quarter_id: int, objective: str, owner_id: int | None, department_id: int | None) -> Select[Okr]:
    """The first OKR of the quarter with this objective, owner and department (either may be none)."""
    return select(Okr).where(
        Okr.quarter_id == quarter_id, Okr.objective == objective,
        Okr.owner_id.is_(None) if owner_id is None else Okr.owner_id == owner_id,
        Okr.department_id.is_(None) if department_id is None else Okr.department_id == department_id,
    ).order_by(Okr.id).limit(1)


def department_ids_by_name(organization_id: int) -> Select[str, int]:
    return select(Department.name, Department.id).where(Department.organization_id == organization_id)
