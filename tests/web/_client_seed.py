"""Client people on top of the page tests' world: a pilot department with its lead and a member who owns a key
result this quarter, and tasks of the current phase for the member and for the CEO."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, select

from okr_rollout.cycles import service as cycles
from okr_rollout.cycles.schemas import KeyResultCreate, OkrCreate, QuarterCreate
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.engagements import tasks as engagements
from okr_rollout.journey.machine import TaskToCreate
from okr_rollout.models import Engagement, KeyResult
from okr_rollout.organizations import service as organizations
from okr_rollout.organizations.schemas import DepartmentCreate, PersonCreate
from okr_rollout.records.context import context
from okr_rollout.texts import LocalizedText
from tests.web._seed import ADMIN, World, catalog


@dataclass(frozen=True)
class ClientWorld:
    member_id: int
    lead_id: int
    department_id: int
    key_result_id: int
    member_task_id: int
    ceo_task_id: int
    keelung_person_id: int


def seed_clients(engine: Engine, world: World, now: datetime, *, member_locale: str = "en") -> ClientWorld:
    books = catalog()
    with session_scope(make_session_factory(engine)) as session:
        lead = organizations.create_person(session, ADMIN, world.formosa_org, PersonCreate(
            name="Hsu Lead", roles=["department_lead"]), now)
        department = organizations.create_department(session, ADMIN, world.formosa_org, DepartmentCreate(
            name="Sales", is_pilot=True, lead_id=lead.id), now)
        member = organizations.create_person(session, ADMIN, world.formosa_org, PersonCreate(
            name="Kao Member", roles=["member"], department_ids=[department.id], locale=member_locale), now)
        organizations.create_person(session, ADMIN, world.formosa_org, PersonCreate(
            name="Lead Again", roles=["member"], department_ids=[department.id]), now)
        engagement = session.get(Engagement, world.formosa)
        assert engagement is not None
        keelung = session.get(Engagement, world.keelung)
        assert keelung is not None
        other = organizations.create_person(session, ADMIN, keelung.organization_id, PersonCreate(
            name="Keelung Person", roles=["member"]), now)
        ctx = context(session, ADMIN, books, world.formosa, now)
        quarter, _ = cycles.create_quarter(ctx, QuarterCreate(label="2026 Q1", starts_on=date(2026, 1, 1),
                                                              ends_on=date(2026, 3, 31)))
        okr = cycles.create_okr(ctx, quarter, OkrCreate(objective="Sell more bikes abroad", owner_id=member.id,
                                                        key_results=[KeyResultCreate(metric="Export orders",
                                                                                     start=0, target=40)]))
        kr_id = session.scalar(select(KeyResult.id).where(KeyResult.okr_id == okr.id))
        assert kr_id is not None
        due = now + timedelta(days=7)
        member_task, ceo_task = engagements.create_tasks(session, world.formosa, [
            TaskToCreate(engagement.phase, "first_check_in_test", LocalizedText("Make your first weekly check-in",
                                                                                "完成第一次每週進度更新"),
                         "pilot_member", due, (("open_page", LocalizedText("Open your page", "開啟您的頁面")),)),
            TaskToCreate(engagement.phase, "appoint_test", LocalizedText("Appoint the internal coaches",
                                                                         "指定內部教練"), "ceo", due, ()),
        ], now, ctx.playbook)
        return ClientWorld(member.id, lead.id, department.id, kr_id, member_task, ceo_task, other.id)
