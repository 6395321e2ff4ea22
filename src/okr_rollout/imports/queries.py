"""The statements of CSV imports that no other domain owns: batch inserts, the engagement OKRs go into, the OKR
a row matches, and the import jobs' own rows. Quarters are read through their own domain's queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Insert, Select, Update, insert, select, update
from sqlalchemy.sql.dml import ReturningInsert

from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import engagement_visibility, organization_visibility
from okr_rollout.models import Department, Engagement, ImportJob, KeyResult, Okr, Organization, Person, PersonDepartment


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


def department_ids_by_name(organization_id: int) -> Select[str, int]:
    return select(Department.name, Department.id).where(Department.organization_id == organization_id)


def insert_departments() -> ReturningInsert[int]:
    return insert(Department).returning(Department.id, sort_by_parameter_order=True)


def people_for_import(organization_id: int) -> Select[int, str, str | None, list[str]]:
    """(id, name, e-mail, roles) of the organization's people, oldest first."""
    return (select(Person.id, Person.name, Person.email, Person.roles)
            .where(Person.organization_id == organization_id).order_by(Person.id))


def memberships_in_organization(organization_id: int) -> Select[int, int]:
    """(person id, department id) of every membership of the organization's people."""
    return (select(PersonDepartment.person_id, PersonDepartment.department_id)
            .join(Person, Person.id == PersonDepartment.person_id).where(Person.organization_id == organization_id))


def people_by_id(person_ids: list[int]) -> Select[Person]:
    return select(Person).where(Person.id.in_(person_ids))


def insert_okrs() -> ReturningInsert[int]:
    return insert(Okr).returning(Okr.id, sort_by_parameter_order=True)


def insert_key_results() -> ReturningInsert[int]:
    return insert(KeyResult).returning(KeyResult.id, sort_by_parameter_order=True)


def okrs_for_import(engagement_id: int) -> Select[int, int, str, int | None, int | None]:
    """(id, quarter, objective, owner, department) of the engagement's OKRs, oldest first."""
    return (select(Okr.id, Okr.quarter_id, Okr.objective, Okr.owner_id, Okr.department_id)
            .where(Okr.engagement_id == engagement_id).order_by(Okr.id))


def key_results_for_import(engagement_id: int) -> Select[int, int, str, float, float, str]:
    """(id, OKR, metric, start, target, unit) of the engagement's key results, oldest first."""
    return (select(KeyResult.id, KeyResult.okr_id, KeyResult.metric, KeyResult.start_value, KeyResult.target_value,
                   KeyResult.unit).where(KeyResult.engagement_id == engagement_id).order_by(KeyResult.id))


def key_results_by_id(key_result_ids: list[int]) -> Select[KeyResult]:
    return select(KeyResult).where(KeyResult.id.in_(key_result_ids))


# --- import jobs -------------------------------------------------------------------------------------------------


def visible_job(caller: Caller, job_id: int) -> Select[ImportJob]:
    return (select(ImportJob).join(Organization, Organization.id == ImportJob.organization_id)
            .where(ImportJob.id == job_id, organization_visibility(caller)))


def job(job_id: int) -> Select[ImportJob]:
    return select(ImportJob).where(ImportJob.id == job_id)


def record_progress(job_id: int, values: dict[str, object]) -> Update:
    return update(ImportJob).where(ImportJob.id == job_id).values(**values)


def interrupted_jobs(stale_before: datetime) -> Select[int]:
    """Jobs not ended whose process has given no sign of life since ``stale_before``: it died."""
    return select(ImportJob.id).where(ImportJob.status.in_(("queued", "running")),
                                      ImportJob.heartbeat_at < stale_before).order_by(ImportJob.id)


def claim_interrupted(job_id: int, stale_before: datetime, now: datetime) -> Update:
    """Take over an interrupted job; it matches no row when another process took it first."""
    return (update(ImportJob).where(ImportJob.id == job_id, ImportJob.status.in_(("queued", "running")),
                                    ImportJob.heartbeat_at < stale_before)
            .values(heartbeat_at=now))
